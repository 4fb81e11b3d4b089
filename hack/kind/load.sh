#!/usr/bin/env bash
# Load images from the Docker engine into the node of hack/kind/up.sh's cluster (MO_KIND_DIR, default .kind).
#
#   hack/kind/load.sh chatapp:1.0 chatapp:1.1
#
# Pods then use them with imagePullPolicy: IfNotPresent or Never (no registry is reachable here).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cluster/lib.sh"

KIND_DIR="$(realpath -m "${MO_KIND_DIR:-$REPO_ROOT/.kind}")"
[[ $# -gt 0 ]] || die "usage: $0 IMAGE..."
[[ -f "$KIND_DIR/env" ]] || die "no cluster: run hack/kind/up.sh first (MO_KIND_DIR=$KIND_DIR)"
# shellcheck source=/dev/null
source "$KIND_DIR/env"
t0=$SECONDS
kind load docker-image --name "$KIND_CLUSTER_NAME" "$@" >&2
log "loaded $* into $KIND_CLUSTER_NAME in $((SECONDS - t0))s"
