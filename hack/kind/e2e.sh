#!/usr/bin/env bash
# `make e2e-kind`: the same end-to-end suite on a kind cluster, for machines with Docker.
#
# kind replaces the locally built control plane: real kubelets run real containers. The Chat App's
# images chatapp:1.0 and chatapp:1.1 are the pause image under two tags (loaded into the nodes), so
# pods run and releases create revisions; Prometheus and the Chat App simulator run on this host's
# loopback (the simulator lists the kind cluster's pods), and the operator runs out of cluster exactly
# as in `make test`. The operator image is built and loaded too, so the install tests' Pods really run.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
NAME=${KIND_CLUSTER_NAME:-maintenance-e2e}
DIR=${MO_KIND_DIR:-$REPO/.kind}
PAUSE_IMAGE=${PAUSE_IMAGE:-registry.k8s.io/pause:3.10}
for tool in docker kind kubectl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "make e2e-kind needs $tool on PATH" >&2; exit 1; }
done
docker info >/dev/null 2>&1 || { echo "make e2e-kind needs a running Docker engine" >&2; exit 1; }
command -v prometheus >/dev/null 2>&1 || "$REPO/hack/cluster/install-prometheus.sh"

mkdir -p "$DIR/logs" "$DIR/prometheus"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SIMULATOR_PORT=$(free_port); PROMETHEUS_PORT=$(free_port); OPERATOR_METRICS_PORT=$(free_port)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ "${KEEP_KIND:-0}" = 1 ] || kind delete cluster --name "$NAME" >/dev/null 2>&1 || true
}
trap cleanup EXIT

kind get clusters 2>/dev/null | grep -qx "$NAME" || kind create cluster --name "$NAME" --wait 120s
kind get kubeconfig --name "$NAME" >"$DIR/kubeconfig"
docker pull -q "$PAUSE_IMAGE" >/dev/null
for tag in chatapp:1.0 chatapp:1.1; do
  docker tag "$PAUSE_IMAGE" "$tag"
  kind load docker-image "$tag" --name "$NAME" >/dev/null
done
# The operator image, under the tags the tests install: the chart's and deploy/'s default reference (the
# README install test) and maintenance-operator:dev (the Helm test). On kind these Pods really run.
APP_VERSION=$(awk -F'"' '/^appVersion:/ {print $2}' "$REPO/helm/maintenance-operator/Chart.yaml")
docker build -q -t maintenance-operator:dev "$REPO" >/dev/null
docker tag maintenance-operator:dev "ghcr.io/chatapp/maintenance-operator:$APP_VERSION"
for tag in maintenance-operator:dev "ghcr.io/chatapp/maintenance-operator:$APP_VERSION"; do
  kind load docker-image "$tag" --name "$NAME" >/dev/null
done

sed -e "s/\${SIMULATOR_PORT}/$SIMULATOR_PORT/" -e "s/\${OPERATOR_METRICS_PORT}/$OPERATOR_METRICS_PORT/" \
  "$REPO/hack/cluster/prometheus.yml.tmpl" >"$DIR/prometheus.yml"
prometheus --config.file="$DIR/prometheus.yml" --storage.tsdb.path="$DIR/prometheus" \
  --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" >"$DIR/logs/prometheus.log" 2>&1 &
pids+=($!)
"$REPO/.venv/bin/python" "$REPO/hack/chatapp_simulator.py" --kubeconfig "$DIR/kubeconfig" \
  --port "$SIMULATOR_PORT" --selector app.kubernetes.io/name=chatapp >"$DIR/logs/simulator.log" 2>&1 &
pids+=($!)
for _ in $(seq 60); do curl -fsS "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" >/dev/null 2>&1 && break; sleep 1; done

export MO_USE_EXISTING_CLUSTER=1 KUBECONFIG="$DIR/kubeconfig"
export PROMETHEUS_URL="http://127.0.0.1:$PROMETHEUS_PORT" SIMULATOR_URL="http://127.0.0.1:$SIMULATOR_PORT"
export SIMULATOR_PORT OPERATOR_METRICS_PORT PYTHONPATH="$REPO/operator"
cd "$REPO"
.venv/bin/python -m pytest -q -m e2e tests "$@"
