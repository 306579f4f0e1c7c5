#!/usr/bin/env bash
# Idempotent: a separate project-local Python venv (.venv-bench) with the pinned
# packages in infra/python-bench-requirements.txt (tensorflow-cpu, keras, numpy,
# pyarrow, scikit-learn), used only by the Keras parity benchmark
# (bench/keras/train_keras.py). Kept apart from .venv so the reference checks do
# not pull in TensorFlow (~250 MB). Logs to stderr; prints the venv's python path.
exec bash "$(dirname "${BASH_SOURCE[0]}")/venv.sh" .venv-bench infra/python-bench-requirements.txt \
  'import tensorflow as tf; assert tf.config.list_physical_devices("CPU")'
