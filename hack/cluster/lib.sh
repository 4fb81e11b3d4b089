# shellcheck shell=bash
# shellcheck disable=SC2034 # variables are used by the scripts that source this file
# Shared settings for hack/cluster/*.sh: pinned versions and cache/state locations.
# Sourced, never executed.

# ---- pinned versions (change here only) -------------------------------------
K8S_VERSION=v1.34.4   # k8s.io/kubernetes: kube-apiserver, kube-controller-manager, kube-scheduler
ETCD_VERSION=v3.6.8   # go.etcd.io/etcd/server/v3
KWOK_VERSION=v0.7.0   # sigs.k8s.io/kwok/cmd/kwok
HELM_VERSION=v3.19.5  # helm.sh/helm/v3/cmd/helm
PROMETHEUS_OPERATOR_VERSION=v0.94.0  # github.com/prometheus-operator/prometheus-operator: CRDs only
KIND_VERSION=v0.33.0     # sigs.k8s.io/kind (hack/kind/)
CRICTL_VERSION=v1.34.0   # sigs.k8s.io/cri-tools/cmd/crictl: the kind node's crictl
COREDNS_VERSION=v1.12.1  # github.com/coredns/coredns: the version kubeadm $K8S_VERSION deploys
# github.com/rancher/local-path-provisioner: kind's default storage (kind v0.33.0 builds v0.0.34; the module
# proxy here serves up to v0.0.30)
LOCAL_PATH_PROVISIONER_VERSION=v0.0.30
# Bump when the build recipe changes so cached binaries are rebuilt.
BUILD_RECIPE=1

# All modules above build with the local go (>= 1.24). Never auto-download a
# toolchain; if a future pin needs a newer Go, set GOTOOLCHAIN=go1.27.3 here.
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MO_CACHE_DIR="${MO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/maintenance-operator}"
MO_BIN_DIR="$MO_CACHE_DIR/bin"
MO_CLUSTER_DIR="$(realpath -m "${MO_CLUSTER_DIR:-$REPO_ROOT/.cluster}")"

# bin_path COMPONENT VERSION -> path of the cached binary
bin_path() { printf '%s/%s-%s/%s\n' "$MO_BIN_DIR" "$1" "$2" "$1"; }

KUBE_APISERVER_BIN="$(bin_path kube-apiserver "$K8S_VERSION")"
KUBE_CONTROLLER_MANAGER_BIN="$(bin_path kube-controller-manager "$K8S_VERSION")"
KUBE_SCHEDULER_BIN="$(bin_path kube-scheduler "$K8S_VERSION")"
# The kind node's extra binaries (hack/cluster/build.sh --node), from the same k8s.io/kubernetes.
KUBE_NODE_CMDS=(kubelet kubeadm kubectl kube-proxy)
ETCD_BIN="$(bin_path etcd "$ETCD_VERSION")"
KWOK_BIN="$(bin_path kwok "$KWOK_VERSION")"
HELM_BIN="$(bin_path helm "$HELM_VERSION")"
KIND_BIN="$(bin_path kind "$KIND_VERSION")"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Locate the go toolchain (PATH first, then the usual install location).
find_go() {
  if command -v go >/dev/null 2>&1; then command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go
  else return 1
  fi
}

# running PID: the process exists and is not a zombie (our daemons are
# re-parented to init when up.sh exits, and init may reap them late).
running() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }" # fields after "(comm) "
  [[ "${stat%% *}" != Z ]]
}

# cluster_lock: serialize up.sh/down.sh runs on the same MO_CLUSTER_DIR (several
# people or pytest sessions may share one tree). Held on fd 9 until the script
# exits; up.sh must not leak fd 9 into the daemons it starts. Re-entrant for
# down.sh called from up.sh.
cluster_lock() {
  [[ "${MO_CLUSTER_LOCK_HELD:-}" == "$MO_CLUSTER_DIR" ]] && return 0
  local dir="$MO_CACHE_DIR/locks" key
  mkdir -p "$dir"
  key="$(printf '%s' "$MO_CLUSTER_DIR" | md5sum | cut -c1-16)"
  exec 9>"$dir/cluster-$key.lock"
  if ! flock -n 9; then
    log "waiting for another up/down on $MO_CLUSTER_DIR to finish"
    flock -w "${MO_LOCK_TIMEOUT:-900}" 9 || die "timed out waiting for the lock on $MO_CLUSTER_DIR"
  fi
  export MO_CLUSTER_LOCK_HELD="$MO_CLUSTER_DIR"
}
