#!/usr/bin/env bash
# Build the operator image from the repository's Dockerfile, here where no image registry is reachable.
#
#   hack/images/operator.sh [TAG]        default TAG: maintenance-operator:dev
#   MO_IMAGE_NO_CACHE=1 hack/images/operator.sh every Dockerfile step again, the inputs from the cache
#   MO_IMAGE_INPUTS_ONLY=1 hack/images/operator.sh  only the cached base and builder images: prints
#                                                PYTHON_IMAGE=... and BUILDER_IMAGE=... (hack/kind/images.sh)
#   MO_IMAGE_ONLINE=1 hack/images/operator.sh   plain `docker build .` with the Dockerfile's defaults
#                                                (python:3.11-slim and pip from PyPI), for machines with a registry
#
# Offline, every input is prepared on the host and cached under $MO_CACHE_DIR/images, keyed by its recipe:
#   base      mmdebstrap of Debian bookworm's python3 (3.11), `docker import`ed: stands in for python:3.11-slim
#             (PYTHON_IMAGE). Debian's "externally managed" marker is removed, as python:3.11-slim has none.
#   wheels    `pip wheel` of constraints.txt + the build backend, on the host; baked into a builder image
#             (BUILDER_IMAGE) with PIP_NO_INDEX/PIP_FIND_LINKS: it stands in for pip's index in the builder stage.
#   frontend  the Dockerfile's `# syntax=docker/dockerfile:1` frontend, built from moby/buildkit's Go module and
#             tagged docker/dockerfile:1 locally (BuildKit resolves it from the local store before a registry).
# Then `docker build` of the real Dockerfile; the final stage sees only the base image and its own wheels.
# The Docker engine is hack/images/dockerd.sh's (an engine already running, or a private one).
# Prints the build time, the image size and the image id; JSON for benchmarks with MO_IMAGE_REPORT=FILE.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cluster/lib.sh"

TAG="${1:-maintenance-operator:dev}"
SUITE=bookworm
BUILDKIT_VERSION=v0.34.2          # github.com/moby/buildkit: the Dockerfile frontend (as hack/dockerfile-check)
IMAGES_RECIPE=1                   # bump when a recipe below changes
BASE_PACKAGES=python3,python3-pip,python-is-python3,ca-certificates
MIRRORS=(
  "deb ${MO_DEBIAN_MIRROR:-http://deb.debian.org/debian} $SUITE main"
  "deb ${MO_DEBIAN_MIRROR:-http://deb.debian.org/debian} $SUITE-updates main"
  "deb ${MO_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security} $SUITE-security main"
)
DIR="$MO_CACHE_DIR/images"
mkdir -p "$DIR"

eval "$("$REPO_ROOT/hack/images/dockerd.sh" env)"
# One operator image build at a time on this cache (the kind stage prepares its image while tests build theirs).
# Taken after the engine is up, so a dockerd started here never inherits the lock.
mkdir -p "$MO_CACHE_DIR/locks"
exec 6>"$MO_CACHE_DIR/locks/operator-image.lock"
flock -w "${MO_LOCK_TIMEOUT:-3600}" 6 || die "timed out waiting for another operator image build"
# The Debian engine's own client: it speaks BuildKit without the buildx plugin.
DOCKER=docker
[[ -x /usr/bin/docker ]] && DOCKER=/usr/bin/docker
export DOCKER_BUILDKIT=1

have_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }
key_of() { printf '%s\n' "$@" | sha256sum | cut -c1-12; }

if [[ "${MO_IMAGE_ONLINE:-0}" == 1 ]]; then
  t0=$SECONDS
  nice -n 19 "$DOCKER" build -t "$TAG" "$REPO_ROOT"
  log "built $TAG (online) in $((SECONDS - t0))s"
  exit 0
fi

# ---- base: Debian's python3 as a root filesystem --------------------------------------------------------
BASE_KEY="$(key_of "$IMAGES_RECIPE" "$SUITE" "$BASE_PACKAGES" "${MIRRORS[@]}")"
BASE_IMAGE="mo-local/python:3.11-$SUITE-$BASE_KEY"
build_base() {
  command -v mmdebstrap >/dev/null 2>&1 || {
    [[ $(id -u) -eq 0 ]] || die "mmdebstrap missing: apt-get install mmdebstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
  }
  local tar="$DIR/base-$BASE_KEY.tar"
  rm -rf "$tar" "$tar.tmp"
  log "mmdebstrap $SUITE with $BASE_PACKAGES (about 2 minutes)"
  nice -n 19 mmdebstrap --quiet --format=tar --variant=minbase --include="$BASE_PACKAGES" \
    --aptopt='Acquire::Languages "none"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --customize-hook='rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    "$SUITE" "$tar.tmp" "${MIRRORS[@]}" </dev/null
  mv "$tar.tmp" "$tar"
  "$DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
    --change 'CMD ["python3"]' "$tar" "$BASE_IMAGE" >/dev/null
  rm -f "$tar"
}

# ---- wheels: pip on the host, baked into the builder stand-in ------------------------------------------
WHEELS_KEY="$(key_of "$IMAGES_RECIPE" "$BASE_KEY" "$(cat "$REPO_ROOT/constraints.txt" "$REPO_ROOT/pyproject.toml")")"
BUILDER_IMAGE="mo-local/python-wheelhouse:3.11-$SUITE-$WHEELS_KEY"
build_builder() {
  local ctx="$DIR/wheelhouse-$WHEELS_KEY" pip="$REPO_ROOT/.venv/bin/pip" backend
  [[ -x "$pip" ]] || pip="pip3"
  rm -rf "$ctx"
  mkdir -p "$ctx/wheelhouse"
  backend="$(sed -n 's/^requires = \[\(.*\)\]$/\1/p' "$REPO_ROOT/pyproject.toml" | tr -d '" ' | tr ',' ' ')"
  log "pip wheel: the pinned dependencies and the build backend ($backend)"
  # shellcheck disable=SC2086 # backend is a list of requirement specifiers
  nice -n 19 "$pip" wheel -q --wheel-dir "$ctx/wheelhouse" --constraint "$REPO_ROOT/constraints.txt" \
    "$REPO_ROOT" $backend
  rm -f "$ctx"/wheelhouse/maintenance_operator-*.whl   # the image builds the operator from its own context
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $BASE_IMAGE
COPY wheelhouse/ /wheelhouse/
ENV PIP_NO_INDEX=1 PIP_FIND_LINKS=/wheelhouse
DOCKERFILE
  nice -n 19 "$DOCKER" build -q -t "$BUILDER_IMAGE" "$ctx" >/dev/null
  rm -rf "$ctx"
}

# ---- frontend: docker/dockerfile:1 from source -----------------------------------------------------------
FRONTEND_IMAGE=docker/dockerfile:1
FRONTEND_LABEL="mo.local.buildkit=$BUILDKIT_VERSION-r$IMAGES_RECIPE"
frontend_is_ours() {
  [[ "$("$DOCKER" image inspect -f '{{index .Config.Labels "mo.local.buildkit"}}' "$FRONTEND_IMAGE" 2>/dev/null)" \
     == "${FRONTEND_LABEL#*=}" ]]
}
build_frontend() {
  local go ctx="$DIR/frontend-$BUILDKIT_VERSION"
  go="$(find_go)" || die "go not found: the Dockerfile frontend is built from github.com/moby/buildkit"
  rm -rf "$ctx"
  mkdir -p "$ctx/mod"
  log "building the Dockerfile frontend from github.com/moby/buildkit@$BUILDKIT_VERSION"
  (
    cd "$ctx/mod"
    "$go" mod init mo.local/images/dockerfile-frontend 2>/dev/null
    "$go" get "github.com/moby/buildkit/frontend/dockerfile/cmd/dockerfile-frontend@$BUILDKIT_VERSION" 2>/dev/null
    CGO_ENABLED=0 nice -n 19 "$go" build -p 2 -trimpath -tags "netgo static_build osusergo" -ldflags "-s -w" \
      -o "$ctx/dockerfile-frontend" github.com/moby/buildkit/frontend/dockerfile/cmd/dockerfile-frontend
  )
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM scratch
LABEL moby.buildkit.frontend.network.none="true" \\
      moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts" \\
      $FRONTEND_LABEL
COPY dockerfile-frontend /bin/dockerfile-frontend
ENTRYPOINT ["/bin/dockerfile-frontend"]
DOCKERFILE
  # This small Dockerfile has no syntax line: the engine's built-in frontend builds it.
  DOCKER_BUILDKIT=0 "$DOCKER" build -q -t "$FRONTEND_IMAGE" "$ctx" >/dev/null
  rm -rf "$ctx"
}

T0=$SECONDS
have_image "$BASE_IMAGE" || build_base
have_image "$BUILDER_IMAGE" || build_builder
if [[ "${MO_IMAGE_INPUTS_ONLY:-0}" == 1 ]]; then
  printf 'PYTHON_IMAGE=%s\nBUILDER_IMAGE=%s\n' "$BASE_IMAGE" "$BUILDER_IMAGE"
  exit 0
fi
frontend_is_ours || build_frontend
T_INPUTS=$((SECONDS - T0))
T1=$SECONDS
# MO_IMAGE_NO_CACHE=1: run every Dockerfile step again (inputs stay cached): the benchmark's warm build.
no_cache=()
[[ "${MO_IMAGE_NO_CACHE:-0}" == 1 ]] && no_cache=(--no-cache)
nice -n 19 "$DOCKER" build "${no_cache[@]}" -t "$TAG" \
  --build-arg "PYTHON_IMAGE=$BASE_IMAGE" --build-arg "BUILDER_IMAGE=$BUILDER_IMAGE" "$REPO_ROOT"
T_BUILD=$((SECONDS - T1))
SIZE="$("$DOCKER" image inspect -f '{{.Size}}' "$TAG")"
ID="$("$DOCKER" image inspect -f '{{.Id}}' "$TAG")"
log "built $TAG ($ID): inputs ${T_INPUTS}s, docker build ${T_BUILD}s, $((SIZE / 1000000)) MB"
if [[ -n "${MO_IMAGE_REPORT:-}" ]]; then
  printf '{"tag": "%s", "id": "%s", "inputs_seconds": %d, "docker_build_seconds": %d, "size_bytes": %d, "base_image": "%s", "builder_image": "%s"}\n' \
    "$TAG" "$ID" "$T_INPUTS" "$T_BUILD" "$SIZE" "$BASE_IMAGE" "$BUILDER_IMAGE" >"$MO_IMAGE_REPORT"
fi
