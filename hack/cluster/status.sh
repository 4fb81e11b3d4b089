#!/usr/bin/env bash
# Show the local test cluster: endpoints, processes, RSS per process and total.
# Exit 0 if every recorded process runs, 1 otherwise (or if there is no cluster).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"

D="$MO_CLUSTER_DIR"
if [[ ! -f "$D/cluster.env" ]]; then
  echo "no cluster in $D (start one with hack/cluster/up.sh)"
  exit 1
fi
cat "$D/cluster.env"
echo
rc=0 total=0
printf '%-26s %8s %10s\n' COMPONENT PID RSS_MB
for f in "$D"/pids/*.pid; do
  name="$(basename "$f" .pid)" pid="$(cat "$f")"
  if running "$pid"; then
    rss="$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status")"
    total=$((total + rss))
    printf '%-26s %8s %10d\n' "$name" "$pid" $((rss / 1024))
  else
    printf '%-26s %8s %10s\n' "$name" "$pid" DEAD
    rc=1
  fi
done
printf '%-26s %8s %10d\n' TOTAL "" $((total / 1024))
exit "$rc"
