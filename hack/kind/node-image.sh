#!/usr/bin/env bash
# Build (once, cached) a kind node image for the pinned Kubernetes, offline: no image registry is needed.
#
#   hack/kind/node-image.sh            build what is missing; prints the node image's tag on stdout
#   hack/kind/node-image.sh --tag      print the tag only (no build)
#   hack/kind/node-image.sh --rootfs   only the Debian root filesystems (network, no compiler)
#   MO_KIND_REPORT=FILE hack/kind/node-image.sh   JSON timings for benchmarks
#   MO_IMAGE_ONLINE=1 hack/kind/node-image.sh      the official kindest/node instead, pulled (hack/kind/plan.sh)
#
# kind's own node-image builder pulls every image it did not build, so this follows kind's recipe (the
# sigs.k8s.io/kind module's images/base/) with inputs prepared on the host:
#   rootfs   mmdebstrap of Debian bookworm with the packages kind's base Dockerfile installs, plus Debian's
#            containerd, runc and containernetworking-plugins (kind builds those from source)
#   node     kind's files (entrypoint, containerd config, kubelet unit), kubelet/kubeadm/kubectl and crictl
#            from hack/cluster/build.sh --node, containerd on cgroupfs with hack/kind/runc-capfilter as its
#            runc (BinaryName), a static ptp + host-local CNI config for a single node (the cluster is
#            created with disableDefaultCNI: kindnet is not served here)
#   images   kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy (same pinned build), etcd
#            (hack/cluster/build.sh), CoreDNS (its Go module), pause (kubernetes' pause.c, static), named as
#            `kubeadm config images list` names them, imported into the node's containerd and committed.
#            etcd is our pinned $ETCD_VERSION under the tag kubeadm expects (3.6.5-0 for v1.34).
# Everything is keyed by NODE_RECIPE and the versions; images live in the Docker engine of
# hack/images/dockerd.sh (the private one, wrapped where privileged containers fail), work files under
# $MO_CACHE_DIR/kind.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cluster/lib.sh"
# shellcheck source-path=SCRIPTDIR source=plan.sh
source "$(dirname "${BASH_SOURCE[0]}")/plan.sh"

NODE_RECIPE=1 # bump when anything below changes
SUITE=bookworm
REGISTRY=registry.k8s.io
PAUSE_TAG=3.10.1
ETCD_TAG=3.6.5-0
NODE_PACKAGES=systemd,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz
NODE_PACKAGES+=,fuse-overlayfs,nfs-common,open-iscsi,e2fsprogs,bash,ca-certificates,curl,jq,procps
NODE_PACKAGES+=,containerd,runc,containernetworking-plugins
PROXY_PACKAGES=iptables,conntrack,kmod
POD_SUBNET=10.244.0.0/16 # kind's default podSubnet; the single node uses its first /24
NODE_POD_CIDR=10.244.0.0/24
MIRRORS=(
  "deb ${MO_DEBIAN_MIRROR:-http://deb.debian.org/debian} $SUITE main"
  "deb ${MO_DEBIAN_MIRROR:-http://deb.debian.org/debian} $SUITE-updates main"
  "deb ${MO_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security} $SUITE-security main"
)
DIR="$MO_CACHE_DIR/kind"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$DIR"

key_of() { printf '%s\n' "$@" | sha256sum | cut -c1-12; }
ROOTFS_KEY="$(key_of "$NODE_RECIPE" "$SUITE" "$NODE_PACKAGES" "${MIRRORS[@]}")"
PROXY_KEY="$(key_of "$NODE_RECIPE" "$SUITE" "$PROXY_PACKAGES" "${MIRRORS[@]}")"
NODE_KEY="$(key_of "$NODE_RECIPE" "$ROOTFS_KEY" "$PROXY_KEY" "$K8S_VERSION" "$ETCD_VERSION" "$COREDNS_VERSION" \
  "$CRICTL_VERSION" "$KIND_VERSION" "$POD_SUBNET" "$(cat "$HERE/runc-capfilter")")"
ROOTFS_IMAGE="mo-local/kind-rootfs:$SUITE-$ROOTFS_KEY"
PROXY_BASE_IMAGE="mo-local/kube-proxy-base:$SUITE-$PROXY_KEY"
NODE_IMAGE="mo-local/kind-node:$K8S_VERSION-$NODE_KEY"

if image_online; then NODE_IMAGE="$KIND_ONLINE_NODE_IMAGE"; fi
if [[ "${1:-}" == --tag ]]; then echo "$NODE_IMAGE"; exit 0; fi

eval "$("$REPO_ROOT/hack/images/dockerd.sh" env --privileged)"
DOCKER=docker
[[ -x /usr/bin/docker ]] && DOCKER=/usr/bin/docker
have_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

if image_online; then
  [[ "${1:-}" != --rootfs ]] || die "--rootfs builds the offline node's root filesystems: unset MO_IMAGE_ONLINE"
  T0=$SECONDS
  # The node comes pulled; kind, the kubectl and helm that up.sh and install.sh run are still the pinned ones.
  MO_BUILD_ONLY="kind kubectl helm" "$REPO_ROOT/hack/cluster/build.sh" --node >&2
  cached=true
  have_image "$NODE_IMAGE" || { cached=false; log "pulling $NODE_IMAGE"; "$DOCKER" pull -q "$NODE_IMAGE" >&2; }
  [[ -z "${MO_KIND_REPORT:-}" ]] || printf '{"node_image": "%s", "cached": %s, "pulled": true, "seconds": %d}\n' \
    "$NODE_IMAGE" "$cached" "$((SECONDS - T0))" >"$MO_KIND_REPORT"
  echo "$NODE_IMAGE"
  exit 0
fi
# Classic builder: these Dockerfiles are plain COPY/RUN, and it needs no frontend image.
build() { DOCKER_BUILDKIT=0 nice -n 10 "$DOCKER" build -q "$@" >/dev/null; }

T0=$SECONDS
# One build at a time on this machine (checkouts share the cache and the engine); the others then find it.
mkdir -p "$MO_CACHE_DIR/locks"
exec 7>"$MO_CACHE_DIR/locks/kind-node-image.lock"
flock -w "${MO_LOCK_TIMEOUT:-3600}" 7 || die "timed out waiting for another node image build"
if have_image "$NODE_IMAGE"; then
  log "node image cached: $NODE_IMAGE"
  [[ -z "${MO_KIND_REPORT:-}" ]] || printf '{"node_image": "%s", "cached": true, "seconds": %d}\n' \
    "$NODE_IMAGE" "$((SECONDS - T0))" >"$MO_KIND_REPORT"
  echo "$NODE_IMAGE"
  exit 0
fi


# ---- root filesystems ------------------------------------------------------------------------------------
debootstrap_image() { # IMAGE PACKAGES [EXTRA mmdebstrap args...]
  local image="$1" packages="$2" tar
  shift 2
  command -v mmdebstrap >/dev/null 2>&1 || {
    [[ $(id -u) -eq 0 ]] || die "mmdebstrap missing: apt-get install mmdebstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
  }
  tar="$DIR/rootfs-${image##*:}.tar"
  rm -f "$tar" "$tar.tmp"
  log "mmdebstrap $SUITE for $image: $packages"
  nice -n 10 mmdebstrap --quiet --format=tar --variant=minbase --include="$packages" \
    --aptopt='Acquire::Languages "none"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    "$@" "$SUITE" "$tar.tmp" "${MIRRORS[@]}" </dev/null
  mv "$tar.tmp" "$tar"
  "$DOCKER" import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$tar" "$image" >/dev/null
  rm -f "$tar"
}

T1=$SECONDS
have_image "$ROOTFS_IMAGE" || debootstrap_image "$ROOTFS_IMAGE" "$NODE_PACKAGES"
have_image "$PROXY_BASE_IMAGE" || debootstrap_image "$PROXY_BASE_IMAGE" "$PROXY_PACKAGES"
T_ROOTFS=$((SECONDS - T1))
[[ "${1:-}" == --rootfs ]] && exit 0

# The binaries: hack/cluster/build.sh builds (once) what is missing.
T4=$SECONDS
"$REPO_ROOT/hack/cluster/build.sh" --node >&2
T_BINS=$((SECONDS - T4))

# ---- the images kubeadm runs -----------------------------------------------------------------------------
T2=$SECONDS
WORK="$DIR/work-$NODE_KEY"
rm -rf "$WORK"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
GO="$(find_go)" || die "go not found"
KIND_SRC="$(cd "$DIR" && "$GO" mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | sed -n 's/.*"Dir": "\(.*\)",*$/\1/p')"
[[ -d "$KIND_SRC/images/base/files" ]] || die "cannot download sigs.k8s.io/kind@$KIND_VERSION"
K8S_SRC="$(cd "$DIR" && "$GO" mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"Dir": "\(.*\)",*$/\1/p')"
[[ -f "$K8S_SRC/build/pause/linux/pause.c" ]] || die "no pause.c in k8s.io/kubernetes@$K8S_VERSION"

# scratch_image TAG BINARY [ENTRYPOINT]: one static binary in /usr/local/bin, as the official images do.
scratch_image() {
  local tag="$1" bin="$2" ctx
  ctx="$WORK/img-$(basename "$bin")"
  mkdir -p "$ctx"
  cp "$bin" "$ctx/"
  {
    echo "FROM scratch"
    echo "COPY $(basename "$bin") /usr/local/bin/$(basename "$bin")"
    echo "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    [[ -n "${3:-}" ]] && echo "ENTRYPOINT [\"$3\"]"
  } >"$ctx/Dockerfile"
  build -t "$tag" "$ctx"
}

IMAGES=()
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  scratch_image "$REGISTRY/$c:$K8S_VERSION" "$(bin_path "$c" "$K8S_VERSION")"
  IMAGES+=("$REGISTRY/$c:$K8S_VERSION")
done
scratch_image "$REGISTRY/etcd:$ETCD_TAG" "$ETCD_BIN"
IMAGES+=("$REGISTRY/etcd:$ETCD_TAG")
# CoreDNS: the official image is /coredns as its entrypoint.
mkdir -p "$WORK/img-coredns"
cp "$(bin_path coredns "$COREDNS_VERSION")" "$WORK/img-coredns/coredns"
printf 'FROM scratch\nCOPY coredns /coredns\nEXPOSE 53 53/udp\nENTRYPOINT ["/coredns"]\n' >"$WORK/img-coredns/Dockerfile"
build -t "$REGISTRY/coredns/coredns:$COREDNS_VERSION" "$WORK/img-coredns"
IMAGES+=("$REGISTRY/coredns/coredns:$COREDNS_VERSION")
# pause: kubernetes' own pause.c, static.
command -v gcc >/dev/null 2>&1 || {
  [[ $(id -u) -eq 0 ]] || die "gcc missing (pause is built from pause.c): apt-get install gcc libc6-dev"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null
}
mkdir -p "$WORK/img-pause"
gcc -Os -static -s -DVERSION="v$PAUSE_TAG-mo" -o "$WORK/img-pause/pause" "$K8S_SRC/build/pause/linux/pause.c"
printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' >"$WORK/img-pause/Dockerfile"
build -t "$REGISTRY/pause:$PAUSE_TAG" "$WORK/img-pause"
IMAGES+=("$REGISTRY/pause:$PAUSE_TAG")
# kube-proxy: Debian's iptables, whose backend (legacy or nft) follows the node's, as iptables-wrappers do.
mkdir -p "$WORK/img-kube-proxy"
cp "$(bin_path kube-proxy "$K8S_VERSION")" "$WORK/img-kube-proxy/kube-proxy"
cat >"$WORK/img-kube-proxy/iptables-wrapper" <<'SH'
#!/bin/sh
# Pick the iptables backend the node uses (the one holding more rules), link every iptables name to it, rerun.
legacy=$( (iptables-legacy-save || true; ip6tables-legacy-save || true) 2>/dev/null | grep -c '^-')
nft=$( (timeout 5 sh -c "iptables-nft-save; ip6tables-nft-save" || true) 2>/dev/null | grep -c '^-')
if [ "${legacy:-0}" -ge "${nft:-0}" ]; then mode=legacy; else mode=nft; fi
for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
  ln -sf "xtables-$mode-multi" "/usr/sbin/$t"
done
exec "$0" "$@"
SH
cat >"$WORK/img-kube-proxy/Dockerfile" <<DOCKERFILE
FROM $PROXY_BASE_IMAGE
COPY kube-proxy /usr/local/bin/kube-proxy
COPY iptables-wrapper /usr/sbin/iptables-wrapper
RUN chmod 755 /usr/sbin/iptables-wrapper \\
 && for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do \\
      ln -sf iptables-wrapper /usr/sbin/\$t; done
DOCKERFILE
build -t "$REGISTRY/kube-proxy:$K8S_VERSION" "$WORK/img-kube-proxy"
IMAGES+=("$REGISTRY/kube-proxy:$K8S_VERSION")
"$DOCKER" save -o "$WORK/images.tar" "${IMAGES[@]}"
T_IMAGES=$((SECONDS - T2))

# ---- the node ---------------------------------------------------------------------------------------------
T3=$SECONDS
CTX="$WORK/node"
mkdir -p "$CTX/files" "$CTX/bin"
cp -r "$KIND_SRC/images/base/files/." "$CTX/files/"
chmod -R u+w "$CTX/files"
for b in kubelet kubeadm kubectl; do cp "$(bin_path "$b" "$K8S_VERSION")" "$CTX/bin/$b"; done
cp "$(bin_path crictl "$CRICTL_VERSION")" "$CTX/bin/crictl"
cp "$HERE/runc-capfilter" "$CTX/bin/"
# containerd 1.6 (Debian) reads kind's v2 config; cgroupfs (this host is cgroup v1), the runc wrapper, the
# pause tag kubeadm names.
sed -i -e 's/SystemdCgroup = true/SystemdCgroup = false\n    BinaryName = "\/usr\/local\/bin\/runc-capfilter"/' \
  -e "s#sandbox_image = .*#sandbox_image = \"$REGISTRY/pause:$PAUSE_TAG\"#" "$CTX/files/etc/containerd/config.toml"
grep -q 'BinaryName' "$CTX/files/etc/containerd/config.toml" || die "containerd config: BinaryName not set"
cat >"$CTX/10-mo-ptp.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "kind-ptp",
  "plugins": [
    {
      "type": "ptp",
      "ipMasq": true,
      "mtu": 1500,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$NODE_POD_CIDR"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
cat >"$CTX/default-storage.yaml" <<'YAML'
# host-path based default storage class (kind's fallback; local-path-provisioner is not built here)
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  namespace: kube-system
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/host-path
YAML
cat >"$CTX/Dockerfile" <<DOCKERFILE
FROM $ROOTFS_IMAGE
COPY files/ /
COPY bin/kubelet bin/kubeadm bin/kubectl /usr/bin/
COPY bin/crictl bin/runc-capfilter /usr/local/bin/
COPY 10-mo-ptp.conflist /etc/cni/net.d/10-mo-ptp.conflist
COPY default-storage.yaml /kind/manifests/default-storage.yaml
RUN chmod 755 /kind /kind/bin /kind/bin/* /usr/local/bin/* /usr/bin/kubelet /usr/bin/kubeadm /usr/bin/kubectl \\
 && find /etc/systemd /etc/containerd /etc/default /etc/sysctl.d /etc/crictl.yaml /kind/README.txt -type f \\
      -exec chmod 644 {} + \\
 && ln -sf /usr/bin/containerd /usr/local/bin/containerd \\
 && ln -sf /usr/bin/ctr /usr/local/bin/ctr \\
 && ln -sf /usr/bin/containerd-shim-runc-v2 /usr/local/bin/containerd-shim-runc-v2 \\
 && mkdir -p /opt/cni && rm -rf /opt/cni/bin && ln -s /usr/lib/cni /opt/cni/bin \\
 && find /lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete \\
 && rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* \\
      /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \\
      /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/* \\
 && echo "ReadKMsg=no" >> /etc/systemd/journald.conf \\
 && ln -sf /usr/lib/systemd/systemd /sbin/init \\
 && systemctl enable kubelet.service containerd.service undo-mount-hacks.service \\
 && systemctl mask systemd-binfmt.service \\
 && mkdir -p /etc/kubernetes/manifests \\
 && ctr oci spec \\
      | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \\
      | jq 'del(.process.rlimits)' > /etc/containerd/cri-base.json \\
 && echo -n "$K8S_VERSION" > /kind/version \\
 && containerd --version && runc --version && kubelet --version
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]
DOCKERFILE
NODE_BASE="mo-local/kind-node-base:$K8S_VERSION-$NODE_KEY"
build -t "$NODE_BASE" "$CTX"

# Preload the images into the node's containerd, as kind's builder does, then commit.
log "preloading ${#IMAGES[@]} images into the node's containerd"
CID="$("$DOCKER" run -d --privileged --entrypoint sleep "$NODE_BASE" infinity 7>&-)"
trap '"$DOCKER" rm -f -v "$CID" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
"$DOCKER" exec "$CID" bash -c 'nohup containerd >/tmp/containerd.log 2>&1 &'
"$DOCKER" exec "$CID" bash -c 'for i in $(seq 60); do [ -S /run/containerd/containerd.sock ] && ctr version >/dev/null 2>&1 && exit 0; sleep 0.5; done; cat /tmp/containerd.log; exit 1' \
  || die "containerd did not start in the build container"
"$DOCKER" exec -i "$CID" ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned \
  --all-platforms --no-unpack --digests - <"$WORK/images.tar" >/dev/null
"$DOCKER" exec "$CID" ctr --namespace=k8s.io images list -q | grep -v '^sha256:' >"$WORK/imported" || true
for image in "${IMAGES[@]}"; do
  grep -qx "$image" "$WORK/imported" || die "image $image missing after import (have: $(tr '\n' ' ' <"$WORK/imported"))"
done
"$DOCKER" exec "$CID" bash -c 'pkill containerd; for i in $(seq 30); do pgrep -x containerd >/dev/null || exit 0; sleep 0.5; done'
"$DOCKER" commit --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' "$CID" "$NODE_IMAGE" >/dev/null
"$DOCKER" rmi "$NODE_BASE" >/dev/null 2>&1 || true
T_NODE=$((SECONDS - T3))
SIZE="$("$DOCKER" image inspect -f '{{.Size}}' "$NODE_IMAGE")"
log "built $NODE_IMAGE in $((SECONDS - T0))s (binaries ${T_BINS}s, rootfs ${T_ROOTFS}s, images ${T_IMAGES}s, node ${T_NODE}s), $((SIZE / 1000000)) MB"
if [[ -n "${MO_KIND_REPORT:-}" ]]; then
  printf '{"node_image": "%s", "cached": false, "seconds": %d, "binaries_seconds": %d, "rootfs_seconds": %d, "images_seconds": %d, "node_seconds": %d, "size_bytes": %d}\n' \
    "$NODE_IMAGE" "$((SECONDS - T0))" "$T_BINS" "$T_ROOTFS" "$T_IMAGES" "$T_NODE" "$SIZE" >"$MO_KIND_REPORT"
fi
echo "$NODE_IMAGE"
