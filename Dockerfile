# syntax=docker/dockerfile:1
# maintenance-operator image: `make image` (docker build -t maintenance-operator:dev .)
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
# The builder stage's base; without a registry, hack/images/operator.sh passes one holding a wheelhouse.
ARG BUILDER_IMAGE=${PYTHON_IMAGE}

# Builder: wheels for the operator and every pinned dependency. Build tools stay in this stage.
FROM ${BUILDER_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml constraints.txt ./
COPY operator/ operator/
RUN pip wheel --wheel-dir /wheels --constraint constraints.txt .

# Final: the interpreter, the installed wheels and nothing else; runs as a non-root user.
FROM ${PYTHON_IMAGE}
ARG UID=65532
LABEL org.opencontainers.image.title="maintenance-operator" \
      org.opencontainers.image.description="Kubernetes operator keeping a Chat App Deployment healthy" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/chatapp/maintenance-operator"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    HOME=/tmp \
    MALLOC_ARENA_MAX=2
# MALLOC_ARENA_MAX: glibc keeps up to 8 malloc arenas per core for the API client's threads; two hold
# less memory at the same speed (docs/decisions.md, "Memory per policy"). The chart sets it too.
# Wheels are bind-mounted from the builder, so they never become a layer of this image.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels /wheels/*.whl \
 && python -m compileall -q "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
 && groupadd --gid "${UID}" nonroot \
 && useradd --uid "${UID}" --gid "${UID}" --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin nonroot
USER 65532:65532
WORKDIR /tmp
# metrics, kopf liveness (/healthz), admission webhook
EXPOSE 8080 8081 9443
ENTRYPOINT ["python", "-m", "maintenance_operator", "run"]
