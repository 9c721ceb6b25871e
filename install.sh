#!/bin/sh
# Builds mcpauth from source with cargo and installs it for the current user.
#
#   ./install.sh              build and install into ~/.local/bin (or $MCPAUTH_INSTALL_DIR)
#   ./install.sh --uninstall  remove what an earlier run installed
#
# Safe to run twice: a second run replaces the binary in place.
set -eu

cd "$(dirname "$0")"
bin_dir="${MCPAUTH_INSTALL_DIR:-${HOME:?HOME is not set}/.local/bin}"
target="$bin_dir/mcpauth"

case "${1:-}" in
--uninstall)
    if [ -e "$target" ]; then
        rm -f "$target"
        echo "removed $target"
    else
        echo "nothing to remove: $target does not exist"
    fi
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

cargo build --release --locked
mkdir -p "$bin_dir"
# Copy then rename, so a running mcpauth is never left with a half-written binary.
cp target/release/mcpauth "$target.new"
chmod 0755 "$target.new"
mv -f "$target.new" "$target"
echo "installed $target"

case ":${PATH:-}:" in
*":$bin_dir:"*) ;;
*) echo "note: $bin_dir is not on your PATH; add it, e.g. export PATH=\"$bin_dir:\$PATH\"" ;;
esac
