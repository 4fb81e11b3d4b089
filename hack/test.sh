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
echo "=== prerequisites: the pinned binaries: control plane, kwok, helm (built once, then cached)"
hack/cluster/build.sh || status=1
export MO_REQUIRE_TOOLS=1

stage unit -q -m "not integration and not e2e and not kind" tests || status=1
stage integration -q -m integration tests || status=1
stage e2e -q -m e2e tests || status=1
exit $status
