#!/usr/bin/env bash
# One-shot, idempotent set-up of a fresh clone: npm packages, external tools
# and the build (tsc + workflow bundle). Each long step says what it does and
# roughly how long it takes; steps with nothing to do are silent. On failure it
# prints what failed and its output.
# Usage: bash infra/setup.sh [--for demo|test]
#   demo: only what the demo needs (the Temporal CLI); test (default): MinIO too.
set -euo pipefail

purpose=test
case "${1:-}" in
  --for)
    purpose="${2:-}"
    [[ "$purpose" == demo || "$purpose" == test ]] || { echo "usage: bash infra/setup.sh [--for demo|test]" >&2; exit 2; }
    ;;
  '') ;;
  *)
    echo "usage: bash infra/setup.sh [--for demo|test]" >&2
    exit 2
    ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

log="$(mktemp "${TMPDIR:-/tmp}/topoflow-setup.XXXXXX")"
lock_backup="$(mktemp "${TMPDIR:-/tmp}/topoflow-lock.XXXXXX")"
trap 'rm -f "$log" "$lock_backup"' EXIT

# step DESCRIPTION COMMAND...: announces the step, runs COMMAND with its output
# captured (shown only on failure), then says how long it took.
step() {
  local what="$1"
  shift
  local rc=0 start=$SECONDS
  echo "setup: $what…" >&2
  "$@" >"$log" 2>&1 || rc=$?
  if ((rc != 0)); then
    echo "setup: $what failed (exit $rc): $*" >&2
    tail -n 60 "$log" >&2
    exit 1
  fi
  echo "setup: $what: done in $((SECONDS - start)) s" >&2
}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: Node.js (>= 20.19) and npm are needed: install them, then re-run bash infra/setup.sh" >&2
  exit 1
fi

# npm packages: only when missing or when package-lock.json changed since the last install.
if [[ ! -d node_modules || ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  # `npm install`, not `npm ci`: npm 11 writes lock files without the other platforms'
  # optional packages (@swc/core-*), which `npm ci` then rejects as out of sync. With
  # exact versions in package.json and the lock file present, install is just as pinned.
  # npm may still rewrite package-lock.json (other platforms' entries): the committed one
  # is put back, mtime included, so a user's checkout stays clean.
  cp -p package-lock.json "$lock_backup"
  step 'npm install (first time: about 1 minute)' npm install --no-audit --no-fund --loglevel=error
  cp -p "$lock_backup" package-lock.json
  touch node_modules/.package-lock.json
fi

if [[ "$purpose" == demo ]]; then
  bash infra/install-tools.sh --quiet temporal
else
  bash infra/install-tools.sh --quiet temporal minio
fi

step 'building (tsc and the workflow bundle, about 40 s)' npm run build --silent
