#!/usr/bin/env bash
# `make test`: everything this machine can run, in order of cost. Fails loudly when a stage collects no tests.
#
# Every tool a test uses is installed or built before the first stage (helm is used by unit tests too), and
# MO_REQUIRE_TOOLS=1 turns a test's "tool missing" skip into a failure (tests/fixtures/tools.py): under
# `make test` nothing passes by not running.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/operator"
PY=.venv/bin/python
status=0

stage() {
  local name=$1; shift
  echo "=== $name"
  "$PY" -m pytest "$@"
  local rc=$?
  if [ $rc -eq 5 ]; then
    echo "ERROR: stage '$name' collected no tests" >&2
    return 1
  fi
  return $rc
}

echo "=== prerequisites: a Prometheus server binary and promtool"
hack/cluster/install-prometheus.sh || status=1
echo "=== prerequisites: headless Chromium for the report test"
hack/install-chromium.sh || status=1
echo "=== prerequisites: the pinned binaries: control plane, kwok, helm and the kind node's (built once, then cached)"
# --node: kubelet, kubeadm, kubectl and kube-proxy come from the same `go build` as the control plane, so the
# shared Kubernetes packages compile once (the Go build cache is deleted after a build).
hack/cluster/build.sh --node || status=1
ENGINE_PID="${MO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/maintenance-operator}/docker/dockerd.pid"
engine_was_running=0
[ -f "$ENGINE_PID" ] && kill -0 "$(cat "$ENGINE_PID")" 2>/dev/null && engine_was_running=1
echo "=== prerequisites: a Docker engine that runs privileged containers (kind nodes)"
hack/images/dockerd.sh env --privileged >/dev/null || status=1
echo "=== prerequisites: the kind stage's images, built in the background while the other stages run"
mkdir -p .kind/logs
hack/kind/prepare.sh >.kind/logs/prepare.log 2>&1 &
prepare=$!
export MO_REQUIRE_TOOLS=1

stage unit -q -m "not integration and not e2e and not kind" tests || status=1
stage integration -q -m integration tests || status=1
stage e2e -q -m e2e tests || status=1
echo "=== kind: the remediation loop against real Pods on a kind cluster (hack/kind/e2e.sh)"
if wait "$prepare"; then
  hack/kind/e2e.sh || status=1
else
  tail -n 40 .kind/logs/prepare.log >&2
  echo "ERROR: building the kind stage's images failed (.kind/logs/prepare.log)" >&2
  status=1
fi
# Stop only what this run started: the private Docker engine, if it was not running before.
[ $engine_was_running -eq 1 ] || hack/images/dockerd.sh stop || true
exit $status
