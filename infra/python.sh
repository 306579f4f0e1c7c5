#!/usr/bin/env bash
# Idempotent: a project-local Python venv (.venv) with the pinned packages in
# infra/python-requirements.txt, used only by tests and benchmarks (uproot,
# numpy, pyarrow reference implementations). Prints the venv's python path.
exec bash "$(dirname "${BASH_SOURCE[0]}")/venv.sh" .venv infra/python-requirements.txt
