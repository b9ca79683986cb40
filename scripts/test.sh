#!/usr/bin/env bash
# The whole test suite: type check, import rules, then every test file against the embedded store and a
# throwaway PostgreSQL (started here, stopped on exit).
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s globstar nullglob

scripts/test-deps.sh
echo "== format and lint"; npx biome ci --error-on-warnings .
echo "== typecheck"; npx tsc --noEmit -p tsconfig.json
[ -f src/console/tsconfig.json ] && { echo "== typecheck console"; npx tsc --noEmit -p src/console/tsconfig.json; }
echo "== import rules"; npx depcruise src --config .dependency-cruiser.cjs
[ -f src/console/vite.config.ts ] && { echo "== build console"; npx vite build --config src/console/vite.config.ts --logLevel warn; }
echo "== build cli"; node scripts/build-cli.mjs

PG_DIR=""
# An if, not &&: a false test as the trap's last command would become the script's exit status.
cleanup() { if [ -n "$PG_DIR" ]; then scripts/pg-throwaway.sh stop "$PG_DIR"; fi; }
trap cleanup EXIT
if [ -z "${KEYFLEET_TEST_PG_URL:-}" ]; then
  eval "$(scripts/pg-throwaway.sh start)"
  PG_DIR=$KEYFLEET_TEST_PG_DIR
fi
export KEYFLEET_TEST_PG_URL

# A private HOME: SDKs write files there and ssh must not read the machine's own keys or known_hosts.
export HOME=$(mktemp -d /tmp/kf-home.XXXXXX)
FILES=("${@:-}")
if [ -z "${FILES[0]}" ]; then FILES=(test/**/*.test.ts); fi
echo "== tests (${#FILES[@]} files)"
node --import tsx --test --test-reporter=spec --test-concurrency=1 --test-timeout=1200000 "${FILES[@]}"
