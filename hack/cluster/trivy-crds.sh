#!/usr/bin/env bash
# Fetch (once, cached) Trivy Operator's VulnerabilityReport CRD, which the security review reads when
# it is installed, from the pinned upstream module via the Go module proxy (as monitoring-crds.sh does).
# Prints the directory holding the CRD file. Installing it is up to the caller:
#   kubectl apply --server-side -f "$(hack/cluster/trivy-crds.sh)"
set -euo pipefail
# shellcheck source=hack/cluster/lib.sh
source "$(dirname "$0")/lib.sh"

TRIVY_OPERATOR_VERSION="${TRIVY_OPERATOR_VERSION:-v0.29.0}"  # github.com/aquasecurity/trivy-operator: CRD only
dest="$MO_CACHE_DIR/crds/trivy-operator-$TRIVY_OPERATOR_VERSION"
file=aquasecurity.github.io_vulnerabilityreports.yaml
if [[ -s "$dest/$file" ]]; then
  echo "$dest"
  exit 0
fi
GO="$(find_go)" || die "go not found: needed to fetch github.com/aquasecurity/trivy-operator@$TRIVY_OPERATOR_VERSION"
module="github.com/aquasecurity/trivy-operator@$TRIVY_OPERATOR_VERSION"
log "fetching the VulnerabilityReport CRD from $module"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dir="$(cd "$work" && GOFLAGS=-mod=mod "$GO" mod download -json "$module" | sed -n 's/.*"Dir": "\(.*\)",*$/\1/p')"
src="$(find "$dir/deploy" -name "$file" 2>/dev/null | head -1)"
[[ -n "$src" ]] || die "no $file in $module"
mkdir -p "$dest.tmp"
cp "$src" "$dest.tmp/$file"
chmod -R u+w "$dest.tmp"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "$dest"
