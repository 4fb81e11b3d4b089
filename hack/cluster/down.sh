#!/usr/bin/env bash
# Stop the local test cluster started by hack/cluster/up.sh: kill exactly the
# PIDs recorded in $MO_CLUSTER_DIR/pids (reverse start order; TERM, wait, KILL),
# then delete all cluster state (etcd data, PKI, Prometheus TSDB), so the next
# up.sh starts a fresh cluster. The logs are copied to
# $MO_CACHE_DIR/last-cluster-logs/ first, for post-mortems. Safe to run twice.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"

D="$MO_CLUSTER_DIR"
GRACE="${MO_STOP_GRACE:-10}" # seconds between TERM and KILL
STOPPED=()
ORDER=(simulator prometheus kwok kube-scheduler kube-controller-manager kube-apiserver etcd)

# The process behind a recorded PID must still be ours (PIDs get reused).
ours() { # PID NAME
  local cmd
  cmd="$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)" || return 1
  case "$2" in
    simulator) [[ "$cmd" == *chatapp_simulator* ]] ;;
    *) [[ "$cmd" == *"$2"* ]] ;;
  esac
}

stop() { # NAME
  local f="$D/pids/$1.pid" pid i
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && running "$pid" && ours "$pid" "$1"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < GRACE * 10; i++)); do
      running "$pid" || break
      sleep 0.1
    done
    if running "$pid"; then
      log "$1 (pid $pid) ignored TERM for ${GRACE}s: KILL"
      kill -KILL "$pid" 2>/dev/null || true
      while running "$pid"; do sleep 0.1; done
    fi
    STOPPED+=("$pid")
    log "stopped $1 (pid $pid)"
  fi
  rm -f "$f"
}

cluster_lock
if [[ ! -d "$D" ]]; then
  log "no cluster state in $D: nothing to stop"
  exit 0
fi
for name in "${ORDER[@]}"; do stop "$name"; done
# Anything recorded that is not in ORDER (future components): stop it too.
for f in "$D"/pids/*.pid; do
  [[ -e "$f" ]] || continue
  stop "$(basename "$f" .pid)"
done

# Our daemons were re-parented to init when up.sh exited; give it a moment to
# reap the zombies so that no trace is left in the process table.
for ((i = 0; i < 50; i++)); do
  left=0
  for pid in "${STOPPED[@]}"; do [[ -e "/proc/$pid" ]] && left=1; done
  [[ $left -eq 0 ]] && break
  sleep 0.1
done

if [[ -d "$D/logs" ]]; then
  rm -rf "$MO_CACHE_DIR/last-cluster-logs"
  mkdir -p "$MO_CACHE_DIR"
  cp -r "$D/logs" "$MO_CACHE_DIR/last-cluster-logs"
fi
if [[ -f "$D/.mo-cluster" ]]; then
  rm -rf "$D"
else
  # Not made by up.sh (or half-made): remove only what up.sh creates.
  rm -rf "$D"/{etcd,prometheus,pki,pids,logs} "$D"/{kubeconfig,cluster.env,cluster.env.tmp,nodes.yaml,prometheus.yml,kwok.yaml}
  rm -f "$D"/*.kubeconfig
  rmdir "$D" 2>/dev/null || true
fi
log "cluster down (state removed; last logs in $MO_CACHE_DIR/last-cluster-logs)"
