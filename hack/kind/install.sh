#!/usr/bin/env bash
# Install the workloads of the kind e2e stage into a running kind cluster (idempotent; images cached):
#
#   KUBECONFIG=.kind/kubeconfig hack/kind/install.sh
#
# 1. the operator image (hack/images/operator.sh, from the repository's Dockerfile) and the Chat App and
#    Prometheus images (hack/kind/images.sh), loaded into the node (`kind load` skips what it already holds);
# 2. Prometheus (hack/kind/manifests/prometheus.yaml), scraping Chat App Pods through kubernetes_sd_configs;
# 3. `helm upgrade --install` of helm/maintenance-operator: the operator Pod, its webhook behind the chart's
#    Service and certificate, the approval key Secret, Prometheus queried through its Service.
# The Chat App itself is deployed per test namespace (hack/kind/manifests/chatapp.yaml).
# MO_IMAGE_ONLINE=1: the operator and Chat App images build FROM python:3.11-slim with pip from PyPI, and
# Prometheus runs the official prom/prometheus image (hack/kind/plan.sh prints which images either way).
# Prints PROMETHEUS_URL=http://<node>:30090 (Prometheus from this host) last.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cluster/lib.sh"
# shellcheck source-path=SCRIPTDIR source=plan.sh
source "$(dirname "${BASH_SOURCE[0]}")/plan.sh"
HERE="$REPO_ROOT/hack/kind"
KIND_DIR="$(realpath -m "${MO_KIND_DIR:-$REPO_ROOT/.kind}")"
[[ -n "${KUBECONFIG:-}" ]] || export KUBECONFIG="$KIND_DIR/kubeconfig"
export PATH="$KIND_DIR/bin:$PATH"
RELEASE="${MO_KIND_RELEASE:-maintenance-operator}"
RELEASE_NS="${MO_KIND_RELEASE_NAMESPACE:-maintenance-system}"
OPERATOR_IMAGE="$KIND_OPERATOR_IMAGE"
NAME="${MO_KIND_NAME:-$(kubectl config current-context)}"
NAME="${NAME#kind-}"
eval "$("$REPO_ROOT/hack/images/dockerd.sh" env --privileged)"
export DOCKER_HOST

T0=$SECONDS
"$REPO_ROOT/hack/images/operator.sh" "$OPERATOR_IMAGE" >/dev/null
kind load docker-image "$OPERATOR_IMAGE" --name "$NAME" >/dev/null
"$HERE/images.sh" --load "$NAME"
T_IMAGES=$((SECONDS - T0))

T1=$SECONDS
plan_prometheus_manifest "$HERE/manifests/prometheus.yaml" | kubectl apply -f - >/dev/null
kubectl -n monitoring rollout status deploy/prometheus --timeout=300s >/dev/null
"$HELM_BIN" upgrade --install "$RELEASE" "$REPO_ROOT/helm/maintenance-operator" \
  --namespace "$RELEASE_NS" --create-namespace --wait --timeout 5m \
  --set image.repository="${OPERATOR_IMAGE%%:*}" --set image.tag="${OPERATOR_IMAGE##*:}" \
  --set image.pullPolicy=IfNotPresent \
  --set prometheus.url=http://prometheus.monitoring.svc:9090 >/dev/null
NODE_IP="$(kubectl get nodes -o jsonpath='{.items[0].status.addresses[?(@.type=="InternalIP")].address}')"
log "images ${T_IMAGES}s, Prometheus + operator installed in $((SECONDS - T1))s"
echo "PROMETHEUS_URL=http://$NODE_IP:30090"
