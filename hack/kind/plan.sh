#!/usr/bin/env bash
# Which images the kind stage uses and where each comes from: built here (default) or official (online).
#
#   hack/kind/plan.sh                 print the plan, one KEY=value a line; nothing is built, pulled or started
#   MO_IMAGE_ONLINE=1 hack/kind/plan.sh   the same for a machine that reaches the registries
#
# One setting chooses for every script of the kind stage (node-image.sh, up.sh, images.sh, install.sh,
# prepare.sh, e2e.sh) and for hack/images/operator.sh:
#   MO_IMAGE_ONLINE unset, empty or 0 (default): every image is built on this machine from pinned sources and
#       nothing is pulled (the node image from kind's recipe, the Python base from Debian, Prometheus from its
#       Go module; a static ptp CNI on the node, the kubelet on cgroupfs).
#   MO_IMAGE_ONLINE=1: the official images. The node is kind v0.33.0's published kindest/node for Kubernetes
#       1.34, pinned by tag and digest as kind's release notes give it (kind publishes v1.34.11, not the
#       v1.34.4 the offline node is built from), with kind's defaults (kindnet as its CNI, the node image's own
#       cgroup driver). The operator image and the Chat App build FROM the operator Dockerfile's default base
#       (python:3.11-slim-bookworm) with pip from PyPI; Prometheus is prom/prometheus at the release of the
#       pinned Go module (v0.316.0 is Prometheus v3.16.0), pulled by the node.
#   Any other value is an error: a typo must not fall back to a multi-hour offline build.
#
# Sourced by the scripts above (the same functions decide what they do); executed, it prints the plan.
# shellcheck shell=bash

# kind v0.33.0's release notes, "Images pre-built for this release": its only Kubernetes 1.34 image.
KIND_ONLINE_NODE_IMAGE=kindest/node:v1.34.11@sha256:44e222ee2132dab25ff87301682f89eb82c7880ea3a1bf543bfe9708fd08d67d
PROMETHEUS_MODULE_VERSION=v0.316.0   # github.com/prometheus/prometheus (Prometheus 3.x's module versions)
PROMETHEUS_ONLINE_IMAGE=prom/prometheus:v3.16.0   # the release of that module version: v0.3XX.Y is v3.XX.Y
OFFLINE_PROMETHEUS_IMAGE="mo-local/prometheus:$PROMETHEUS_MODULE_VERSION"
KIND_OPERATOR_IMAGE=maintenance-operator:kind

# image_online: true when MO_IMAGE_ONLINE=1; dies on a value that is neither 0 nor 1.
image_online() {
  case "${MO_IMAGE_ONLINE:-0}" in
    1) return 0 ;;
    0) return 1 ;;
    *) printf 'MO_IMAGE_ONLINE must be 0 or 1, not %q\n' "$MO_IMAGE_ONLINE" >&2; exit 2 ;;
  esac
}

# online_python_image: the base of the operator Dockerfile's final stage by default (its ARG PYTHON_IMAGE).
online_python_image() {
  sed -n 's/^ARG PYTHON_IMAGE=//p' "$REPO_ROOT/Dockerfile" | head -n1
}

# plan_prometheus_image: the image the Prometheus Deployment runs.
plan_prometheus_image() {
  if image_online; then echo "$PROMETHEUS_ONLINE_IMAGE"; else echo "$OFFLINE_PROMETHEUS_IMAGE"; fi
}

# plan_prometheus_manifest FILE: hack/kind/manifests/prometheus.yaml with the plan's Prometheus image (the manifest
# names the offline one, so offline it comes out unchanged).
plan_prometheus_manifest() {
  local image
  image="$(plan_prometheus_image)"
  sed "s#^\( *image: \)mo-local/prometheus:.*#\1$image#" "$1"
}

# plan_cluster_config NODE_IMAGE: kind's cluster configuration for hack/kind/up.sh.
plan_cluster_config() {
  if image_online; then
    # The official node image as kind configures it: kindnet, and the cgroup driver the image sets up.
    cat <<YAML
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  podSubnet: 10.244.0.0/16
nodes:
  - role: control-plane
    image: $1
YAML
    return 0
  fi
  cat <<YAML
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  disableDefaultCNI: true
  podSubnet: 10.244.0.0/16
nodes:
  - role: control-plane
    image: $1
kubeadmConfigPatches:
  - |
    kind: KubeletConfiguration
    cgroupDriver: cgroupfs
    failCgroupV1: false
YAML
}

# plan_print: the plan as KEY=value lines. PULLS lists every reference fetched from a registry (none offline).
plan_print() {
  local here node python node_version
  here="$REPO_ROOT/hack/kind"
  if image_online; then
    node="$KIND_ONLINE_NODE_IMAGE"
    python="$(online_python_image)"
    node_version="${node#*:}"
    cat <<PLAN
MO_IMAGE_ONLINE=1
NODE_IMAGE=$node
NODE_IMAGE_FROM=pull
KUBERNETES_VERSION=${node_version%%@*}
CNI=kindnet
KUBELET_CGROUP_DRIVER=node-image
OPERATOR_IMAGE=$KIND_OPERATOR_IMAGE
OPERATOR_IMAGE_FROM=docker-build
PYTHON_IMAGE=$python
BUILDER_IMAGE=$python
PYTHON_IMAGE_FROM=pull
CHATAPP_IMAGES=chatapp:1.0 chatapp:1.1
CHATAPP_IMAGES_FROM=docker-build
PROMETHEUS_IMAGE=$PROMETHEUS_ONLINE_IMAGE
PROMETHEUS_IMAGE_FROM=pull
PULLS=$node $python docker/dockerfile:1 $PROMETHEUS_ONLINE_IMAGE
PLAN
    return 0
  fi
  node="$("$here/node-image.sh" --tag)"
  cat <<PLAN
MO_IMAGE_ONLINE=0
NODE_IMAGE=$node
NODE_IMAGE_FROM=build
KUBERNETES_VERSION=$K8S_VERSION
CNI=ptp
KUBELET_CGROUP_DRIVER=cgroupfs
OPERATOR_IMAGE=$KIND_OPERATOR_IMAGE
OPERATOR_IMAGE_FROM=docker-build
PYTHON_IMAGE=mo-local/python:3.11-bookworm-*
BUILDER_IMAGE=mo-local/python-wheelhouse:3.11-bookworm-*
PYTHON_IMAGE_FROM=build
CHATAPP_IMAGES=chatapp:1.0 chatapp:1.1
CHATAPP_IMAGES_FROM=docker-build
PROMETHEUS_IMAGE=$OFFLINE_PROMETHEUS_IMAGE
PROMETHEUS_IMAGE_FROM=build
PULLS=
PLAN
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  # shellcheck source-path=SCRIPTDIR source=../cluster/lib.sh
  source "$(dirname "${BASH_SOURCE[0]}")/../cluster/lib.sh"
  [[ $# -eq 0 ]] || { echo "usage: $0 (MO_IMAGE_ONLINE=0|1 chooses the plan)" >&2; exit 2; }
  plan_print
fi
