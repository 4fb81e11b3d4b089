#!/usr/bin/env bash
# Install a Prometheus server binary for the local test cluster / integration
# tests: Debian's `prometheus` package (bookworm: 2.42) unless `prometheus` is
# already on PATH. Idempotent. The package's system service is NOT started:
# up.sh and the tests run their own prometheus process.
set -euo pipefail

if command -v prometheus >/dev/null 2>&1; then
  echo "prometheus already installed: $(command -v prometheus)"
  exit 0
fi
command -v apt-get >/dev/null 2>&1 || { echo "prometheus not on PATH and no apt-get: install Prometheus >= 2.42 by hand" >&2; exit 1; }
SUDO=()
if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi

export DEBIAN_FRONTEND=noninteractive
# Forbid maintainer scripts from starting services (invoke-rc.d honours
# policy-rc.d exit code 101), unless the machine already has its own policy.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
  "${SUDO[@]}" chmod 755 "$policy"
  own_policy=1
fi
cleanup() { if [[ $own_policy -eq 1 ]]; then "${SUDO[@]}" rm -f "$policy"; fi; }
trap cleanup EXIT

"${SUDO[@]}" apt-get update -qq
# --no-install-recommends: skips prometheus-node-exporter & co (more services).
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends prometheus >/dev/null

# Belt and braces: if a service manager started it anyway, stop and disable it.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
  "${SUDO[@]}" systemctl disable --now prometheus || true
fi
echo "installed: $(prometheus --version 2>&1 | head -n1)"
