#!/usr/bin/env bash
# Idempotent: a project-local Python venv (.venv) with the pinned packages in
# infra/python-requirements.txt, used only by tests and benchmarks (uproot,
# numpy, pyarrow reference implementations). Prints the venv's python path.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
req="$root/infra/python-requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"

if [[ ! -x "$venv/bin/python" ]]; then
  command -v python3 >/dev/null || { echo "python.sh: python3 (>= 3.10) is needed for the reference checks" >&2; exit 1; }
  python3 -m venv "$venv" >&2
fi
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "python.sh: installing $(grep -cv '^#' "$req") pinned packages into .venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
