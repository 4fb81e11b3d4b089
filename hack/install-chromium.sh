#!/usr/bin/env bash
# Install headless Chromium for the HTML report test: Debian's `chromium`
# package unless a chromium is already on PATH. Idempotent.
set -euo pipefail

for name in chromium chromium-browser; do
  if command -v "$name" >/dev/null 2>&1; then
    echo "chromium already installed: $(command -v "$name")"
    exit 0
  fi
done
command -v apt-get >/dev/null 2>&1 || { echo "chromium not on PATH and no apt-get: install Chromium by hand" >&2; exit 1; }
SUDO=()
if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "installed: $(chromium --version 2>&1 | head -n1)"
