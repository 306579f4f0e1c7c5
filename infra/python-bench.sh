#!/usr/bin/env bash
# Idempotent: a separate project-local Python venv (.venv-bench) with the pinned
# packages in infra/python-bench-requirements.txt (tensorflow-cpu, keras, numpy,
# pyarrow, scikit-learn), used only by the Keras parity benchmark
# (bench/keras/train_keras.py). Kept apart from .venv so the reference checks do
# not pull in TensorFlow. Logs to stderr; prints the venv's python path.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-bench"
req="$root/infra/python-bench-requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"

if [[ ! -x "$venv/bin/python" ]]; then
  command -v python3 >/dev/null || { echo "python-bench.sh: python3 (3.10-3.13) is needed for the Keras benchmark" >&2; exit 1; }
  python3 -m venv "$venv" >&2
fi
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "python-bench.sh: installing $(grep -cEv '^\s*(#|$)' "$req") pinned packages into .venv-bench (tensorflow-cpu is ~250 MB)" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
  "$venv/bin/python" -c 'import tensorflow as tf; assert tf.config.list_physical_devices("CPU"), "no CPU device"' >/dev/null 2>&1 \
    || { echo "python-bench.sh: tensorflow installed but does not import" >&2; exit 1; }
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
