#!/usr/bin/env bash
# Lay out the operator image's filesystem without Docker, following the Dockerfile step by step:
#   build context   = what .dockerignore lets through (pyproject.toml, constraints.txt, operator/)
#   builder stage   = pip wheel --wheel-dir WHEELS --constraint constraints.txt .
#   final stage     = pip install --no-index --find-links=WHEELS WHEELS/*.whl && python -m compileall
# into OUT/{context,builder,wheels,image}. OUT/image is a venv standing for the final stage's
# interpreter; tests run it as uid 65532 with a read-only root filesystem (tests/e2e/test_image_rehearsal.py).
# The base image's Python is replaced by this machine's python3 (the Dockerfile pins 3.11).
# tests/unit/deploy/test_dockerfile.py keeps these commands and the Dockerfile's in step.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: hack/image-rehearsal.sh OUT_DIR}"
python="${PYTHON:-python3}"
# A docker build starts from a clean environment: nothing of this shell may leak into pip or python
# (PYTHONPATH=operator would make pip think the package is already installed).
unset PYTHONPATH PYTHONHOME PYTHONUSERBASE VIRTUAL_ENV PIP_REQUIRE_VIRTUALENV PIP_USER
rm -rf "$out"
mkdir -p "$out/context" "$out/wheels"
out="$(cd "$out" && pwd)"

# Build context: .dockerignore is '*' then '!pyproject.toml' '!constraints.txt' '!operator/', minus caches.
cp pyproject.toml constraints.txt "$out/context/"
cp -r operator "$out/context/operator"
find "$out/context/operator" \( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +
find "$out/context/operator" -name '*.pyc' -delete

export PIP_DISABLE_PIP_VERSION_CHECK=1
"$python" -m venv "$out/builder"
(cd "$out/context" && "$out/builder/bin/pip" wheel -q --wheel-dir "$out/wheels" --constraint constraints.txt .)

"$python" -m venv --without-pip "$out/image"
"$out/builder/bin/pip" --python "$out/image/bin/python" install -q --no-index --find-links="$out/wheels" "$out"/wheels/*.whl
purelib="$("$out/image/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
"$out/image/bin/python" -m compileall -q "$purelib"
echo "$out/image"
