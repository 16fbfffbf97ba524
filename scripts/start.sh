#!/usr/bin/env bash
# Runs Sluice on its embedded default. Until the agent and dashboard land this classifies
# the bundled demo capture with Sluice's own pattern set and prints the table.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/env.sh
exec node_modules/.bin/sluice classify demo/demo.pcapng "$@"
