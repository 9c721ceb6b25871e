#!/bin/sh
# Installs mcpauth for the current user, with its shell completions and man pages: built
# from source when this is a checkout and cargo is here, else the release archive for
# this platform, downloaded and checked against its SHA-256 sum.
#
#   ./install.sh              install into ~/.local/bin (or $MCPAUTH_INSTALL_DIR)
#   ./install.sh --uninstall  remove what an earlier run installed
#   curl -fsSL https://github.com/mcpauth/mcpauth/releases/latest/download/install.sh | sh
#
# Completions go where each shell looks for a user's own: bash-completion's
# ${XDG_DATA_HOME:-~/.local/share}/bash-completion/completions (when bash is here),
# ~/.local/share/zsh/site-functions (when that directory exists: it must be on zsh's
# fpath), ~/.config/fish/completions (when fish or its config directory is here). Man
# pages go to ~/.local/share/man/man1, which man finds from ~/.local/bin on PATH.
#
# From source: MCPAUTH_BUILD_PROFILE picks the cargo profile (default release; tests use
# dev to reuse their build).
# From a release: MCPAUTH_VERSION picks one (e.g. 0.2.0; default the latest), and
# MCPAUTH_DOWNLOAD_URL replaces the address of the release's files (a mirror; https, or
# http on this machine only).
# Safe to run twice: a second run replaces every file in place.
set -eu

cd "$(dirname "$0")"
home="${HOME:?HOME is not set}"
bin_dir="${MCPAUTH_INSTALL_DIR:-$home/.local/bin}"
target="$bin_dir/mcpauth"
data_home="${XDG_DATA_HOME:-$home/.local/share}"
bash_dir="$data_home/bash-completion/completions"
zsh_dir="$home/.local/share/zsh/site-functions"
fish_dir="${XDG_CONFIG_HOME:-$home/.config}/fish/completions"
man_dir="$home/.local/share/man/man1"
profile="${MCPAUTH_BUILD_PROFILE:-release}"

# Removes one file when it is there, and says so.
remove() {
    if [ -e "$1" ]; then
        rm -f "$1"
        echo "removed $1"
    fi
}

# Copies $1 to $2 through a temporary name in the same directory, so that nothing ever
# sees half a file.
put() {
    mkdir -p "$(dirname "$2")"
    cp "$1" "$2.new"
    chmod "$3" "$2.new"
    mv -f "$2.new" "$2"
    echo "installed $2"
}

case "${1:-}" in
--uninstall)
    if [ -e "$target" ]; then
        remove "$target"
    else
        echo "nothing to remove: $target does not exist"
    fi
    remove "$bash_dir/mcpauth"
    remove "$zsh_dir/_mcpauth"
    remove "$fish_dir/mcpauth.fish"
    for page in "$man_dir"/mcpauth.1 "$man_dir"/mcpauth-*.1; do
        remove "$page"
    done
    exit 0
    ;;
"") ;;
*)
    echo "usage: ./install.sh [--uninstall]" >&2
    exit 2
    ;;
esac

# Prints the release target for this machine, or fails saying there is none.
release_target() {
    os=$(uname -s)
    arch=$(uname -m)
    case "$os-$arch" in
    Linux-x86_64 | Linux-amd64) echo x86_64-unknown-linux-musl ;;
    Linux-aarch64 | Linux-arm64) echo aarch64-unknown-linux-musl ;;
    Darwin-arm64 | Darwin-aarch64) echo aarch64-apple-darwin ;;
    Darwin-x86_64) echo x86_64-apple-darwin ;;
    *)
        echo "install.sh: there is no prebuilt mcpauth for $os $arch; install Rust (https://rustup.rs) and run this from a checkout to build it" >&2
        return 1
        ;;
    esac
}

# Downloads $1 to the file $2. Refuses plain http except to this machine: the checksum
# comes from the same place, so it guards against damage, not against a network attacker.
fetch() {
    case "$1" in
    https://*) ;;
    http://127.0.0.1[:/]* | http://localhost[:/]* | "http://[::1]"[:/]*) ;;
    *)
        echo "install.sh: refusing to download over anything but https: $1" >&2
        return 1
        ;;
    esac
    if command -v curl >/dev/null 2>&1; then
        curl --fail --silent --show-error --location --proto '=https,http' \
            --max-filesize 200000000 --output "$2" "$1"
    elif command -v wget >/dev/null 2>&1; then
        wget --quiet --output-document "$2" "$1"
    else
        echo "install.sh: curl or wget is needed to download mcpauth" >&2
        return 1
    fi || {
        echo "install.sh: could not download $1" >&2
        return 1
    }
}

# The SHA-256 of the file $1, in lowercase hex.
sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d ' ' -f 1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d ' ' -f 1
    else
        echo "install.sh: sha256sum or shasum is needed to check the download" >&2
        return 1
    fi
}

# A checkout builds from source when it can; anything else installs a release.
if [ -f Cargo.toml ] && grep -q '^name = "mcpauth"$' Cargo.toml && command -v cargo >/dev/null 2>&1; then
    cargo build --profile "$profile" --locked
    # cargo names the dev profile's directory `debug`.
    case "$profile" in
    dev) out_dir=debug ;;
    *) out_dir="$profile" ;;
    esac
    binary="${CARGO_TARGET_DIR:-target}/$out_dir/mcpauth"
    files=.
else
    release=$(release_target)
    version="${MCPAUTH_VERSION:-latest}"
    case "$version" in
    latest) default_url=https://github.com/mcpauth/mcpauth/releases/latest/download ;;
    *) default_url="https://github.com/mcpauth/mcpauth/releases/download/v${version#v}" ;;
    esac
    base="${MCPAUTH_DOWNLOAD_URL:-$default_url}"
    archive="mcpauth-$release.tar.gz"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    echo "downloading $base/$archive"
    fetch "$base/$archive" "$work/$archive"
    fetch "$base/$archive.sha256" "$work/$archive.sha256"
    expected=$(cut -d ' ' -f 1 <"$work/$archive.sha256" | head -n 1 | tr 'A-F' 'a-f')
    actual=$(sha256_of "$work/$archive")
    if [ "$expected" != "$actual" ]; then
        echo "install.sh: $archive does not match its checksum (expected ${expected:-nothing}, got $actual); nothing was installed" >&2
        exit 1
    fi
    tar -xzf "$work/$archive" -C "$work"
    files="$work/mcpauth-$release"
    binary="$files/mcpauth"
    if ! "$binary" --version >/dev/null 2>&1; then
        echo "install.sh: the downloaded mcpauth does not run on this machine; nothing was installed" >&2
        exit 1
    fi
fi
put "$binary" "$target" 0755

# The completions and pages: the checkout's (which a test keeps equal to what its source
# renders), or the release's.
if command -v bash >/dev/null 2>&1; then
    put "$files/completions/mcpauth.bash" "$bash_dir/mcpauth" 0644
fi
if [ -d "$zsh_dir" ]; then
    put "$files/completions/_mcpauth" "$zsh_dir/_mcpauth" 0644
fi
if command -v fish >/dev/null 2>&1 || [ -d "$(dirname "$fish_dir")" ]; then
    put "$files/completions/mcpauth.fish" "$fish_dir/mcpauth.fish" 0644
fi
for page in "$files"/man/*.1; do
    put "$page" "$man_dir/$(basename "$page")" 0644
done

case ":${PATH:-}:" in
*":$bin_dir:"*) ;;
*) echo "note: $bin_dir is not on your PATH; add it, e.g. export PATH=\"$bin_dir:\$PATH\"" ;;
esac
