#!/bin/sh
# Builds mcpauth from source with cargo and installs it for the current user, with its
# shell completions and man pages.
#
#   ./install.sh              build and install into ~/.local/bin (or $MCPAUTH_INSTALL_DIR)
#   ./install.sh --uninstall  remove what an earlier run installed
#
# Completions go where each shell looks for a user's own: bash-completion's
# ${XDG_DATA_HOME:-~/.local/share}/bash-completion/completions (when bash is here),
# ~/.local/share/zsh/site-functions (when that directory exists: it must be on zsh's
# fpath), ~/.config/fish/completions (when fish or its config directory is here). Man
# pages go to ~/.local/share/man/man1, which man finds from ~/.local/bin on PATH.
#
# MCPAUTH_BUILD_PROFILE picks the cargo profile (default release; tests use dev to reuse
# their build). Safe to run twice: a second run replaces every file in place.
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
    for page in man/*.1; do
        remove "$man_dir/$(basename "$page")"
    done
    exit 0
    ;;
"") ;;
*)
    echo "usage: ./install.sh [--uninstall]" >&2
    exit 2
    ;;
esac

if ! command -v cargo >/dev/null 2>&1; then
    echo "install.sh: cargo is needed to build mcpauth (https://rustup.rs)" >&2
    exit 1
fi

cargo build --profile "$profile" --locked
# cargo names the dev profile's directory `debug`.
case "$profile" in
dev) out_dir=debug ;;
*) out_dir="$profile" ;;
esac
put "${CARGO_TARGET_DIR:-target}/$out_dir/mcpauth" "$target" 0755

# The completions and pages are the committed ones, which a test keeps equal to what this
# very source renders.
if command -v bash >/dev/null 2>&1; then
    put completions/mcpauth.bash "$bash_dir/mcpauth" 0644
fi
if [ -d "$zsh_dir" ]; then
    put completions/_mcpauth "$zsh_dir/_mcpauth" 0644
fi
if command -v fish >/dev/null 2>&1 || [ -d "$(dirname "$fish_dir")" ]; then
    put completions/mcpauth.fish "$fish_dir/mcpauth.fish" 0644
fi
for page in man/*.1; do
    put "$page" "$man_dir/$(basename "$page")" 0644
done

case ":${PATH:-}:" in
*":$bin_dir:"*) ;;
*) echo "note: $bin_dir is not on your PATH; add it, e.g. export PATH=\"$bin_dir:\$PATH\"" ;;
esac
