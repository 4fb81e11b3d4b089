#!/usr/bin/env bash
# `make demo`: the five faults and the whole maintenance loop, on kind (real Pods) when Docker is available,
# otherwise on the local cluster (kwok nodes). hack/demo_target.py chooses and says why.
#
#   make demo                     auto: kind when a Docker engine answers or, as root, hack/images/dockerd.sh
#                                 can start one; else the local cluster
#   MO_DEMO_TARGET=kind make demo   (make demo-kind)    force kind
#   MO_DEMO_TARGET=local make demo  (make demo-local)   force the local cluster
#   KEEP_KIND=1                   keep the kind cluster afterwards (and reuse it next time)
#
# Local: hack/cluster/up.sh (built and cached on first use), then hack/demo.py.
# kind: hack/kind/up.sh (node image built and cached on first use), hack/kind/install.sh (images loaded,
# Prometheus, `helm install` of the chart), then hack/demo_kind.py.
# Either way only what this script started is torn down: a cluster that was already running is left running.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR source=cluster/lib.sh
source hack/cluster/lib.sh
export MO_CACHE_DIR PYTHONPATH="$PWD/operator"

choice="$(.venv/bin/python hack/demo_target.py)"
TARGET="${choice%%$'\n'*}"
WHY="${choice#*$'\n'}"
log "demo path: $TARGET ($WHY)"

run_local() {
  export MO_CLUSTER_DIR="${MO_CLUSTER_DIR:-$PWD/.cluster}"
  local started_here=0
  if ! { [ -f "$MO_CLUSTER_DIR/cluster.env" ] &&
    kubectl --kubeconfig "$MO_CLUSTER_DIR/kubeconfig" get --raw /readyz >/dev/null 2>&1; }; then
    echo "Starting the local cluster (the first run builds the pinned control plane, ~7 min; later runs ~10 s)…"
    hack/cluster/up.sh
    started_here=1
  fi
  # shellcheck disable=SC2064 # expand now: the flag is local to this function
  trap "if [ $started_here = 1 ]; then hack/cluster/down.sh; fi" EXIT
  kubectl --kubeconfig "$MO_CLUSTER_DIR/kubeconfig" apply -f crds/ >/dev/null
  .venv/bin/python hack/demo.py --cluster-env "$MO_CLUSTER_DIR/cluster.env" --why "$WHY" "$@"
}

run_kind() {
  export MO_KIND_DIR
  MO_KIND_DIR="$(realpath -m "${MO_KIND_DIR:-$PWD/.kind}")"
  local existed=0
  [[ -f "$MO_KIND_DIR/name" ]] && existed=1
  # shellcheck disable=SC2064 # expand now: the flag is local to this function
  trap "if [[ \"\${KEEP_KIND:-0}\" != 1 && $existed -eq 0 ]]; then hack/kind/down.sh; fi" EXIT
  echo "Starting the kind cluster (the first run builds the node and workload images, ≈40 min; later ≈1 min)…"
  local t0=$SECONDS
  hack/kind/up.sh
  export KUBECONFIG="$MO_KIND_DIR/kubeconfig" PATH="$MO_KIND_DIR/bin:$PATH"
  local installed
  installed="$(hack/kind/install.sh)"
  local url="${installed##*$'\n'}"
  log "kind cluster up and workloads installed in $((SECONDS - t0))s; ${url}"
  .venv/bin/python hack/demo_kind.py --kind-dir "$MO_KIND_DIR" --prometheus-url "${url#PROMETHEUS_URL=}" \
    --why "$WHY" "$@"
}

case "$TARGET" in
  kind) run_kind "$@" ;;
  local) run_local "$@" ;;
  *) die "unknown demo path: $TARGET" ;;
esac
