#!/usr/bin/env bash
# Build (once, cached) the pinned binaries of the local test cluster:
#   kube-apiserver, kube-controller-manager, kube-scheduler (k8s.io/kubernetes),
#   etcd (go.etcd.io/etcd/server/v3), kwok, helm.
# Binaries go to $MO_CACHE_DIR/bin/<component>-<version>/<component>, never into
# the git tree. A component is rebuilt only if its binary or stamp is missing or
# the stamp does not match (version + recipe).
#
#   hack/cluster/build.sh          build what is missing
#   hack/cluster/build.sh --check  exit 0 iff everything is cached (no build)
#   hack/cluster/build.sh --node [--check]  also the kind node's binaries from the same pinned module:
#                                  kubelet, kubeadm, kubectl, kube-proxy; and kind, crictl, coredns,
#                                  local-path-provisioner
#                                  (hack/kind/node-image.sh)
#   MO_BUILD_ONLY="kind coredns" hack/cluster/build.sh --node   only these (if missing)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stamp_of() { printf 'component=%s version=%s recipe=%s\n' "$1" "$2" "$BUILD_RECIPE"; }

is_cached() { # COMPONENT VERSION
  local bin dir
  bin="$(bin_path "$1" "$2")"
  dir="$(dirname "$bin")"
  [[ -x "$bin" && -f "$dir/.stamp" && "$(cat "$dir/.stamp")" == "$(stamp_of "$1" "$2")" ]]
}

# install_bin COMPONENT VERSION BUILT_FILE: atomically place the binary + stamp.
install_bin() {
  local dir
  dir="$(dirname "$(bin_path "$1" "$2")")"
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp"
  mv "$3" "$dir.tmp/$1"
  stamp_of "$1" "$2" >"$dir.tmp/.stamp"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
}

all_components=(
  "kube-apiserver $K8S_VERSION" "kube-controller-manager $K8S_VERSION" "kube-scheduler $K8S_VERSION"
  "etcd $ETCD_VERSION" "kwok $KWOK_VERSION" "helm $HELM_VERSION"
)
NODE=0 CHECK=0
for arg in "$@"; do
  case "$arg" in
    --node) NODE=1 ;;
    --check) CHECK=1 ;;
    *) die "usage: $0 [--node] [--check]" ;;
  esac
done
KUBE_CMDS=(kube-apiserver kube-controller-manager kube-scheduler)
if [[ $NODE -eq 1 ]]; then
  KUBE_CMDS+=("${KUBE_NODE_CMDS[@]}")
  for c in "${KUBE_NODE_CMDS[@]}"; do all_components+=("$c $K8S_VERSION"); done
  all_components+=("kind $KIND_VERSION" "crictl $CRICTL_VERSION" "coredns $COREDNS_VERSION")
  all_components+=("local-path-provisioner $LOCAL_PATH_PROVISIONER_VERSION")
fi

missing=()
for c in "${all_components[@]}"; do
  if [[ -n "${MO_BUILD_ONLY:-}" && " $MO_BUILD_ONLY " != *" ${c%% *} "* ]]; then continue; fi
  # shellcheck disable=SC2086
  is_cached $c || missing+=("${c%% *}")
done

if [[ $CHECK -eq 1 ]]; then
  [[ ${#missing[@]} -eq 0 ]]
  exit
fi
if [[ ${#missing[@]} -eq 0 ]]; then
  log "all binaries cached in $MO_BIN_DIR"
  exit 0
fi
# One builder at a time on this machine: wait for another build.sh, then build only what is still missing.
if [[ -z "${MO_BUILD_LOCK_HELD:-}" ]]; then
  mkdir -p "$MO_CACHE_DIR/locks"
  exec 8>"$MO_CACHE_DIR/locks/build.lock"
  if ! flock -n 8; then
    log "waiting for another hack/cluster/build.sh to finish"
    flock -w "${MO_LOCK_TIMEOUT:-7200}" 8 || die "timed out waiting for $MO_CACHE_DIR/locks/build.lock"
    MO_BUILD_LOCK_HELD=1 exec "$0" "$@" # the lock (fd 8) stays held
  fi
fi
log "to build: ${missing[*]} (cache: $MO_BIN_DIR)"

GO="$(find_go)" || die "go not found (need go >= 1.24; /usr/local/go/bin/go is the usual place)"
PATH="$(dirname "$GO"):$PATH"
export PATH
export CGO_ENABLED=0
# Two concurrent builds on a small machine: keep the go build parallelism at
# the core count so the machine is busy but not thrashing.
JOBS="$(nproc)"
SRC_DIR="$MO_CACHE_DIR/src"
LOG_DIR="$MO_CACHE_DIR/logs"
mkdir -p "$SRC_DIR" "$LOG_DIR" "$MO_BIN_DIR"
# A private Go build cache, deleted after a successful build: the kubernetes
# build leaves ~4 GB there that nothing else needs. MO_KEEP_GOCACHE=1 keeps it
# (faster retries while changing the recipe). The module cache stays shared.
export GOCACHE="$MO_CACHE_DIR/go-build"

# Wrapper module directory (fresh each time, the module cache makes it cheap).
new_wrapper() { # NAME -> prints dir
  local d="$SRC_DIR/$1"
  rm -rf "$d"
  mkdir -p "$d"
  printf '%s\n' "$d"
}

build_kubernetes() {
  local t0=$SECONDS v="$K8S_VERSION" staging_v gomod dir out major minor date ld
  staging_v="v0.${v#v1.}"                 # v1.34.4 -> v0.34.4
  major=1
  minor="$(cut -d. -f2 <<<"$v")"
  dir="$(new_wrapper "kubernetes-$v")"
  cd "$dir"
  go mod init mo.local/cluster-build/kubernetes
  gomod="$(go mod download -json "k8s.io/kubernetes@$v" | sed -n 's/.*"GoMod": "\(.*\)",*$/\1/p')"
  [[ -f "$gomod" ]] || die "cannot download k8s.io/kubernetes@$v"
  # k8s.io/kubernetes points each staging module at ./staging/...; consumers
  # must replace every one with the published v0.<minor>.<patch>.
  local staging
  staging="$(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/.*#\1#p' "$gomod")"
  [[ -n "$staging" ]] || die "no staging replaces found in $gomod"
  local args=()
  for m in $staging; do args+=("-replace=$m=$m@$staging_v"); done
  go mod edit "${args[@]}"
  local cmds=() pkgs=() c
  for c in "${KUBE_CMDS[@]}"; do has "$c" && cmds+=("$c") && pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  go get "${pkgs[@]/%/@$v}"
  date="$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "${gomod%.mod}.info")"
  ld="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=${date:-1970-01-01T00:00:00Z}"
  done
  out="$dir/out"
  mkdir -p "$out"
  go build -p "$JOBS" -trimpath -ldflags "$ld" -o "$out/" "${pkgs[@]}"
  for b in "${cmds[@]}"; do
    install_bin "$b" "$v" "$out/$b"
  done
  rm -rf "$dir"
  log "kubernetes $v (${cmds[*]}) built in $((SECONDS - t0))s"
}

build_etcd() {
  local t0=$SECONDS dir
  dir="$(new_wrapper "etcd-$ETCD_VERSION")"
  cd "$dir"
  go mod init mo.local/cluster-build/etcd
  # server/ has relative replaces in its own go.mod: they are ignored for a
  # dependency, so build it from this wrapper module.
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  go build -p "$JOBS" -trimpath -ldflags "-s -w" -o "$dir/etcd" go.etcd.io/etcd/server/v3
  install_bin etcd "$ETCD_VERSION" "$dir/etcd"
  rm -rf "$dir"
  log "etcd $ETCD_VERSION built in $((SECONDS - t0))s"
}

build_kwok() {
  local t0=$SECONDS dir
  dir="$(new_wrapper "kwok-$KWOK_VERSION")"
  GOBIN="$dir" go install -p "$JOBS" -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  install_bin kwok "$KWOK_VERSION" "$dir/kwok"
  rm -rf "$dir"
  log "kwok $KWOK_VERSION built in $((SECONDS - t0))s"
}

build_helm() {
  local t0=$SECONDS dir
  dir="$(new_wrapper "helm-$HELM_VERSION")"
  GOBIN="$dir" go install -p "$JOBS" -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  install_bin helm "$HELM_VERSION" "$dir/helm"
  rm -rf "$dir"
  log "helm $HELM_VERSION built in $((SECONDS - t0))s"
}

# go_install COMPONENT VERSION PACKAGE@VERSION [LDFLAGS]: a plain `go install` into the cache.
go_install() {
  local t0=$SECONDS dir
  dir="$(new_wrapper "$1-$2")"
  GOBIN="$dir" go install -p "$JOBS" -trimpath -ldflags "-s -w ${4:-}" "$3"
  install_bin "$1" "$2" "$dir/$(basename "${3%@*}")"
  rm -rf "$dir"
  log "$1 $2 built in $((SECONDS - t0))s"
}
build_kind() { go_install kind "$KIND_VERSION" "sigs.k8s.io/kind@$KIND_VERSION"; }
build_crictl() {
  go_install crictl "$CRICTL_VERSION" "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION" \
    "-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION"
}
build_coredns() {
  go_install coredns "$COREDNS_VERSION" "github.com/coredns/coredns@$COREDNS_VERSION" \
    "-X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION"
}
# Static (CGO_ENABLED=0 above), version stamped as its scripts/build does.
build_local-path-provisioner() {
  go_install local-path-provisioner "$LOCAL_PATH_PROVISIONER_VERSION" \
    "github.com/rancher/local-path-provisioner@$LOCAL_PATH_PROVISIONER_VERSION" \
    "-X main.VERSION=$LOCAL_PATH_PROVISIONER_VERSION"
}

has() { local x; for x in "${missing[@]}"; do [[ "$x" == "$1" ]] && return 0; done; return 1; }

# Two lanes: the big kubernetes build, and the small ones one after another.
T0=$SECONDS
pids=()
names=()
kube_missing=0
for c in "${KUBE_CMDS[@]}"; do has "$c" && kube_missing=1; done
if [[ $kube_missing -eq 1 ]]; then
  ( build_kubernetes ) >"$LOG_DIR/build-kubernetes.log" 2>&1 &
  pids+=($!); names+=(kubernetes)
  log "building kubernetes $K8S_VERSION (log: $LOG_DIR/build-kubernetes.log)"
fi
small=()
for c in etcd kwok helm kind crictl coredns local-path-provisioner; do has "$c" && small+=("$c"); done
if [[ ${#small[@]} -gt 0 ]]; then
  (
    for c in "${small[@]}"; do
      ( "build_$c" ) || exit 1
    done
  ) >"$LOG_DIR/build-tools.log" 2>&1 &
  pids+=($!); names+=(tools)
  log "building ${small[*]} (log: $LOG_DIR/build-tools.log)"
fi

rc=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    rc=1
    log "build of ${names[$i]} FAILED; last lines of $LOG_DIR/build-${names[$i]}.log:"
    tail -n 40 "$LOG_DIR/build-${names[$i]}.log" >&2
  fi
done
grep -h ' built in ' "$LOG_DIR"/build-*.log >&2 || true
[[ $rc -eq 0 ]] || die "build failed (Go build cache kept in $GOCACHE for the retry)"
if [[ "${MO_KEEP_GOCACHE:-0}" != 1 ]]; then rm -rf "$GOCACHE"; fi
log "build finished in $((SECONDS - T0))s; binaries in $MO_BIN_DIR"
