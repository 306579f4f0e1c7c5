#!/usr/bin/env bash
# Native TensorFlow for TensorFlow.js, from the package registries only:
# @tensorflow/tfjs-node (or, with --gpu, @tensorflow/tfjs-node-gpu) built from
# source against the TensorFlow C library of a pinned PyPI TensorFlow wheel.
# The packages' own install script downloads libtensorflow 2.9.1 from a host
# this machine cannot reach, so npm leaves these optional dependencies out.
#
# Steps (each cached; a later run with nothing to do takes ~1 s):
#   1. pip download the pinned wheel (a zip), check its SHA-256, keep only
#      libtensorflow_cc.so.2, libtensorflow_framework.so.2 and the C headers in
#      .tools/tensorflow/<wheel>-<version>/ (the wheel itself is deleted);
#   2. npm install --ignore-scripts: the optional packages (pinned by
#      package-lock.json, left unchanged) without their download;
#   3. link the package's deps/ to that folder and build the addon with
#      node-pre-gyp --build-from-source (Node headers from the local install);
#   4. load it in a fresh process and run one op.
# Any failure prints one line, "tfjs-node: … training uses WebAssembly", and
# exits 0 (1 with --strict): the wasm back end needs none of this.
# Usage: bash infra/tfjs-node.sh [--gpu] [--strict] [--quiet]
set -uo pipefail

# Pinned: tensorflow-cpu 2.12.0 is the oldest wheel with libtensorflow_cc.so.2
# (the full C API, no libpython), the closest to the 2.9.1 tfjs-node expects.
CPU_WHEEL=tensorflow-cpu
CPU_VERSION=2.12.0
CPU_SHA256=e8c7047552a2d759f3e65ac13e36dd24bb5fec2e6576e848287811ec44b3d62f
# The GPU route: 2.12.0's GPU wheel names no CUDA wheels (it wants CUDA 11.8
# installed system-wide); 2.16.2 names its nvidia-*-cu12 wheels (extra
# `and-cuda`), which step 1 then fetches too. Unverified: no GPU here.
GPU_WHEEL=tensorflow
GPU_VERSION=2.16.2
GPU_SHA256=d8798dea8e2281b4a0b569d9c00e7949c0090509be363da271e1ef21828bffae
WHEEL_PLATFORM=manylinux2014_x86_64
WHEEL_PYTHON=3.11

gpu= strict= quiet=
for arg in "$@"; do
  case "$arg" in
    --gpu) gpu=1 ;;
    --strict) strict=1 ;;
    --quiet | -q) quiet=1 ;;
    *)
      echo "usage: bash infra/tfjs-node.sh [--gpu] [--strict] [--quiet]" >&2
      exit 2
      ;;
  esac
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 1
mkdir -p .tools/tensorflow
log="$root/.tools/tfjs-node.log"
: >"$log"

if [[ -n "$gpu" ]]; then
  pkg=@tensorflow/tfjs-node-gpu wheel=$GPU_WHEEL version=$GPU_VERSION sha=$GPU_SHA256
  size='591 MB plus about 1.8 GB of CUDA wheels, 3.9 GB unpacked'
else
  pkg=@tensorflow/tfjs-node wheel=$CPU_WHEEL version=$CPU_VERSION sha=$CPU_SHA256
  size='232 MB, 552 MB unpacked'
fi
libdir="$root/.tools/tensorflow/$wheel-$version"
pkgdir="$root/node_modules/$pkg"
stamp="$pkgdir/.topoflow-built"
want_stamp="$wheel $version node $(node -p 'process.versions.modules' 2>/dev/null)"

say() { [[ -n "$quiet" ]] || echo "tfjs-node: $*" >&2; }

# fail STEP: the one line that says what failed and what happens instead.
fail() {
  local why
  why="$(grep -m1 -E 'fatal error|error:|Error:|ERROR' "$log" || tail -n 1 "$log")"
  echo "tfjs-node: $1 failed (${why:0:200}); training uses WebAssembly instead (details: .tools/tfjs-node.log)" >&2
  [[ -n "$strict" ]] && exit 1
  exit 0
}

# timed DESCRIPTION COMMAND...: runs COMMAND into the log, says how long it took.
timed() {
  local what="$1" start=$SECONDS
  shift
  echo "tfjs-node: $what…" >&2
  "$@" >>"$log" 2>&1 || return 1
  echo "tfjs-node: $what: done in $((SECONDS - start)) s" >&2
}

# One set-up at a time (two test runs started together).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$root/.tools/.tfjs-node.lock"
  flock 9
fi

# pip: the project's venv (infra/python.sh) if there, else python3's.
python=python3
[[ -x "$root/.venv/bin/python" ]] && python="$root/.venv/bin/python"

fetch_library() {
  local tmp="$root/.tools/tensorflow/.download"
  rm -rf "$tmp" "$libdir" && mkdir -p "$tmp" || return 1
  "$python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --python-version "$WHEEL_PYTHON" --platform "$WHEEL_PLATFORM" -d "$tmp" "$wheel==$version" || return 1
  "$python" "$root/infra/tfjs-node-extract.py" "$tmp"/*.whl "$libdir" "$sha" || return 1
  rm -rf "$tmp"
  # The GPU wheel's CUDA libraries (none for tensorflow-cpu).
  if [[ -s "$libdir/cuda-requirements.txt" ]]; then
    mkdir -p "$tmp" || return 1
    "$python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
      --python-version "$WHEEL_PYTHON" --platform "$WHEEL_PLATFORM" -d "$tmp" -r "$libdir/cuda-requirements.txt" || return 1
    local w
    for w in "$tmp"/*.whl; do "$python" "$root/infra/tfjs-node-extract.py" "$w" "$libdir" || return 1; done
    rm -rf "$tmp"
  fi
  touch "$libdir/.complete" # last: a half-made folder is never taken for a finished one
}

install_package() {
  # npm may rewrite package-lock.json (other platforms' entries): put it back.
  local backup
  backup="$(mktemp)" && cp -p package-lock.json "$backup" || return 1
  npm install --ignore-scripts --no-audit --no-fund --loglevel=error
  local rc=$?
  cp -p "$backup" package-lock.json && rm -f "$backup"
  return $rc
}

build_addon() {
  rm -rf "$pkgdir/deps" "$pkgdir/lib" "$pkgdir/build" "$stamp"
  ln -s "$libdir" "$pkgdir/deps" || return 1
  local nodedir
  nodedir="$(cd "$(dirname "$(command -v node)")/.." && pwd)"
  [[ -f "$nodedir/include/node/node_api.h" ]] || { echo "no Node headers in $nodedir/include/node (node-gyp would download them)"; return 1; }
  (cd "$pkgdir" && npm_config_nodedir="$nodedir" npm_config_build_from_source=true \
    node "$root/node_modules/@mapbox/node-pre-gyp/bin/node-pre-gyp" install --build-from-source) || return 1
  echo "$want_stamp" >"$stamp"
}

check_load() {
  (cd "$root" && node --input-type=module -e "
    const tf = await import('$pkg');
    const s = tf.tensor1d([1, 2, 3]).sum().dataSync()[0];
    if (tf.getBackend() !== 'tensorflow' || s !== 6) throw new Error('tensorflow back end did not compute 1+2+3');
    console.log('$pkg: TensorFlow ' + tf.version['tfjs-node'] + ' loads');")
}

if [[ -f "$stamp" && "$(<"$stamp")" == "$want_stamp" && -f "$libdir/.complete" ]] && check_load >>"$log" 2>&1; then
  say "reused $pkg built against $wheel $version"
  exit 0
fi
"$python" -m pip --version >/dev/null 2>&1 || { echo "$python -m pip does not run: pip is needed to fetch the wheel" >>"$log"; fail "finding pip"; }

if [[ ! -f "$libdir/.complete" ]]; then
  timed "fetching the TensorFlow C library ($wheel $version wheel from PyPI, $size; first time only)" fetch_library ||
    fail "fetching $wheel $version"
fi
if [[ ! -f "$pkgdir/package.json" ]]; then
  timed "installing $pkg without its download (npm --ignore-scripts)" install_package || fail "npm install of $pkg"
fi
timed "building the $pkg addon from source (10-30 s)" build_addon || fail "building the $pkg addon"
check_load >>"$log" 2>&1 || fail "loading $pkg"
say "$pkg built against $wheel $version; the tensorflow back end is available"
