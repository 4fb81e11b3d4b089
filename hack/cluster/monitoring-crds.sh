#!/usr/bin/env bash
# Fetch (once, cached) the prometheus-operator CRDs the chart's optional objects need:
# ServiceMonitor and PrometheusRule, from the pinned upstream module via the Go module proxy.
# Prints the directory holding the two CRD files. Installing them is up to the caller:
#   kubectl apply --server-side -f "$(hack/cluster/monitoring-crds.sh)"
set -euo pipefail
# shellcheck source=hack/cluster/lib.sh
source "$(dirname "$0")/lib.sh"

dest="$MO_CACHE_DIR/crds/prometheus-operator-$PROMETHEUS_OPERATOR_VERSION"
files=(monitoring.coreos.com_servicemonitors.yaml monitoring.coreos.com_prometheusrules.yaml)
if [[ -s "$dest/${files[0]}" && -s "$dest/${files[1]}" ]]; then
  echo "$dest"
  exit 0
fi
GO="$(find_go)" || die "go not found: needed to fetch github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION"
module="github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION"
log "fetching the ServiceMonitor and PrometheusRule CRDs from $module"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dir="$(cd "$work" && GOFLAGS=-mod=mod "$GO" mod download -json "$module" | sed -n 's/.*"Dir": "\(.*\)",*$/\1/p')"
[[ -n "$dir" && -d "$dir/example/prometheus-operator-crd" ]] || die "could not download $module"
mkdir -p "$dest.tmp"
for f in "${files[@]}"; do cp "$dir/example/prometheus-operator-crd/$f" "$dest.tmp/$f"; done
chmod -R u+w "$dest.tmp"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "$dest"
