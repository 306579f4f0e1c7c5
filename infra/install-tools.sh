#!/usr/bin/env bash
# Installs the external binaries topoflow needs into <repo>/.tools/bin:
#   temporal  Temporal CLI (dev server: `temporal server start-dev`)
#   minio     S3-compatible object store for artifacts
# Idempotent: a tool already there at the pinned version is reused, one on PATH
# at the pinned version is symlinked, otherwise it is built with `go install`
# (Go's module and build caches are kept, so a rebuild only links).
# Usage: bash infra/install-tools.sh [--quiet] [temporal] [minio]
#   --quiet: say nothing about reused tools; the names: which tools (default: both).
#   The demo needs only temporal; the tests and S3 users also need minio.
set -euo pipefail

quiet=
tools=()
for arg in "$@"; do
  case "$arg" in
    --quiet | -q) quiet=1 ;;
    temporal | minio) tools+=("$arg") ;;
    *)
      echo "usage: bash infra/install-tools.sh [--quiet] [temporal] [minio]" >&2
      exit 2
      ;;
  esac
done
((${#tools[@]})) || tools=(temporal minio)

TEMPORAL_PKG=github.com/temporalio/cli/cmd/temporal
TEMPORAL_VERSION=v1.5.1
TEMPORAL_EXPECT='Server 1.29.1' # what `temporal --version` prints for the pinned CLI
MINIO_MODULE=github.com/minio/minio
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
GO_MIN_MAJOR=1
GO_MIN_MINOR=25

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/.tools/bin"
mkdir -p "$bin"

# One installer at a time (e.g. two set-ups started together).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$root/.tools/.install.lock"
  flock 9
fi

reused() { [[ -n "$quiet" ]] || echo "$*"; }

die() {
  echo "install-tools: $*" >&2
  exit 1
}

go_checked=
require_go() {
  [[ -n "$go_checked" ]] && return 0
  local msg="Go >= ${GO_MIN_MAJOR}.${GO_MIN_MINOR} is needed to build the Temporal CLI: install it from your OS packages or go.dev, then re-run bash infra/install-tools.sh"
  command -v go >/dev/null 2>&1 || die "Go was not found on PATH. $msg"
  local v
  v="$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null || true)" # e.g. go1.26.8
  if [[ ! "$v" =~ ^go([0-9]+)\.([0-9]+) ]]; then
    die "cannot tell the version of $(command -v go) (got '${v}'). $msg"
  fi
  local major="${BASH_REMATCH[1]}" minor="${BASH_REMATCH[2]}"
  if ((major < GO_MIN_MAJOR || (major == GO_MIN_MAJOR && minor < GO_MIN_MINOR))); then
    die "found ${v} at $(command -v go). $msg"
  fi
  go_checked=1
}

# Candidates for a tool outside .tools/bin: PATH, then Go's default GOBIN.
candidates() {
  local name="$1" p
  local -a seen=()
  while IFS= read -r p; do
    [[ -n "$p" ]] && seen+=("$p")
  done < <(type -ap "$name" 2>/dev/null || true)
  if command -v go >/dev/null 2>&1; then
    p="$(GOTOOLCHAIN=local go env GOPATH 2>/dev/null | cut -d: -f1)/bin/$name"
    [[ -x "$p" ]] && seen+=("$p")
  fi
  for p in "${seen[@]+"${seen[@]}"}"; do
    # Skip our own copy (or links to it).
    [[ "$(readlink -f "$p")" == "$(readlink -f "$bin/$name" 2>/dev/null || echo "$bin/$name")" ]] && continue
    echo "$p"
  done
}

temporal_ok() { # binary
  local out
  out="$("$1" --version 2>/dev/null)" || return 1
  [[ "$out" == *"$TEMPORAL_EXPECT"* ]]
}

# A go-installed minio reports "DEVELOPMENT.GOGET" as its version, so the
# module version is read from the build info Go embeds in the binary.
minio_ok() { # binary
  command -v go >/dev/null 2>&1 || return 1
  GOTOOLCHAIN=local go version -m "$1" 2>/dev/null |
    grep -qE "^[[:space:]]+mod[[:space:]]+${MINIO_MODULE}[[:space:]]+${MINIO_VERSION}([[:space:]]|\$)"
}

go_install() { # name target@version expected-duration
  local name="$1" target="$2" takes="$3" log="$root/.tools/install-$1.log" start=$SECONDS
  require_go
  echo "$name: building $target with go install (first time only: $takes; output in $log)…"
  rm -f "$bin/$name"
  if ! GOBIN="$bin" go install "$target" >"$log" 2>&1; then
    echo "$name: go install $target failed; last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  [[ -x "$bin/$name" ]] || die "go install $target succeeded but $bin/$name is missing"
  echo "$name: installed in $((SECONDS - start))s"
}

link_from_path() { # name checkfn
  local name="$1" check="$2" p
  while IFS= read -r p; do
    if "$check" "$p"; then
      ln -sfn "$(readlink -f "$p")" "$bin/$name"
      echo "$name: reused $p (symlinked into .tools/bin)"
      return 0
    fi
  done < <(candidates "$name")
  return 1
}

install_temporal() {
  if [[ -x "$bin/temporal" ]] && temporal_ok "$bin/temporal"; then
    reused "temporal: reused .tools/bin/temporal ($TEMPORAL_EXPECT)"
    return
  fi
  link_from_path temporal temporal_ok && return
  go_install temporal "$TEMPORAL_PKG@$TEMPORAL_VERSION" 'about 3-6 minutes on 2 cores'
  temporal_ok "$bin/temporal" ||
    die "the freshly built $bin/temporal does not report '$TEMPORAL_EXPECT': $("$bin/temporal" --version 2>&1 || true)"
}

install_minio() {
  local stamp="$bin/.minio.version"
  if [[ -x "$bin/minio" ]]; then
    if [[ -f "$stamp" && "$(<"$stamp")" == "$MINIO_VERSION" ]]; then
      reused "minio: reused .tools/bin/minio ($MINIO_VERSION)"
      return
    fi
    # No stamp (e.g. built by hand): trust the build info if it matches.
    if minio_ok "$bin/minio"; then
      echo "$MINIO_VERSION" >"$stamp"
      reused "minio: reused .tools/bin/minio ($MINIO_VERSION)"
      return
    fi
  fi
  rm -f "$stamp"
  if link_from_path minio minio_ok; then
    echo "$MINIO_VERSION" >"$stamp"
    return
  fi
  go_install minio "$MINIO_MODULE@$MINIO_VERSION" 'about 4-6 minutes on 2 cores'
  echo "$MINIO_VERSION" >"$stamp"
}

for tool in "${tools[@]}"; do
  "install_$tool"
done
