#!/usr/bin/env bash
# `make demo`: bring up the local cluster (built and cached on first use), run the narrated demo, tear down.
set -euo pipefail
cd "$(dirname "$0")/.."
started_here=0
if ! hack/cluster/up.sh --check >/dev/null 2>&1; then
  echo "Starting the local cluster (the first run builds the pinned control plane; later runs take seconds)…"
  hack/cluster/up.sh
  started_here=1
fi
cleanup() { if [ "$started_here" = 1 ]; then hack/cluster/down.sh; fi; }
trap cleanup EXIT
export PYTHONPATH="$PWD/operator"
.venv/bin/python -m maintenance_operator crds >/dev/null
KUBECONFIG="${MO_CLUSTER_DIR:-$PWD/.cluster}/kubeconfig" kubectl apply -f crds/ >/dev/null
.venv/bin/python hack/demo.py "$@"
