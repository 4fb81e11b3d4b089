#!/usr/bin/env bash
# Delete the kind cluster hack/kind/up.sh created for this state directory (MO_KIND_DIR, default .kind).
# A cluster up.sh did not create is left alone; the Docker engine keeps running (other clusters and
# builds use it: hack/images/dockerd.sh stop stops a private one).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cluster/lib.sh"

KIND_DIR="$(realpath -m "${MO_KIND_DIR:-$REPO_ROOT/.kind}")"
if [[ ! -f "$KIND_DIR/name" ]]; then
  log "no cluster created by hack/kind/up.sh in $KIND_DIR"
  exit 0
fi
mkdir -p "$MO_CACHE_DIR/locks"
# up.sh calls this while it holds the lock.
if [[ "${MO_KIND_LOCK_HELD:-}" != "$KIND_DIR" ]]; then
  exec 9>"$MO_CACHE_DIR/locks/kind-$(printf '%s' "$KIND_DIR" | md5sum | cut -c1-16).lock"
  flock -w "${MO_LOCK_TIMEOUT:-1800}" 9 || die "timed out waiting for another up/down on $KIND_DIR"
fi
NAME="$(cat "$KIND_DIR/name")"
DOCKER_HOST="$(cat "$KIND_DIR/docker-host" 2>/dev/null || true)"
export DOCKER_HOST
[[ -n "$DOCKER_HOST" ]] || unset DOCKER_HOST
KIND="$KIND_BIN"
[[ -x /usr/bin/docker ]] && export PATH="$KIND_DIR/bin:$PATH"
[[ -x "$KIND" ]] || die "kind not built: $KIND"
log "deleting kind cluster $NAME"
"$KIND" delete cluster --name "$NAME" --kubeconfig "$KIND_DIR/kubeconfig" 9>&-
rm -f "$KIND_DIR/name" "$KIND_DIR/docker-host" "$KIND_DIR/kubeconfig" "$KIND_DIR/env"
