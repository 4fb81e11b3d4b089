#!/usr/bin/env bash
# Check a Dockerfile with BuildKit's own parser and lint rules (what
# `docker build --check` runs), no Docker engine needed. See
# hack/dockerfile-check/main.go for the checks and the JSON it prints.
#
#   hack/dockerfile-check.sh [DOCKERFILE]   check (default: the repo's Dockerfile);
#                                           JSON on stdout, exit 1 on any warning or error
#   hack/dockerfile-check.sh --build        only build the tool; prints its path
#
# The tool is built once from hack/dockerfile-check (buildkit pinned in its
# go.mod/go.sum) into $MO_CACHE_DIR/bin/dockerfile-check-<buildkit version>/,
# like the binaries of hack/cluster/build.sh; it is rebuilt only when its
# sources change. Build log: $MO_CACHE_DIR/logs/build-dockerfile-check.log.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cluster/lib.sh"

SRC="$REPO_ROOT/hack/dockerfile-check"
BUILDKIT_VERSION="$(awk '$1 == "github.com/moby/buildkit" { print $2 }' "$SRC/go.mod")"
[[ -n "$BUILDKIT_VERSION" ]] || die "no github.com/moby/buildkit requirement in $SRC/go.mod"
BIN="$(bin_path dockerfile-check "$BUILDKIT_VERSION")"
DIR="$(dirname "$BIN")"
# The stamp names the sources, so editing main.go or the pins rebuilds the tool.
STAMP="component=dockerfile-check version=$BUILDKIT_VERSION recipe=$BUILD_RECIPE src=$(
  cat "$SRC/go.mod" "$SRC/go.sum" "$SRC"/*.go | sha256sum | cut -c1-16)"

is_cached() { [[ -x "$BIN" && -f "$DIR/.stamp" && "$(cat "$DIR/.stamp")" == "$STAMP" ]]; }

build() {
  local t0=$SECONDS go log tmp
  go="$(find_go)" || die "go not found (need the go version named in $SRC/go.mod)"
  mkdir -p "$MO_CACHE_DIR/logs" "$MO_BIN_DIR"
  log="$MO_CACHE_DIR/logs/build-dockerfile-check.log"
  tmp="$DIR.tmp.$$"
  log "building dockerfile-check (buildkit $BUILDKIT_VERSION; log: $log)"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  # Private build cache, removed after a successful build (MO_KEEP_GOCACHE=1 keeps
  # it); the module cache stays shared. -mod=readonly: build exactly go.sum's pins.
  if ! (
    cd "$SRC"
    export CGO_ENABLED=0 GOCACHE="$MO_CACHE_DIR/go-build-dockerfile-check" GOFLAGS="${GOFLAGS:-} -mod=readonly"
    "$go" version
    "$go" build -trimpath -ldflags "-s -w" -o "$tmp/dockerfile-check" .
  ) >"$log" 2>&1; then
    rm -rf "$tmp"
    tail -n 40 "$log" >&2
    die "build of dockerfile-check failed (log: $log)"
  fi
  printf '%s\n' "$STAMP" >"$tmp/.stamp"
  rm -rf "$DIR"
  mv "$tmp" "$DIR"
  if [[ "${MO_KEEP_GOCACHE:-0}" != 1 ]]; then rm -rf "$MO_CACHE_DIR/go-build-dockerfile-check"; fi
  log "dockerfile-check built in $((SECONDS - t0))s"
}

if ! is_cached; then
  # Several checkouts or pytest sessions may share the cache: one build at a time.
  mkdir -p "$MO_CACHE_DIR/locks"
  exec 8>"$MO_CACHE_DIR/locks/dockerfile-check.lock"
  flock -w "${MO_LOCK_TIMEOUT:-900}" 8 || die "timed out waiting for $MO_CACHE_DIR/locks/dockerfile-check.lock"
  is_cached || build
  exec 8>&-
fi
log "dockerfile-check: $BIN"

if [[ "${1:-}" == "--build" ]]; then
  printf '%s\n' "$BIN"
  exit 0
fi
exec "$BIN" "${1:-$REPO_ROOT/Dockerfile}"
