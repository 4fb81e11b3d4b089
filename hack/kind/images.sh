#!/usr/bin/env bash
# The workload images of the kind e2e stage, built here where no image registry is reachable.
#
#   hack/kind/images.sh                   build (cached) chatapp:1.0, chatapp:1.1 and mo-local/prometheus:<version>
#   hack/kind/images.sh --load CLUSTER    ... and `kind load docker-image` them into the kind cluster CLUSTER
#   hack/kind/images.sh --print           the image references, one KEY=ref a line (for scripts)
#   MO_IMAGE_NO_CACHE=1 hack/kind/images.sh   every Dockerfile step again (the inputs stay cached)
#   MO_KIND_REPORT=FILE hack/kind/images.sh   also write the timings as JSON (benchmarks/kind_workloads.py)
#   MO_IMAGE_ONLINE=1 hack/kind/images.sh     the official images instead (hack/kind/plan.sh): the Chat App's
#               Dockerfile FROM the operator Dockerfile's python:3.11-slim base with pip from PyPI (pinned by
#               constraints.txt, as offline), and
#               prom/prometheus at the pinned module's release, which the node pulls itself (not built, not loaded)
#
# Inputs come from the host, like hack/images/operator.sh's (whose cached Debian base and wheelhouse images are
# reused, never rebuilt here):
#   chatapp     hack/kind/chatapp/Dockerfile: the Debian python3 base + pydantic/prometheus_client installed
#               from the host-built wheelhouse at constraints.txt's versions + the Chat App model
#               (hack/chatapp_sim) and its per-Pod entry module (hack/chatapp_pod.py). chatapp:1.1 is
#               chatapp:1.0 with CHATAPP_VERSION=1.1: the same build, the bad release is the version the
#               process reads at start.
#   prometheus  github.com/prometheus/prometheus/cmd/prometheus built with the host's Go (only its kubernetes
#               service discovery: remove_all_sd + enable_kubernetes_sd), cached under $MO_CACHE_DIR/kind/,
#               COPYed onto the Debian base.
# Every image carries a label with the key of its recipe; a changed recipe builds again, an unchanged one is kept.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cluster/lib.sh"
# shellcheck source-path=SCRIPTDIR source=plan.sh
source "$(dirname "${BASH_SOURCE[0]}")/plan.sh"   # PROMETHEUS_MODULE_VERSION, the online/offline choice

KIND_IMAGES_RECIPE=1                 # bump when a recipe below changes
DIR="$MO_CACHE_DIR/kind"
mkdir -p "$DIR"
HERE="$REPO_ROOT/hack/kind"

LOAD_CLUSTER=""
PRINT=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --load) LOAD_CLUSTER="$2"; shift 2 ;;
    --print) PRINT=1; shift ;;
    *) echo "usage: $0 [--load CLUSTER] [--print]" >&2; exit 2 ;;
  esac
done

CHATAPP_IMAGES=(chatapp:1.0 chatapp:1.1)
PROMETHEUS_IMAGE="$(plan_prometheus_image)"
if [[ $PRINT == 1 ]]; then
  printf 'CHATAPP_IMAGE=%s\nCHATAPP_BAD_IMAGE=%s\nPROMETHEUS_IMAGE=%s\n' \
    "${CHATAPP_IMAGES[0]}" "${CHATAPP_IMAGES[1]}" "$PROMETHEUS_IMAGE"
  exit 0
fi

eval "$("$REPO_ROOT/hack/images/dockerd.sh" env)"
DOCKER=docker
[[ -x /usr/bin/docker ]] && DOCKER=/usr/bin/docker
export DOCKER_BUILDKIT=1
if image_online; then
  PYTHON_IMAGE="$(online_python_image)"
  BUILDER_IMAGE="$PYTHON_IMAGE"
else
  eval "$(MO_IMAGE_INPUTS_ONLY=1 "$REPO_ROOT/hack/images/operator.sh")"   # PYTHON_IMAGE, BUILDER_IMAGE
fi

NO_CACHE=()
[[ "${MO_IMAGE_NO_CACHE:-0}" == 1 ]] && NO_CACHE=(--no-cache)
key_of() { printf '%s\n' "$@" | sha256sum | cut -c1-12; }
label_of() { "$DOCKER" image inspect -f '{{index .Config.Labels "mo.local.recipe"}}' "$1" 2>/dev/null || true; }

# ---- Prometheus: the Go module, built once on the host --------------------------------------------------
PROM_TAGS="netgo osusergo remove_all_sd enable_kubernetes_sd"
PROM_BIN="$DIR/prometheus-$PROMETHEUS_MODULE_VERSION-$(key_of "$PROM_TAGS" "$KIND_IMAGES_RECIPE")"
build_prometheus_binary() {
  local go mod="$DIR/prometheus-mod-$PROMETHEUS_MODULE_VERSION"
  go="$(find_go)" || die "go not found: Prometheus is built from github.com/prometheus/prometheus"
  mkdir -p "$mod"
  log "building prometheus from github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION (several minutes, once)"
  (
    cd "$mod"
    [[ -f go.mod ]] || "$go" mod init mo.local/kind/prometheus 2>/dev/null
    "$go" get "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_MODULE_VERSION"
    CGO_ENABLED=0 nice -n 19 "$go" build -p 2 -trimpath -tags "$PROM_TAGS" -ldflags "-s -w" \
      -o "$PROM_BIN.tmp" github.com/prometheus/prometheus/cmd/prometheus
  )
  mv "$PROM_BIN.tmp" "$PROM_BIN"
}

build_prometheus_image() {
  local key ctx="$DIR/prometheus-ctx"
  key="$(key_of "$KIND_IMAGES_RECIPE" "$PYTHON_IMAGE" "$(sha256sum <"$PROM_BIN")")"
  [[ "$(label_of "$PROMETHEUS_IMAGE")" == "$key" ]] && return 0
  rm -rf "$ctx"; mkdir -p "$ctx"
  cp "$PROM_BIN" "$ctx/prometheus"
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $PYTHON_IMAGE
LABEL mo.local.recipe="$key"
COPY prometheus /bin/prometheus
RUN mkdir -p /prometheus && chown 65534:65534 /prometheus
USER 65534
WORKDIR /prometheus
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
DOCKERFILE
  nice -n 19 "$DOCKER" build "${NO_CACHE[@]}" -q -t "$PROMETHEUS_IMAGE" "$ctx" >/dev/null
  rm -rf "$ctx"
}

# ---- Chat App: the model and its per-Pod process --------------------------------------------------------
build_chatapp() {
  local key ctx="$DIR/chatapp-ctx"
  key="$(key_of "$KIND_IMAGES_RECIPE" "$PYTHON_IMAGE" "$BUILDER_IMAGE" \
    "$(cat "$HERE/chatapp/Dockerfile" "$REPO_ROOT/constraints.txt" "$REPO_ROOT/hack/chatapp_pod.py" \
       "$REPO_ROOT/hack/chatapp_simulator.py" "$REPO_ROOT"/hack/chatapp_sim/*.py | sha256sum)")"
  if [[ "$(label_of "${CHATAPP_IMAGES[0]}")" != "$key" || "$(label_of "${CHATAPP_IMAGES[1]}")" != "$key" ]]; then
    rm -rf "$ctx"; mkdir -p "$ctx/app"
    cp -r "$REPO_ROOT/hack/chatapp_sim" "$REPO_ROOT/hack/chatapp_simulator.py" "$REPO_ROOT/hack/chatapp_pod.py" "$ctx/app/"
    rm -rf "$ctx/app/chatapp_sim/__pycache__"
    cp "$HERE/chatapp/Dockerfile" "$ctx/Dockerfile"
    cp "$REPO_ROOT/constraints.txt" "$ctx/constraints.txt"
    nice -n 19 "$DOCKER" build "${NO_CACHE[@]}" -q -t "${CHATAPP_IMAGES[0]}" --label "mo.local.recipe=$key" \
      --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE" --build-arg "BUILDER_IMAGE=$BUILDER_IMAGE" "$ctx" >/dev/null
    # The bad release: the same build, a version the process reads at start.
    printf 'FROM %s\nENV CHATAPP_VERSION=1.1\n' "${CHATAPP_IMAGES[0]}" \
      | nice -n 19 "$DOCKER" build -q -t "${CHATAPP_IMAGES[1]}" --label "mo.local.recipe=$key" - >/dev/null
    rm -rf "$ctx"
  fi
}

# The images loaded into the node: online, the node pulls Prometheus itself.
LOADED=("${CHATAPP_IMAGES[@]}" "$PROMETHEUS_IMAGE")
image_online && LOADED=("${CHATAPP_IMAGES[@]}")
T0=$SECONDS
image_online || [[ -x "$PROM_BIN" ]] || build_prometheus_binary
T_PROM_BIN=$((SECONDS - T0))
T1=$SECONDS
image_online || build_prometheus_image
build_chatapp
T_IMAGES=$((SECONDS - T1))
log "images ready: ${CHATAPP_IMAGES[*]} $PROMETHEUS_IMAGE (prometheus binary ${T_PROM_BIN}s, images ${T_IMAGES}s)"
if [[ -n "${MO_KIND_REPORT:-}" ]]; then
  prometheus_size=null
  image_online || prometheus_size="$("$DOCKER" image inspect -f '{{.Size}}' "$PROMETHEUS_IMAGE")"
  printf '{"prometheus_binary_seconds": %d, "images_seconds": %d, "chatapp_size_bytes": %d, "prometheus_size_bytes": %s}\n' \
    "$T_PROM_BIN" "$T_IMAGES" "$("$DOCKER" image inspect -f '{{.Size}}' "${CHATAPP_IMAGES[0]}")" \
    "$prometheus_size" >"$MO_KIND_REPORT"
fi

if [[ -n "$LOAD_CLUSTER" ]]; then
  KIND="$KIND_BIN"   # the pinned kind (hack/cluster/lib.sh), built by hack/kind/up.sh
  [[ -x "$KIND" ]] || KIND="$(command -v kind)" || die "kind not found: hack/kind/up.sh builds $KIND_BIN"
  T2=$SECONDS
  for image in "${LOADED[@]}"; do
    "$KIND" load docker-image "$image" --name "$LOAD_CLUSTER" >/dev/null
  done
  log "loaded into kind cluster $LOAD_CLUSTER in $((SECONDS - T2))s"
fi
