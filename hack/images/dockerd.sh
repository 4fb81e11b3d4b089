#!/usr/bin/env bash
# A Docker engine for the image scripts, never a change to the user's own.
#
#   eval "$(hack/images/dockerd.sh env)"   DOCKER_HOST of a running engine; starts a private one if none runs
#   eval "$(hack/images/dockerd.sh env --privileged)"   the same, for an engine that runs privileged
#                                          containers (kind nodes): an engine where they fail is passed over
#   hack/images/dockerd.sh stop            stop the private engine, only if this script started it
#
# An engine that already answers (DOCKER_HOST, or the default socket) is used as it is. Otherwise, as root,
# Debian's docker.io is installed if dockerd is missing, and a private dockerd runs with its own socket,
# data root and exec root under $MO_CACHE_DIR/docker (its pid file says it is ours).
#
# Privileged containers fail on hosts whose capability bounding set lacks a capability Docker asks for
# ("unable to apply caps: operation not permitted"). The private engine registers hack/kind/runc-capfilter
# (copied to $MO_CACHE_DIR/docker/bin) as the runtime "mo-capfilter"; when a tiny `docker run --privileged`
# fails with plain runc, that wrapper becomes its default runtime. A private engine already running without
# it is restarted. A user's own engine is never reconfigured.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cluster/lib.sh"

D="$MO_CACHE_DIR/docker"
SOCK="unix://$D/docker.sock"
PIDFILE="$D/dockerd.pid"
WRAPPER_SRC="$REPO_ROOT/hack/kind/runc-capfilter"
WRAPPER="$D/bin/runc-capfilter"
WRAPPED_RUNTIME=mo-capfilter
PROBE_IMAGE=mo-local/privileged-probe:1
# "wrap" or "plain": what the last probe on this boot found (the kernel's boot id keys it).
PROBE_STATE="$D/privileged-probe"
DOCKER=docker
[[ -x /usr/bin/docker ]] && DOCKER=/usr/bin/docker

answers() { DOCKER_HOST="$1" "$DOCKER" info >/dev/null 2>&1; }
boot_id() { cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown; }

# probe_image HOST: a one-file image whose static binary exits 0 (C, the host's compiler).
probe_image() {
  DOCKER_HOST="$1" "$DOCKER" image inspect "$PROBE_IMAGE" >/dev/null 2>&1 && return 0
  command -v gcc >/dev/null 2>&1 || return 1
  local tmp
  tmp="$(mktemp -d)"
  printf 'int main(void) { return 0; }\n' >"$tmp/true.c"
  gcc -static -Os -s -o "$tmp/true" "$tmp/true.c" || { rm -rf "$tmp"; return 1; }
  tar -C "$tmp" -cf "$tmp/probe.tar" true
  DOCKER_HOST="$1" "$DOCKER" import --change 'ENTRYPOINT ["/true"]' "$tmp/probe.tar" "$PROBE_IMAGE" >/dev/null
  rm -rf "$tmp"
}

# privileged_works HOST [RUNTIME]: a privileged container starts and exits 0 there.
privileged_works() {
  local rt=()
  [[ -n "${2:-}" ]] && rt=(--runtime "$2")
  if ! probe_image "$1"; then
    # No compiler for the probe: judge by the bounding set, as Docker asks for every capability.
    local bnd last
    bnd="$(awk '/^CapBnd:/ {print $2}' /proc/self/status)"
    last="$(cat /proc/sys/kernel/cap_last_cap)"
    (((0x$bnd & ((1 << (last + 1)) - 1)) == ((1 << (last + 1)) - 1)))
    return
  fi
  DOCKER_HOST="$1" timeout 60 "$DOCKER" run --rm --privileged --network none "${rt[@]}" "$PROBE_IMAGE" \
    >/dev/null 2>&1
}

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

# close_inherited_fds: close every descriptor above 2 of the current (sub)shell.
close_inherited_fds() {
  local fd fds=()
  for fd in /proc/"$BASHPID"/fd/*; do fds+=("${fd##*/}"); done
  for fd in "${fds[@]}"; do
    if [[ $fd -gt 2 ]]; then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}

# launch_private MODE: start our dockerd, the wrapper registered; MODE=wrap makes it the default runtime.
launch_private() {
  local extra=()
  [[ $1 == wrap ]] && extra=(--default-runtime "$WRAPPED_RUNTIME")
  log "starting a private dockerd (socket $D/docker.sock, data root $D/data, log $D/dockerd.log, runtime: $1)"
  # setsid: the engine outlives this script and never receives the caller's terminal signals. It keeps none
  # of the caller's descriptors: an inherited lock (hack/kind/up.sh holds one while it asks for the engine)
  # would be held for the engine's lifetime, and the next up/down of that cluster would wait for it forever.
  (
    close_inherited_fds
    exec setsid dockerd --host "$SOCK" --data-root "$D/data" --exec-root "$D/exec" --pidfile "$PIDFILE" \
      --storage-driver overlay2 --add-runtime "$WRAPPED_RUNTIME=$WRAPPER" "${extra[@]}" \
      >>"$D/dockerd.log" 2>&1 </dev/null
  ) &
  local i
  for i in $(seq 60); do
    answers "$SOCK" && return 0
    sleep 1
  done
  tail -n 20 "$D/dockerd.log" >&2
  die "the private dockerd did not answer within 60 s"
}

stop_private() {
  [[ -f "$PIDFILE" ]] && running "$(cat "$PIDFILE")" || return 0
  local pid
  pid="$(cat "$PIDFILE")"
  kill "$pid"
  for _ in $(seq 30); do running "$pid" || break; sleep 1; done
  log "stopped the private dockerd ($pid)"
}

# The mode this host needs, from the cached probe or a new one (on a private engine with plain runc).
wanted_mode() {
  local state
  state="$(cat "$PROBE_STATE" 2>/dev/null || true)"
  if [[ $state == "$(boot_id) "* ]]; then echo "${state##* }"; return; fi
  local mode=plain
  privileged_works "$SOCK" runc || mode=wrap
  log "privileged containers with plain runc: $([[ $mode == plain ]] && echo work || echo fail, using $WRAPPED_RUNTIME)"
  echo "$(boot_id) $mode" >"$PROBE_STATE"
  echo "$mode"
}

current_mode() {
  local rt
  rt="$(DOCKER_HOST="$SOCK" "$DOCKER" info -f '{{.DefaultRuntime}}' 2>/dev/null || true)"
  [[ $rt == "$WRAPPED_RUNTIME" ]] && echo wrap || echo plain
}

start_private() {
  mkdir -p "$D/data" "$D/exec" "$D/bin"
  # One starter at a time (several scripts may ask for the engine at once); dockerd keeps no descriptor.
  exec 8>"$D/start.lock"
  flock -w 300 8 || die "timed out waiting for $D/start.lock"
  # A stable copy of the wrapper: the engine outlives the checkout that started it.
  if ! cmp -s "$WRAPPER_SRC" "$WRAPPER"; then
    cp "$WRAPPER_SRC" "$WRAPPER.tmp" && chmod 755 "$WRAPPER.tmp" && mv "$WRAPPER.tmp" "$WRAPPER"
  fi
  if ! { [[ -f "$PIDFILE" ]] && running "$(cat "$PIDFILE")" && answers "$SOCK"; }; then
    install_docker
    local state
    state="$(cat "$PROBE_STATE" 2>/dev/null || true)"
    if [[ $state == "$(boot_id) "* ]]; then launch_private "${state##* }"; return 0; fi
    launch_private plain
  fi
  local want
  want="$(wanted_mode)"
  if [[ "$(current_mode)" != "$want" ]]; then
    log "restarting the private dockerd with runtime: $want"
    stop_private
    launch_private "$want"
  fi
}

# usable HOST: an engine answers there (and, with --privileged, runs privileged containers).
usable() {
  answers "$1" || return 1
  [[ $PRIVILEGED -eq 0 ]] && return 0
  [[ $1 == "$SOCK" ]] && return 0 # ours: start_private configures it
  privileged_works "$1" && return 0
  log "the engine at ${1:-the default socket} fails privileged containers; using a private one"
  return 1
}

PRIVILEGED=0
[[ "${2:-}" == --privileged ]] && PRIVILEGED=1
case "${1:-env}" in
  env)
    if [[ -n "${DOCKER_HOST:-}" && "$DOCKER_HOST" != "$SOCK" ]] && usable "$DOCKER_HOST"; then
      echo "export DOCKER_HOST=$DOCKER_HOST"; exit 0
    fi
    if [[ -z "${DOCKER_HOST:-}" ]] && usable ""; then echo "export DOCKER_HOST="; exit 0; fi
    start_private
    echo "export DOCKER_HOST=$SOCK"
    ;;
  stop) stop_private ;;
  *) echo "usage: $0 [env [--privileged]|stop]" >&2; exit 2 ;;
esac
