#!/usr/bin/env bash
# One-shot, idempotent set-up of a fresh clone: npm packages, external tools
# (Temporal CLI, MinIO) and the build (tsc + workflow bundle).
# Quiet on success; on failure prints what failed and its output.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

log="$(mktemp "${TMPDIR:-/tmp}/topoflow-setup.XXXXXX")"
trap 'rm -f "$log"' EXIT

# step DESCRIPTION COMMAND...: runs COMMAND with its output captured, shown only on failure.
step() {
  local what="$1"
  shift
  local rc=0
  "$@" >"$log" 2>&1 || rc=$?
  if ((rc != 0)); then
    echo "setup: $what failed (exit $rc): $*" >&2
    tail -n 60 "$log" >&2
    exit 1
  fi
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
  step 'npm install' npm install --no-audit --no-fund --loglevel=error
fi

bash infra/install-tools.sh --quiet

step 'build (npm run build)' npm run build --silent
