#!/usr/bin/env bash
# A Docker engine for the image scripts, never a change to the user's own.
#
#   eval "$(hack/images/dockerd.sh env)"   DOCKER_HOST of a running engine; starts a private one if none runs
#   hack/images/dockerd.sh stop            stop the private engine, only if this script started it
#
# An engine that already answers (DOCKER_HOST, or the default socket) is used as it is. Otherwise, as root,
# Debian's docker.io is installed if dockerd is missing, and a private dockerd runs with its own socket,
# data root and exec root under $MO_CACHE_DIR/docker (its pid file says it is ours). Builds on it need no
# privileged containers, so no runtime wrapper is configured here.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cluster/lib.sh"

D="$MO_CACHE_DIR/docker"
SOCK="unix://$D/docker.sock"
PIDFILE="$D/dockerd.pid"

answers() { DOCKER_HOST="$1" docker info >/dev/null 2>&1; }

install_docker() {
  command -v dockerd >/dev/null 2>&1 && return 0
  [[ $(id -u) -eq 0 ]] || die "no dockerd: install Docker (Debian: apt-get install docker.io) or set DOCKER_HOST"
  log "installing Debian's docker.io (dockerd, containerd, runc); no service is started"
  local policy=/usr/sbin/policy-rc.d own=0
  if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; own=1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends docker.io iptables >/dev/null
  local rc=$?
  [[ $own -eq 1 ]] && rm -f "$policy"
  return $rc
}

start_private() {
  mkdir -p "$D/data" "$D/exec"
  if [[ -f "$PIDFILE" ]] && running "$(cat "$PIDFILE")" && answers "$SOCK"; then return 0; fi
  install_docker
  log "starting a private dockerd (socket $D/docker.sock, data root $D/data, log $D/dockerd.log)"
  # setsid: the engine outlives this script and never receives the caller's terminal signals
  setsid dockerd --host "$SOCK" --data-root "$D/data" --exec-root "$D/exec" --pidfile "$PIDFILE" \
    --storage-driver overlay2 >>"$D/dockerd.log" 2>&1 </dev/null &
  local i
  for i in $(seq 60); do
    answers "$SOCK" && return 0
    sleep 1
  done
  tail -n 20 "$D/dockerd.log" >&2
  die "the private dockerd did not answer within 60 s"
}

case "${1:-env}" in
  env)
    if [[ -n "${DOCKER_HOST:-}" ]] && answers "$DOCKER_HOST"; then echo "export DOCKER_HOST=$DOCKER_HOST"; exit 0; fi
    if [[ -z "${DOCKER_HOST:-}" ]] && docker info >/dev/null 2>&1; then echo "export DOCKER_HOST="; exit 0; fi
    start_private
    echo "export DOCKER_HOST=$SOCK"
    ;;
  stop)
    if [[ -f "$PIDFILE" ]] && running "$(cat "$PIDFILE")"; then
      pid="$(cat "$PIDFILE")"
      kill "$pid"
      for _ in $(seq 30); do running "$pid" || break; sleep 1; done
      log "stopped the private dockerd ($pid)"
    fi
    ;;
  *) echo "usage: $0 [env|stop]" >&2; exit 2 ;;
esac
