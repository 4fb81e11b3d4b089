#!/usr/bin/env bash
# Start the local test cluster (no Docker): etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kwok + fake Nodes, Prometheus and,
# if hack/chatapp_simulator.py exists, the Chat App simulator. Everything
# listens on 127.0.0.1 on free ports. State lives in $MO_CLUSTER_DIR
# (default <repo>/.cluster): kubeconfig, cluster.env, logs/, pids/.
#
# Idempotent: exits 0 at once if the cluster in $MO_CLUSTER_DIR is up and
# healthy. On failure it prints the failing component's log tail, stops what it
# started and exits non-zero. Stop with hack/cluster/down.sh.
#
# Knobs: MO_KWOK_NODES (default 2), MO_SKIP_SIMULATOR=1, MO_START_TIMEOUT (s, 60),
#        MO_APISERVER_EXTRA_ARGS (extra kube-apiserver flags, space separated).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"

D="$MO_CLUSTER_DIR"
ENV_FILE="$D/cluster.env"
NODES="${MO_KWOK_NODES:-2}"
TIMEOUT="${MO_START_TIMEOUT:-60}"
SERVICE_CIDR=10.96.0.0/16
SERVICE_IP=10.96.0.1
SIMULATOR="$REPO_ROOT/hack/chatapp_simulator.py"
PY="$REPO_ROOT/.venv/bin/python"
read -r -a APISERVER_EXTRA_ARGS <<<"${MO_APISERVER_EXTRA_ARGS:-}"

cluster_lock

# ---- already up? --------------------------------------------------------------
# healthy: every recorded process alive and the apiserver + Prometheus ready.
healthy() {
  [[ -f "$ENV_FILE" && -d "$D/pids" ]] || return 1
  local f
  for f in "$D"/pids/*.pid; do
    [[ -e "$f" ]] || return 1
    running "$(cat "$f")" || return 1
  done
  (
    # shellcheck source=/dev/null
    source "$ENV_FILE"
    curl -fsS --max-time 3 --cacert "$D/pki/ca.crt" --cert "$D/pki/admin.crt" --key "$D/pki/admin.key" \
      "$APISERVER_URL/readyz" >/dev/null &&
      curl -fsS --max-time 3 "$PROMETHEUS_URL/-/ready" >/dev/null
  )
}

if healthy; then
  log "cluster in $D is already up and healthy (KUBECONFIG=$D/kubeconfig)"
  exit 0
fi
if [[ -d "$D/pids" ]]; then
  log "stale cluster state in $D: cleaning up first"
  "$HERE/down.sh"
fi

T0=$SECONDS
"$HERE/build.sh"
command -v prometheus >/dev/null 2>&1 || "$HERE/install-prometheus.sh"
for b in "$ETCD_BIN" "$KUBE_APISERVER_BIN" "$KUBE_CONTROLLER_MANAGER_BIN" "$KUBE_SCHEDULER_BIN" "$KWOK_BIN"; do
  [[ -x "$b" ]] || die "missing binary $b (run hack/cluster/build.sh)"
done
command -v kubectl >/dev/null 2>&1 || die "kubectl not on PATH"
T_START=$SECONDS
cd "$REPO_ROOT"

mkdir -p "$D"/{logs,pids,pki,prometheus}
mkdir -p "$D/etcd"
chmod 700 "$D/etcd"
touch "$D/.mo-cluster" # marker: down.sh only wipes directories carrying it

# ---- failure handling -----------------------------------------------------------
CURRENT="" # component being started / waited for
on_exit() {
  local rc=$?
  if [[ $rc -ne 0 ]]; then
    log "cluster start FAILED (exit $rc) at component: ${CURRENT:-?}"
    if [[ -n "$CURRENT" && -f "$D/logs/$CURRENT.log" ]]; then
      log "last lines of $D/logs/$CURRENT.log:"
      tail -n 40 "$D/logs/$CURRENT.log" >&2 || true
    fi
    "$HERE/down.sh" >&2 || true
  fi
}
trap on_exit EXIT

# ---- ports ----------------------------------------------------------------------
# Bind all at once so they are distinct, then release them for the components.
read -r ETCD_PORT ETCD_PEER_PORT API_PORT KCM_PORT SCHED_PORT KWOK_PORT PROM_PORT SIMULATOR_PORT OPERATOR_METRICS_PORT < <(
  python3 - <<'PY'
import socket
socks = []
for _ in range(9):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
)
APISERVER_URL="https://127.0.0.1:$API_PORT"
PROMETHEUS_URL="http://127.0.0.1:$PROM_PORT"
SIMULATOR_URL="http://127.0.0.1:$SIMULATOR_PORT"

# ---- PKI (ECDSA P-256: fast to generate) -------------------------------------------
P="$D/pki"
ossl() { openssl "$@" 2>>"$D/logs/pki.log"; }
newkey() { ossl ecparam -name prime256v1 -genkey -noout -out "$1"; }
# sign NAME SUBJECT EXT: key + cert for NAME signed by the cluster CA
sign() {
  newkey "$P/$1.key"
  ossl req -new -key "$P/$1.key" -subj "$2" -out "$P/$1.csr"
  printf '%b\n' "$3" >"$P/$1.ext"
  ossl x509 -req -in "$P/$1.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial \
    -days 30 -sha256 -extfile "$P/$1.ext" -out "$P/$1.crt"
  rm -f "$P/$1.csr" "$P/$1.ext"
}
CURRENT=pki
newkey "$P/ca.key"
ossl req -x509 -new -key "$P/ca.key" -subj "/CN=maintenance-operator-local-ca" -days 30 -sha256 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
  -out "$P/ca.crt"
CLIENT_EXT='basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth'
sign apiserver "/CN=kube-apiserver" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:$SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
sign admin "/O=system:masters/CN=kubernetes-admin" "$CLIENT_EXT"
sign kube-controller-manager "/CN=system:kube-controller-manager" "$CLIENT_EXT"
sign kube-scheduler "/CN=system:kube-scheduler" "$CLIENT_EXT"
# The kube-apiserver's own client identity towards kubelets (kwok) is unused; skip.
newkey "$P/sa.key"
ossl ec -in "$P/sa.key" -pubout -out "$P/sa.pub"
chmod 600 "$P"/*.key

# kubeconfig NAME -> $D/NAME.kubeconfig (admin -> $D/kubeconfig)
kubeconfig() {
  local out="$D/$1.kubeconfig"
  [[ "$1" == admin ]] && out="$D/kubeconfig"
  cat >"$out" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: mo-local
  cluster:
    server: $APISERVER_URL
    certificate-authority: $P/ca.crt
users:
- name: $1
  user:
    client-certificate: $P/$1.crt
    client-key: $P/$1.key
contexts:
- name: mo-local
  context:
    cluster: mo-local
    user: $1
current-context: mo-local
EOF
  chmod 600 "$out"
}
kubeconfig admin
kubeconfig kube-controller-manager
kubeconfig kube-scheduler
export KUBECONFIG="$D/kubeconfig"

# ---- process helpers -----------------------------------------------------------------
# start NAME CMD...: run detached (own session, stdin /dev/null), log + pid file.
start() {
  local name=$1
  shift
  CURRENT=$name
  setsid "$@" </dev/null >>"$D/logs/$name.log" 2>&1 9>&- &
  echo $! >"$D/pids/$name.pid"
}
alive() { running "$(cat "$D/pids/$1.pid")"; }
# wait_for NAME WHAT CMD...: poll CMD until it succeeds; fail if process NAME
# died or after $TIMEOUT seconds.
wait_for() {
  local name=$1 what=$2 deadline=$((SECONDS + TIMEOUT))
  shift 2
  CURRENT=$name
  until "$@" >/dev/null 2>&1; do
    alive "$name" || die "$name exited during startup"
    ((SECONDS < deadline)) || die "$name: $what not reached after ${TIMEOUT}s"
    sleep 0.2
  done
  log "$name: $what (+$((SECONDS - T_START))s)"
}
curl_api() { curl -fsS --max-time 2 --cacert "$P/ca.crt" --cert "$P/admin.crt" --key "$P/admin.key" "$@"; }
curl_k() { curl -fsSk --max-time 2 "$@"; }

# ---- etcd + Prometheus (independent, start together) -------------------------------------
start etcd "$ETCD_BIN" --name=mo-local --data-dir="$D/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="mo-local=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync --quota-backend-bytes=2147483648 --log-level=warn

sed -e "s/\${SIMULATOR_PORT}/$SIMULATOR_PORT/g" -e "s/\${OPERATOR_METRICS_PORT}/$OPERATOR_METRICS_PORT/g" \
  "$HERE/prometheus.yml.tmpl" >"$D/prometheus.yml"
start prometheus prometheus --config.file="$D/prometheus.yml" --storage.tsdb.path="$D/prometheus" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --web.enable-lifecycle --web.enable-remote-write-receiver \
  --storage.tsdb.retention.time=1d --log.level=warn

wait_for etcd ready curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health"

# ---- kube-apiserver ---------------------------------------------------------------------
start kube-apiserver "$KUBE_APISERVER_BIN" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
  --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" \
  --client-ca-file="$P/ca.crt" \
  --authorization-mode=Node,RBAC \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --endpoint-reconciler-type=none \
  --allow-privileged=true --profiling=false --v=1 \
  "${APISERVER_EXTRA_ARGS[@]}"

wait_for kube-apiserver ready curl_api "$APISERVER_URL/readyz"

# ---- controller-manager, scheduler, kwok (in parallel) -----------------------------------------
start kube-controller-manager "$KUBE_CONTROLLER_MANAGER_BIN" \
  --kubeconfig="$D/kube-controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$KCM_PORT" \
  --controllers='*' --use-service-account-credentials=true \
  --service-account-private-key-file="$P/sa.key" --root-ca-file="$P/ca.crt" \
  --cluster-signing-cert-file="$P/ca.crt" --cluster-signing-key-file="$P/ca.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" --allocate-node-cidrs=false \
  --leader-elect=false --profiling=false --v=1

start kube-scheduler "$KUBE_SCHEDULER_BIN" \
  --kubeconfig="$D/kube-scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" \
  --leader-elect=false --profiling=false --v=1

# An explicit (empty) config so a developer's ~/.kwok/kwok.yaml is not picked
# up; with no Stage in it kwok uses its built-in node and pod stages.
cat >"$D/kwok.yaml" <<'EOF'
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options: {}
EOF
start kwok "$KWOK_BIN" --config="$D/kwok.yaml" --kubeconfig="$D/kubeconfig" \
  --manage-all-nodes=false \
  --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --manage-nodes-with-label-selector= \
  --node-ip=127.0.0.1 --cidr=10.244.0.1/16 \
  --node-lease-duration-seconds=40 \
  --server-address="127.0.0.1:$KWOK_PORT"

for i in $(seq 0 $((NODES - 1))); do
  sed "s/\${NODE_NAME}/kwok-node-$i/g" "$HERE/kwok-node.yaml.tmpl"
  echo "---"
done >"$D/nodes.yaml"
CURRENT=kube-apiserver
kubectl create -f "$D/nodes.yaml" >/dev/null

wait_for kube-controller-manager ready curl_k "https://127.0.0.1:$KCM_PORT/healthz"
wait_for kube-scheduler ready curl_k "https://127.0.0.1:$SCHED_PORT/healthz"
wait_for kwok ready curl -fsS --max-time 2 "http://127.0.0.1:$KWOK_PORT/healthz"
nodes_ready() {
  [[ "$(kubectl get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$')" -ge "$NODES" ]]
}
wait_for kwok "$NODES nodes Ready" nodes_ready
# Pods need the namespace's "default" ServiceAccount (serviceaccount controller).
wait_for kube-controller-manager "default ServiceAccount" kubectl -n default get serviceaccount default
wait_for prometheus ready curl -fsS --max-time 2 "$PROMETHEUS_URL/-/ready"

# ---- Chat App simulator (optional: written by someone else) ---------------------------------
if [[ -f "$SIMULATOR" && "${MO_SKIP_SIMULATOR:-0}" != 1 ]]; then
  [[ -x "$PY" ]] || die "$PY missing: run make install"
  start simulator "$PY" "$SIMULATOR" --kubeconfig "$D/kubeconfig" \
    --port "$SIMULATOR_PORT" --selector app.kubernetes.io/name=chatapp
  wait_for simulator listening python3 -c "import socket; socket.create_connection(('127.0.0.1', $SIMULATOR_PORT), 1)"
else
  log "simulator not started (${SIMULATOR#"$REPO_ROOT"/} absent or MO_SKIP_SIMULATOR=1)"
fi

# ---- env file ----------------------------------------------------------------------------
CURRENT=""
{
  printf 'KUBECONFIG=%q\n' "$D/kubeconfig"
  printf 'APISERVER_URL=%q\n' "$APISERVER_URL"
  printf 'PROMETHEUS_URL=%q\n' "$PROMETHEUS_URL"
  printf 'SIMULATOR_URL=%q\n' "$SIMULATOR_URL"
  printf 'SIMULATOR_PORT=%q\n' "$SIMULATOR_PORT"
  printf 'OPERATOR_METRICS_PORT=%q\n' "$OPERATOR_METRICS_PORT"
  printf 'MO_CLUSTER_DIR=%q\n' "$D"
  printf 'HELM_BIN=%q\n' "$HELM_BIN"
  printf 'KUBE_VERSION=%q\n' "$K8S_VERSION"
} >"$ENV_FILE.tmp"
mv "$ENV_FILE.tmp" "$ENV_FILE"

log "cluster up in $((SECONDS - T_START))s (total incl. build check $((SECONDS - T0))s)"
cat >&2 <<EOF
  source $ENV_FILE     # KUBECONFIG, PROMETHEUS_URL, SIMULATOR_URL, ...
  kubectl get nodes
  logs: $D/logs/   stop: hack/cluster/down.sh
EOF
