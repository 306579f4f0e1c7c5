#!/usr/bin/env bash
# Idempotent project-local Python venv: venv.sh NAME REQUIREMENTS [CHECK]
# creates ./NAME if needed, installs the pinned REQUIREMENTS when their sha256
# changed since the last install, runs the optional python CHECK code once
# after installing, logs to stderr and prints the venv's python path.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
name="$1"
req="$root/$2"
check="${3:-}"
venv="$root/$name"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"

if [[ ! -x "$venv/bin/python" ]]; then
  command -v python3 >/dev/null || { echo "venv.sh: python3 (3.10-3.13) is needed for $name ($2)" >&2; exit 1; }
  python3 -m venv "$venv" >&2
fi
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "venv.sh: installing $(grep -cEv '^\s*(#|$)' "$req") pinned packages from $2 into $name" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
  if [[ -n "$check" ]]; then
    "$venv/bin/python" -c "$check" >/dev/null 2>&1 || { echo "venv.sh: packages installed into $name but the check failed: $check" >&2; exit 1; }
  fi
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
