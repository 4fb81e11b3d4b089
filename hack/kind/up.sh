#!/usr/bin/env bash
# Start a single-node kind cluster from the locally built node image (hack/kind/node-image.sh), offline.
#
#   hack/kind/up.sh        build what is missing, create (or reuse) the cluster, wait for it; prints timings
#   hack/kind/down.sh      delete it (only a cluster this script created)
#
# Then `source $MO_KIND_DIR/env` (default .kind/env in the repository) sets KUBECONFIG, DOCKER_HOST (the
# engine holding the node), KIND_CLUSTER_NAME and PATH (the pinned kind and kubectl first), and
# `hack/kind/load.sh IMAGE...` loads local images into the node.
#
# Settings: MO_KIND_DIR (state: kubeconfig, cluster name, logs), MO_KIND_NAME (default: derived from
# MO_KIND_DIR, so each checkout has its own cluster), MO_KIND_WAIT (seconds, default 300),
# MO_KIND_REPORT=FILE (JSON timings for benchmarks), KEEP_KIND=1 (keep a cluster whose start failed).
# The cluster has no default CNI (kindnet is not served here): the node image carries a static ptp +
# host-local CNI config, enough for one node. The kubelet runs on cgroupfs (this host is cgroup v1).
# MO_IMAGE_ONLINE=1: the official kindest/node (pulled) with kind's defaults, kindnet included
# (hack/kind/plan.sh prints what either setting uses).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cluster/lib.sh"
# shellcheck source-path=SCRIPTDIR source=plan.sh
source "$(dirname "${BASH_SOURCE[0]}")/plan.sh"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

KIND_DIR="$(realpath -m "${MO_KIND_DIR:-$REPO_ROOT/.kind}")"
NAME="${MO_KIND_NAME:-mo-$(printf '%s' "$KIND_DIR" | md5sum | cut -c1-8)}"
WAIT="${MO_KIND_WAIT:-300}"
KUBECONFIG_OUT="$KIND_DIR/kubeconfig"
mkdir -p "$KIND_DIR/bin" "$KIND_DIR/logs"

# One up/down at a time per state directory.
mkdir -p "$MO_CACHE_DIR/locks"
exec 9>"$MO_CACHE_DIR/locks/kind-$(printf '%s' "$KIND_DIR" | md5sum | cut -c1-16).lock"
flock -w "${MO_LOCK_TIMEOUT:-1800}" 9 || die "timed out waiting for another up/down on $KIND_DIR"
export MO_KIND_LOCK_HELD="$KIND_DIR"

T0=$SECONDS
eval "$("$REPO_ROOT/hack/images/dockerd.sh" env --privileged)"
export DOCKER_HOST
# The pinned tools, first on PATH (kind calls `docker`; the engine's own client where Debian's is installed).
IMAGE="$("$HERE/node-image.sh" 9>&-)"
T_IMAGE=$((SECONDS - T0))
ln -sf "$KIND_BIN" "$KIND_DIR/bin/kind"
ln -sf "$(bin_path kubectl "$K8S_VERSION")" "$KIND_DIR/bin/kubectl"
[[ -x /usr/bin/docker ]] && ln -sf /usr/bin/docker "$KIND_DIR/bin/docker"
export PATH="$KIND_DIR/bin:$PATH"

plan_cluster_config "$IMAGE" >"$KIND_DIR/cluster.yaml"

T1=$SECONDS
created=0
if kind get clusters 2>/dev/null | grep -qx "$NAME"; then
  node_image="$(docker inspect -f '{{.Config.Image}}' "$NAME-control-plane" 2>/dev/null || true)"
  if [[ "$node_image" != "$IMAGE" ]]; then
    [[ -f "$KIND_DIR/name" && "$(cat "$KIND_DIR/name")" == "$NAME" ]] ||
      die "a cluster $NAME runs an older node image ($node_image) and was not created here; delete it"
    log "cluster $NAME runs $node_image, not $IMAGE: recreating it"
    "$HERE/down.sh"
  else
    log "reusing the running cluster $NAME"
  fi
fi
if ! kind get clusters 2>/dev/null | grep -qx "$NAME"; then
  log "creating kind cluster $NAME from $IMAGE (DOCKER_HOST=$DOCKER_HOST)"
  printf '%s\n' "$NAME" >"$KIND_DIR/name"
  printf '%s\n' "$DOCKER_HOST" >"$KIND_DIR/docker-host"
  created=1
  if ! kind create cluster --name "$NAME" --config "$KIND_DIR/cluster.yaml" --kubeconfig "$KUBECONFIG_OUT" \
    --retain 9>&- 2>&1 | tee "$KIND_DIR/logs/create.log" >&2; then
    rm -rf "$KIND_DIR/logs/export"
    kind export logs --name "$NAME" "$KIND_DIR/logs/export" >/dev/null 2>&1 || true
    [[ "${KEEP_KIND:-0}" == 1 ]] || "$HERE/down.sh"
    die "kind create failed (logs: $KIND_DIR/logs)"
  fi
fi
T_CREATE=$((SECONDS - T1))
kind get kubeconfig --name "$NAME" >"$KUBECONFIG_OUT.tmp" && mv "$KUBECONFIG_OUT.tmp" "$KUBECONFIG_OUT"

T2=$SECONDS
k() { kubectl --kubeconfig "$KUBECONFIG_OUT" "$@"; }
ready=0
deadline=$((SECONDS + WAIT))
while ((SECONDS < deadline)); do
  if k wait node --all --for=condition=Ready --timeout=1s >/dev/null 2>&1 &&
    k -n kube-system wait pod -l k8s-app=kube-dns --for=condition=Ready --timeout=1s >/dev/null 2>&1; then
    ready=1
    break
  fi
  sleep 1
done
if [[ $ready -ne 1 ]]; then
  k get nodes,pods -A -o wide >&2 || true
  [[ $created -eq 1 && "${KEEP_KIND:-0}" != 1 ]] && "$HERE/down.sh"
  die "cluster $NAME not ready within ${WAIT}s (node Ready and CoreDNS Ready)"
fi
T_READY=$((SECONDS - T2))
log "cluster $NAME ready: node image ${T_IMAGE}s, create ${T_CREATE}s, node+CoreDNS ready ${T_READY}s, total $((SECONDS - T0))s"
# For the shell and other scripts: `source $MO_KIND_DIR/env` (hack/kind/load.sh loads local images).
{
  printf 'export KUBECONFIG=%q\n' "$KUBECONFIG_OUT"
  printf 'export DOCKER_HOST=%q\n' "$DOCKER_HOST"
  printf 'export KIND_CLUSTER_NAME=%q\n' "$NAME"
  printf 'export PATH=%q:"$PATH"\n' "$KIND_DIR/bin"
} >"$KIND_DIR/env"
log "source $KIND_DIR/env (KUBECONFIG=$KUBECONFIG_OUT, DOCKER_HOST=$DOCKER_HOST, KIND_CLUSTER_NAME=$NAME)"
if [[ -n "${MO_KIND_REPORT:-}" ]]; then
  printf '{"cluster": "%s", "node_image": "%s", "created": %s, "node_image_seconds": %d, "create_seconds": %d, "ready_seconds": %d, "total_seconds": %d}\n' \
    "$NAME" "$IMAGE" "$([[ $created -eq 1 ]] && echo true || echo false)" "$T_IMAGE" "$T_CREATE" "$T_READY" \
    "$((SECONDS - T0))" >"$MO_KIND_REPORT"
fi
