#!/usr/bin/env bash
# The project's test command (`npm test`, CI's .ci/run): set-up, lint, then
# every compiled test file dist/test/**/*.test.js, one file at a time.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash infra/setup.sh
# Reference implementations in tests use uproot/numpy/pyarrow from a project venv.
bash infra/python.sh >/dev/null
# Native TensorFlow for the trainer tests on the tensorflow back end (first
# time ~20 s plus a 232 MB download; cached after). Never fails the run: on
# any problem it says so in one line and those tests are skipped, saying why.
bash infra/tfjs-node.sh --quiet || echo "tfjs-node: the set-up script failed; training uses WebAssembly instead" >&2

# torch for the tests of the torch back end (first time ~80 s, 3.1 GB download,
# 5.3 GB on disk; cached after). Never fails the run: on any problem it says
# so in one line and those tests are skipped, saying why.
bash infra/python-torch.sh --quiet >/dev/null || echo "python-torch: the set-up script failed; the torch back end's tests are skipped" >&2

echo "lint: npx eslint ."
npx eslint .

# Node 20's runner, given a directory, would also run every other .js under
# dist/test/ (helpers, fixtures), so the test files are listed explicitly.
shopt -s globstar nullglob
files=(dist/test/**/*.test.js)
if ((${#files[@]} == 0)); then
  echo "test: no test files found under dist/test/ (did the build run?)" >&2
  exit 1
fi
echo "test: ${#files[@]} files"
node --test --test-concurrency=1 --test-timeout=600000 "${files[@]}"
