#!/usr/bin/env bash
# Idempotent: a separate project-local Python venv (.venv-torch) with the pinned
# packages of infra/python-torch-requirements.txt (torch, numpy, pyarrow and
# the CUDA wheels torch names), for the torch training kernel (kernels/torch/,
# `backend: torch`). Kept apart from .venv and .venv-bench: it is 5.3 GB.
# First time about 80 s and 3.1 GB downloaded; later runs check a stamp (<1 s).
# A machine that already has torch can skip this: TOPOFLOW_TORCH_PYTHON=/path/to/python.
#
#   bash infra/python-torch.sh [--quiet] [--strict]
#
# On failure it prints one line saying so and exits 0, so `npm test` goes on:
# the torch tests then skip, saying why (TOPOFLOW_REQUIRE_TORCH=1 fails them
# instead); --strict exits 1. Prints the venv's python path on success.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
quiet=0 strict=0
for a in "$@"; do
  case "$a" in
    --quiet) quiet=1 ;;
    --strict) strict=1 ;;
    *) echo "python-torch.sh: unknown option $a (expected --quiet, --strict)" >&2; exit 2 ;;
  esac
done
log="$root/.venv-torch.log"
stamp="$root/.venv-torch/.requirements.sha256"
want="$(sha256sum "$root/infra/python-torch-requirements.txt" | cut -d' ' -f1)"
fresh=0
[[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] || fresh=1
((fresh && !quiet)) && echo "python-torch: installing torch 2.5.1 (CPU and CUDA 12.4; ~3.1 GB download, 5.3 GB on disk, ~80 s) into .venv-torch" >&2
start=$SECONDS
if python="$(bash "$root/infra/venv.sh" .venv-torch infra/python-torch-requirements.txt \
    'import torch, numpy, pyarrow.parquet, pyarrow.fs; torch.zeros(1).sum()' 2>"$log")"; then
  ((fresh)) && echo "python-torch: .venv-torch ready in $((SECONDS - start)) s ($(du -sh "$root/.venv-torch" | cut -f1))" >&2
  echo "$python"
  exit 0
fi
echo "python-torch: installing torch into .venv-torch failed ($(grep -m1 -iE 'error|failed' "$log" || tail -1 "$log")); the torch back end and its tests are unavailable (details: .venv-torch.log)" >&2
((strict)) && exit 1
exit 0
