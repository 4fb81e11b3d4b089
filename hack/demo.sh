#!/usr/bin/env bash
# `make demo`: bring up the local cluster (built and cached on first use), run the narrated demo, and tear
# down what this script started (a cluster that was already running is left running).
set -euo pipefail
cd "$(dirname "$0")/.."
export MO_CLUSTER_DIR="${MO_CLUSTER_DIR:-$PWD/.cluster}"
started_here=0
if ! { [ -f "$MO_CLUSTER_DIR/cluster.env" ] &&
  kubectl --kubeconfig "$MO_CLUSTER_DIR/kubeconfig" get --raw /readyz >/dev/null 2>&1; }; then
  echo "Starting the local cluster (the first run builds the pinned control plane, ~7 min; later runs ~10 s)…"
  hack/cluster/up.sh
  started_here=1
fi
cleanup() { if [ "$started_here" = 1 ]; then hack/cluster/down.sh; fi; }
trap cleanup EXIT
export PYTHONPATH="$PWD/operator"
kubectl --kubeconfig "$MO_CLUSTER_DIR/kubeconfig" apply -f crds/ >/dev/null
.venv/bin/python hack/demo.py --cluster-env "$MO_CLUSTER_DIR/cluster.env" "$@"
