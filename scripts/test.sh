#!/usr/bin/env bash
# The whole test suite: type checks, lint, then every package's tests in one node:test run
# (one summary at the end). Run through ./dev test, which sets up first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/env.sh
echo "== typecheck"
turbo run typecheck --output-logs=errors-only
tsc -p deploy/iso # the image build and boot-test scripts (not a workspace)
echo "== lint"
eslint .
prettier --check . >/dev/null || { prettier --check . ; exit 1; }
echo "== tests"
shopt -s nullglob globstar
files=(packages/*/test/**/*.test.ts apps/*/test/**/*.test.ts)
exec node --test --test-concurrency=1 --test-reporter=spec "$@" "${files[@]}"
