#!/usr/bin/env bash
# Build (once, cached) everything the kind stage needs, without starting a cluster:
#   the node image (hack/kind/node-image.sh, with the node's Kubernetes binaries and local-path-provisioner
#   from hack/cluster/build.sh; the provisioner's cold Go build, ≈3 min on 2 cores, runs in build.sh's tools
#   lane while the longer kubernetes build runs, and the node image then adds one scratch image, ≈5 s),
#   the operator image (hack/images/operator.sh, tagged as hack/kind/install.sh loads it) and the Chat App and
#   Prometheus images (hack/kind/images.sh).
# `make test` runs it in the background while the earlier stages run, then hack/kind/e2e.sh finds it all built.
# MO_IMAGE_ONLINE=1 pulls the official images instead of building them (hack/kind/plan.sh lists which).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cluster/lib.sh"
# shellcheck source-path=SCRIPTDIR source=plan.sh
source "$(dirname "${BASH_SOURCE[0]}")/plan.sh"
T0=$SECONDS
eval "$("$REPO_ROOT/hack/images/dockerd.sh" env --privileged)"
export DOCKER_HOST
"$REPO_ROOT/hack/kind/node-image.sh" >/dev/null
T_NODE=$((SECONDS - T0))
"$REPO_ROOT/hack/images/operator.sh" "$KIND_OPERATOR_IMAGE" >/dev/null
"$REPO_ROOT/hack/kind/images.sh" >/dev/null
log "kind stage prepared in $((SECONDS - T0))s (node image ${T_NODE}s)"
