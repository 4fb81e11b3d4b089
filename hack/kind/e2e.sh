#!/usr/bin/env bash
# `make e2e-kind`: the remediation loop against real Pods on a kind cluster, every image built on this machine.
#
#   hack/kind/e2e.sh [PYTEST ARGS]      default: -m kind tests/kind
#   KEEP_KIND=1 hack/kind/e2e.sh        keep the cluster afterwards (and reuse it next time)
#
# 1. hack/kind/up.sh: the kind cluster from the locally built node image (state in $MO_KIND_DIR, default .kind).
# 2. hack/kind/install.sh: the operator image (the repository's Dockerfile), chatapp:1.0/1.1 and Prometheus
#    (its Go module) loaded into the node; Prometheus; `helm install` of the chart with its webhook.
# 3. pytest -m kind tests/kind: each scenario deploys the Chat App (hack/kind/manifests/chatapp.yaml) in its
#    own namespace and breaks the real Pods. Timings land in $MO_KIND_DIR/timings.jsonl.
# Only what this script started is stopped: the cluster, unless KEEP_KIND=1 or it was running before.
#
# Images: by default every one is built on this machine from pinned sources and nothing is pulled.
#   MO_IMAGE_ONLINE=1 hack/kind/e2e.sh   the official images, for a machine that reaches the registries:
#     kindest/node:v1.34.11@sha256:44e2... (kind v0.33.0's published 1.34 node; offline builds v1.34.4) with
#     kind's default CNI (kindnet), the operator and Chat App images FROM python:3.11-slim(-bookworm) with pip
#     from PyPI (the same Dockerfiles, the base chosen by their build arguments), prom/prometheus:v3.16.0 (the
#     pinned Go module v0.316.0's release). `hack/kind/plan.sh` prints what either setting builds and pulls.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cluster/lib.sh"
HERE="$REPO_ROOT/hack/kind"
export MO_KIND_DIR="$(realpath -m "${MO_KIND_DIR:-$REPO_ROOT/.kind}")"
T0=$SECONDS

existed=0
[[ -f "$MO_KIND_DIR/name" ]] && existed=1
cleanup() {
  local rc=$?
  if [[ $rc -ne 0 && -f "$MO_KIND_DIR/kubeconfig" ]]; then
    mkdir -p "$MO_KIND_DIR/logs"
    PATH="$MO_KIND_DIR/bin:$PATH" kubectl --kubeconfig "$MO_KIND_DIR/kubeconfig" -n maintenance-system \
      logs deploy/maintenance-operator --tail=1000 >"$MO_KIND_DIR/logs/operator.log" 2>&1 || true
    log "operator log: $MO_KIND_DIR/logs/operator.log"
  fi
  if [[ "${KEEP_KIND:-0}" != 1 && $existed -eq 0 ]]; then "$HERE/down.sh" || true; fi
  exit $rc
}
trap cleanup EXIT

"$HERE/up.sh"
T_UP=$((SECONDS - T0))
export KUBECONFIG="$MO_KIND_DIR/kubeconfig" PATH="$MO_KIND_DIR/bin:$PATH"
T1=$SECONDS
installed="$("$HERE/install.sh")"
export "${installed##*$'\n'}"   # PROMETHEUS_URL=..., install.sh's last line
log "cluster ${T_UP}s, workloads installed $((SECONDS - T1))s; $PROMETHEUS_URL"

export MO_KIND_KUBECONFIG="$KUBECONFIG" MO_KIND_INSTALLED=1 PYTHONPATH="$REPO_ROOT/operator"
cd "$REPO_ROOT"
if [[ $# -eq 0 ]]; then set -- -m kind tests/kind; fi
.venv/bin/python -m pytest -q "$@"
