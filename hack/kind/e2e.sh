#!/usr/bin/env bash
# `make e2e-kind`: the remediation loop against real Pods on a kind cluster, every image built on this machine.
#
#   hack/kind/e2e.sh [PYTEST ARGS]      default: -m kind tests/kind
#   KEEP_KIND=1 hack/kind/e2e.sh        keep the cluster afterwards (and reuse it next time)
#
# 1. hack/kind/up.sh: the kind cluster from the locally built node image (KUBECONFIG in $MO_KIND_DIR).
# 2. hack/images/operator.sh: the operator image from the repository's Dockerfile, loaded into the node.
# 3. hack/kind/images.sh: chatapp:1.0, chatapp:1.1 and Prometheus (its Go module), loaded into the node.
# 4. Prometheus (hack/kind/manifests/prometheus.yaml) scraping the Chat App Pods through kubernetes_sd_configs.
# 5. `helm install` of helm/maintenance-operator: the operator Pod with the webhook behind the chart's Service
#    and certificate, its approval key Secret, querying Prometheus through its Service.
# 6. pytest -m kind tests/kind: each test deploys the Chat App (hack/kind/manifests/chatapp.yaml) in its own
#    namespace and injects a fault into the real Pods.
# Only what this script started is stopped: the cluster (unless KEEP_KIND=1, or it existed before).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cluster/lib.sh"
HERE="$REPO_ROOT/hack/kind"
export MO_KIND_DIR="${MO_KIND_DIR:-$REPO_ROOT/.kind}"
RELEASE=maintenance-operator
RELEASE_NS=maintenance-system
OPERATOR_IMAGE=maintenance-operator:kind
T0=$SECONDS

existed=0
[[ -f "$MO_KIND_DIR/name" ]] && existed=1
cleanup() {
  local rc=$?
  if [[ $rc -ne 0 && -f "$MO_KIND_DIR/kubeconfig" ]]; then
    mkdir -p "$MO_KIND_DIR/logs"
    KUBECONFIG="$MO_KIND_DIR/kubeconfig" kubectl logs -n "$RELEASE_NS" deploy/"$RELEASE" --tail=400 \
      >"$MO_KIND_DIR/logs/operator.log" 2>&1 || true
    log "operator log: $MO_KIND_DIR/logs/operator.log"
  fi
  if [[ "${KEEP_KIND:-0}" != 1 && $existed -eq 0 ]]; then "$HERE/down.sh" || true; fi
  exit $rc
}
trap cleanup EXIT

"$HERE/up.sh"
T_UP=$((SECONDS - T0))
NAME="$(cat "$MO_KIND_DIR/name")"
export KUBECONFIG="$MO_KIND_DIR/kubeconfig" PATH="$MO_KIND_DIR/bin:$PATH"
eval "$("$REPO_ROOT/hack/images/dockerd.sh" env --privileged)"
export DOCKER_HOST

T1=$SECONDS
"$REPO_ROOT/hack/images/operator.sh" "$OPERATOR_IMAGE" >/dev/null
kind load docker-image "$OPERATOR_IMAGE" --name "$NAME" >/dev/null
"$HERE/images.sh" --load "$NAME"
T_IMAGES=$((SECONDS - T1))

T2=$SECONDS
kubectl apply -f "$HERE/manifests/prometheus.yaml" >/dev/null
kubectl -n monitoring rollout status deploy/prometheus --timeout=180s >/dev/null
"$HELM_BIN" upgrade --install "$RELEASE" "$REPO_ROOT/helm/maintenance-operator" \
  --namespace "$RELEASE_NS" --create-namespace --wait --timeout 5m \
  --set image.repository="${OPERATOR_IMAGE%%:*}" --set image.tag="${OPERATOR_IMAGE##*:}" \
  --set image.pullPolicy=IfNotPresent \
  --set prometheus.url=http://prometheus.monitoring.svc:9090 >/dev/null
T_INSTALL=$((SECONDS - T2))
log "cluster ${T_UP}s, images ${T_IMAGES}s, Prometheus + operator installed ${T_INSTALL}s"

NODE_IP="$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$NAME-control-plane")"
export MO_KIND_NAME="$NAME" MO_KIND_RELEASE="$RELEASE" MO_KIND_RELEASE_NAMESPACE="$RELEASE_NS"
export PROMETHEUS_URL="http://$NODE_IP:30090" PYTHONPATH="$REPO_ROOT/operator"
cd "$REPO_ROOT"
if [[ $# -eq 0 ]]; then set -- -m kind tests/kind; fi
.venv/bin/python -m pytest -q "$@"
