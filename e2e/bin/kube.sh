#!/usr/bin/env bash
# A real Kubernetes API server for the end-to-end tests, on a machine with no cluster, no container
# runtime and no kubelet: etcd, kube-apiserver and kube-controller-manager v1.20.2, built once from
# Debian bookworm's `kubernetes` source package and cached outside the clone.
#
# Usage:
#   kube.sh packages   install the Debian packages the other commands need (no-op when present)
#   kube.sh build      build kube-apiserver and kube-controller-manager into the cache (once)
#   kube.sh up DIR     start etcd, the API server and the controller manager with their state in
#                      DIR; prints the path of DIR/admin.kubeconfig when the cluster is ready
#   kube.sh down DIR   stop what `up DIR` started
#   kube.sh env        print where the cache is and whether the binaries are there
#
# Environment:
#   GPUMARKET_KUBE_CACHE       the cache (default $HOME/.cache/gpumarket/kube-v1.20.2)
#   GPUMARKET_KUBE_OWNER_PID   `up`: a process whose end stops the cluster (a watchdog runs `down`
#                              when it is gone, so a killed test JVM leaves nothing behind)
#   GPUMARKET_KUBE_UP_TIMEOUT  `up`: seconds to wait for the cluster to be ready (default 120)
#   GPUMARKET_KUBE_CONTROLLERS `up`: the controller manager's --controllers (default '*'). With no
#                              kubelet, the node lifecycle controller marks every Node NotReady
#                              40 s after it was created and evicts its pods; the benchmark, whose
#                              fleet must stay up for an hour, runs with '*,-nodelifecycle'
#   GPUMARKET_KUBE_CM_PORT     `up`: serve the controller manager's /metrics and /debug/pprof, with
#                              no authentication, on 127.0.0.1 at this port (default 0: not served);
#                              for looking into where its CPU goes, as its queues' work durations say
set -euo pipefail

readonly KUBE_VERSION=v1.20.2
readonly CACHE="${GPUMARKET_KUBE_CACHE:-${HOME:-/tmp}/.cache/gpumarket/kube-${KUBE_VERSION}}"
readonly BIN="${CACHE}/bin"
readonly SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
# Where Debian's golang-github-modern-go-reflect2-dev puts reflect2 v1.0.2.
readonly REFLECT2_SRC=/usr/share/gocode/src/github.com/modern-go/reflect2

log() { echo "kube.sh: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# ---------------------------------------------------------------------------------------------
# packages

binaries_ok() {
  [[ -x "${BIN}/kube-apiserver" && -x "${BIN}/kube-controller-manager" ]] &&
    "${BIN}/kube-apiserver" --version >/dev/null 2>&1 &&
    "${BIN}/kube-controller-manager" --version >/dev/null 2>&1
}

# Prints the Debian packages that are missing, one per line. The build's packages are only asked
# for when the binaries are not cached yet: a machine that has built once needs no Go toolchain.
missing_packages() {
  command -v etcd >/dev/null || echo etcd-server
  { command -v prometheus && command -v promtool; } >/dev/null || echo prometheus
  command -v openssl >/dev/null || echo openssl
  command -v curl >/dev/null || echo curl
  command -v kubectl >/dev/null || echo kubernetes-client
  if ! binaries_ok; then
    command -v go >/dev/null || echo golang-go
    command -v rsync >/dev/null || echo rsync
    command -v make >/dev/null || echo make
    command -v dpkg-source >/dev/null || echo dpkg-dev
    [[ -f "${REFLECT2_SRC}/reflect2.go" ]] || echo golang-github-modern-go-reflect2-dev
  fi
}

as_root() {
  if [[ ${EUID} -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    die "need root to run: $*"
  fi
}

deb_src_enabled() {
  grep -rqsE '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)' \
    /etc/apt/sources.list /etc/apt/sources.list.d/
}

# `apt-get source` needs deb-src entries; Debian images ship without them. Adds them for the
# release this machine runs, in a file of its own rather than editing the existing ones.
enable_deb_src() {
  local codename
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
  log "enabling deb-src for ${codename} in /etc/apt/sources.list.d/gpumarket-deb-src.sources"
  as_root tee /etc/apt/sources.list.d/gpumarket-deb-src.sources >/dev/null <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: ${codename} ${codename}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: ${codename}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}

cmd_packages() {
  local missing updated=false
  mapfile -t missing < <(missing_packages)
  # Only the build needs sources; a new sources entry needs an `apt-get update` before use.
  if ! binaries_ok && ! deb_src_enabled; then
    enable_deb_src
    updated=true
  fi
  if [[ ${#missing[@]} -eq 0 && ${updated} == false ]]; then
    log "packages: all present"
    return 0
  fi
  local start=${SECONDS}
  log "packages: installing ${missing[*]:-(none; refreshing the package lists for deb-src)}"
  # Wait for dpkg's lock rather than fail when another apt-get (a second test run) holds it.
  local wait_lock=(-o DPkg::Lock::Timeout=600)
  as_root apt-get "${wait_lock[@]}" update -qq >&2
  if [[ ${#missing[@]} -gt 0 ]]; then
    # etcd-server and prometheus would start their system services on install; the tests start
    # their own. A policy-rc.d that refuses (exit 101) is the Debian way to say "don't".
    local policy_added=false
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
      printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
      as_root chmod 755 /usr/sbin/policy-rc.d
      policy_added=true
    fi
    local rc=0
    as_root env DEBIAN_FRONTEND=noninteractive \
      apt-get "${wait_lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >&2 || rc=$?
    if [[ ${policy_added} == true ]]; then
      as_root rm -f /usr/sbin/policy-rc.d
    fi
    [[ ${rc} -eq 0 ]] || die "apt-get install ${missing[*]} failed (${rc})"
  fi
  log "packages: done in $((SECONDS - start)) s"
}

# ---------------------------------------------------------------------------------------------
# build

cmd_build() {
  if binaries_ok; then
    log "build: ${BIN} has kube-apiserver and kube-controller-manager $(version_of kube-apiserver)"
    return 0
  fi
  mkdir -p "${CACHE}"
  # One build per machine: a second caller waits here for the first, then finds the binaries.
  exec 9>"${CACHE}/build.lock"
  if ! flock -n 9; then
    log "build: another build holds ${CACHE}/build.lock; waiting for it"
    flock 9
  fi
  if binaries_ok; then
    log "build: built by another process meanwhile"
    return 0
  fi
  # Holding the lock, any build.* directory is a killed build's leftover (a trap does not run on
  # SIGKILL); each is gigabytes.
  find "${CACHE}" -mindepth 1 -maxdepth 1 -type d -name 'build.*' -exec rm -rf {} +
  local m
  m="$(missing_packages | tr '\n' ' ')"
  [[ -z "${m// /}" ]] || die "build: missing packages: ${m}(run: $0 packages)"
  deb_src_enabled || die "build: no deb-src entries in apt's sources (run: $0 packages)"

  local start=${SECONDS}
  # Global, not local: the EXIT trap runs after this function has returned.
  BUILD_WORK="$(mktemp -d "${CACHE}/build.XXXXXX")"
  local work=${BUILD_WORK}
  # The source tree and Go's build cache are 3 GB or so; keep none of it, success or not.
  trap 'rm -rf "${BUILD_WORK:-}"' EXIT
  log "build: fetching the kubernetes source package into ${work} (log: ${CACHE}/build.log)"
  : >"${CACHE}/build.log"
  (cd "${work}" && apt-get source -qq kubernetes) >>"${CACHE}/build.log" 2>&1 ||
    die "build: apt-get source kubernetes failed; see ${CACHE}/build.log"
  local src
  src="$(find "${work}" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | head -n 1)"
  [[ -n "${src}" && -f "${src}/go.mod" ]] || die "build: no source tree in ${work}"
  # Debian versions it 1.20.5+really1.20.2: upstream v1.20.2. Anything else is not what the
  # tests were written for.
  [[ "${src}" == *"really1.20.2"* || "${src}" == *"-1.20.2" ]] ||
    die "build: expected the v1.20.2 tree, got $(basename "${src}")"

  # The vendored reflect2 v1.0.1 reads Go runtime internals that changed in Go 1.18; under a newer
  # Go the API server crashes the first time a custom resource is created. v1.0.2 fixes it and
  # has the same API, so its files replace the vendored ones (vendor/modules.txt may keep saying
  # v1.0.1: Go checks that file against go.mod, not against the files).
  [[ -d "${src}/vendor/github.com/modern-go/reflect2" ]] || die "build: no vendored reflect2"
  rsync -a --delete --exclude '*_test.go' --exclude 'go.mod' --exclude 'go.sum' \
    "${REFLECT2_SRC}/" "${src}/vendor/github.com/modern-go/reflect2/"

  # Without a git checkout the build cannot tell its version; say it, so `--version` and
  # discovery report v1.20.2 (kubectl and fabric8 read it).
  cat >"${work}/version.env" <<EOF
KUBE_GIT_COMMIT='faecb196815e248d3ecfb03c680a4507229c2a56'
KUBE_GIT_TREE_STATE='clean'
KUBE_GIT_VERSION='${KUBE_VERSION}'
KUBE_GIT_MAJOR='1'
KUBE_GIT_MINOR='20'
EOF
  log "build: make WHAT='cmd/kube-apiserver cmd/kube-controller-manager' with $(go version) (10+ minutes on 2 cores)"
  if ! (cd "${src}" &&
    nice -n 10 env GOCACHE="${work}/go-build" GOFLAGS=-mod=vendor \
      KUBE_GIT_VERSION_FILE="${work}/version.env" \
      make WHAT='cmd/kube-apiserver cmd/kube-controller-manager') >>"${CACHE}/build.log" 2>&1; then
    tail -n 40 "${CACHE}/build.log" >&2
    die "build: make failed; see ${CACHE}/build.log"
  fi
  mkdir -p "${BIN}"
  local out="${src}/_output/local/bin/linux/$(go env GOARCH)"
  for b in kube-apiserver kube-controller-manager; do
    [[ -x "${out}/${b}" ]] || out="${src}/_output/bin"
    install -m 0755 "${out}/${b}" "${BIN}/${b}.tmp"
    mv -f "${BIN}/${b}.tmp" "${BIN}/${b}"
  done
  binaries_ok || die "build: the built binaries do not run"
  local took=$((SECONDS - start))
  {
    echo "version: $(version_of kube-apiserver)"
    echo "source: $(basename "${src}")"
    echo "go: $(go version)"
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores"
    echo "seconds: ${took}"
  } >"${CACHE}/build-info.txt"
  rm -rf "${work}"
  trap - EXIT
  log "build: done in ${took} s; binaries in ${BIN}"
}

version_of() { "${BIN}/$1" --version 2>/dev/null | awk '{print $2}'; }

# ---------------------------------------------------------------------------------------------
# up / down

# A TCP port on 127.0.0.1 that nothing listens on now, below Linux's default range of ephemeral
# ports (32768 and up) so that outgoing connections do not take it. Another process may still
# bind it first; `up` then starts again with other ports.
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 12000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
      echo "${port}"
      return 0
    fi
  done
  die "no free port found"
}

# Is the pid in DIR/NAME.pid alive and still the process we started (not a reused pid)?
alive() {
  local dir=$1 name=$2 pid
  [[ -f "${dir}/${name}.pid" ]] || return 1
  pid="$(cat "${dir}/${name}.pid")"
  [[ -n "${pid}" ]] && kill -0 "${pid}" 2>/dev/null &&
    tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -q -- "${dir}"
}

# Starts a daemon detached from our stdin/stdout (a caller reading our output must see EOF when
# we exit) and in its own session (a Ctrl-C meant for the caller does not reach it; `down` and the
# watchdog stop it).
start_daemon() {
  local dir=$1 name=$2
  shift 2
  rm -f "${dir}/${name}.pid"
  # The pid is written from inside: setsid forks when called by a process-group leader, and then
  # $! would be the wrong process.
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' start "${dir}/${name}.pid" "$@" \
    </dev/null >"${dir}/${name}.log" 2>&1 &
  # Wait for the pid file, so the callers' liveness checks see it.
  for _ in $(seq 1 50); do
    [[ -s "${dir}/${name}.pid" ]] && return 0
    sleep 0.1
  done
  die "${name} did not start"
}

api_get() {
  local dir=$1 path=$2
  curl -fsS --max-time 5 --cacert "${dir}/pki/apiserver.crt" \
    -H "Authorization: Bearer $(cat "${dir}/admin.token")" \
    "https://127.0.0.1:$(cat "${dir}/apiserver.port")${path}"
}

fail_up() {
  local dir=$1
  shift
  log "up: $*"
  # Another process took one of our ports between free_port and the bind: start again with
  # new ports (twice at most).
  local attempt=${GPUMARKET_KUBE_UP_ATTEMPT:-1}
  if ((attempt < 3)) && grep -qs 'address already in use' "${dir}"/{etcd,kube-apiserver}.log; then
    log "up: a port was taken meanwhile; starting again with other ports"
    cmd_down "${dir}"
    GPUMARKET_KUBE_UP_ATTEMPT=$((attempt + 1)) exec "${SELF}" up "${dir}"
  fi
  for name in etcd kube-apiserver kube-controller-manager; do
    if [[ -f "${dir}/${name}.log" ]]; then
      log "---- last lines of ${dir}/${name}.log"
      tail -n 15 "${dir}/${name}.log" >&2
    fi
  done
  cmd_down "${dir}"
  exit 1
}

write_kubeconfig() {
  local file=$1 server=$2 ca=$3 user=$4 token=$5
  cat >"${file}" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: gpumarket-e2e
  cluster:
    server: ${server}
    certificate-authority-data: $(base64 -w0 <"${ca}")
users:
- name: ${user}
  user:
    token: ${token}
contexts:
- name: gpumarket-e2e
  context:
    cluster: gpumarket-e2e
    user: ${user}
current-context: gpumarket-e2e
EOF
  chmod 600 "${file}"
}

cmd_up() {
  local dir=${1:?usage: kube.sh up DIR}
  mkdir -p "${dir}"
  dir="$(cd "${dir}" && pwd)"
  if alive "${dir}" kube-apiserver && alive "${dir}" etcd && alive "${dir}" kube-controller-manager; then
    log "up: already running in ${dir}"
    echo "${dir}/admin.kubeconfig"
    return 0
  fi
  binaries_ok || die "up: no binaries in ${BIN} (run: $0 build)"
  command -v etcd >/dev/null || die "up: no etcd (run: $0 packages)"
  cmd_down "${dir}" 2>/dev/null || true
  local start=${SECONDS}
  rm -rf "${dir}/etcd" "${dir}/pki"
  mkdir -p "${dir}/pki"

  # The serving certificate doubles as the cluster CA: clients trust exactly this certificate.
  # Names cover 127.0.0.1 and the in-cluster service name, so a kubeconfig or an in-cluster-style
  # client both verify it.
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=gpumarket-e2e-apiserver" \
    -keyout "${dir}/pki/apiserver.key" -out "${dir}/pki/apiserver.crt" \
    -addext "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" \
    2>/dev/null || die "up: openssl could not make the serving certificate"
  # ServiceAccount tokens: the controller manager signs them, the API server verifies them.
  openssl genrsa -out "${dir}/pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "${dir}/pki/sa.key" -pubout -out "${dir}/pki/sa.pub" 2>/dev/null
  chmod 600 "${dir}/pki/"*.key

  # Static tokens: the admin (system:masters bypasses RBAC) and the controller manager, which
  # RBAC's bootstrap policy knows as the user system:kube-controller-manager.
  openssl rand -hex 32 >"${dir}/admin.token"
  local cm_token
  cm_token="$(openssl rand -hex 32)"
  {
    echo "$(cat "${dir}/admin.token"),admin,admin-uid,system:masters"
    echo "${cm_token},system:kube-controller-manager,kcm-uid"
  } >"${dir}/tokens.csv"
  chmod 600 "${dir}/tokens.csv" "${dir}/admin.token"

  local etcd_port etcd_peer api_port
  etcd_port="$(free_port)"
  etcd_peer="$(free_port)"
  api_port="$(free_port)"
  echo "${api_port}" >"${dir}/apiserver.port"
  echo "${etcd_port}" >"${dir}/etcd.port"
  local server="https://127.0.0.1:${api_port}"

  start_daemon "${dir}" etcd etcd --name gpumarket-e2e --data-dir "${dir}/etcd" \
    --listen-client-urls "http://127.0.0.1:${etcd_port}" \
    --advertise-client-urls "http://127.0.0.1:${etcd_port}" \
    --listen-peer-urls "http://127.0.0.1:${etcd_peer}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${etcd_peer}" \
    --initial-cluster "gpumarket-e2e=http://127.0.0.1:${etcd_peer}"

  # --endpoint-reconciler-type=none: the API server would otherwise publish 127.0.0.1 as the
  # endpoint of the `kubernetes` Service, which validation refuses (loopback), every 10 s.
  # Admission: the default set minus what needs volumes or nodes; ServiceAccount (tokens in pods)
  # and ResourceQuota (the operator caps GPUs with quotas) matter to the tests.
  start_daemon "${dir}" kube-apiserver "${BIN}/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:${etcd_port}" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 \
    --secure-port "${api_port}" --insecure-port 0 \
    --cert-dir "${dir}/pki" \
    --tls-cert-file "${dir}/pki/apiserver.crt" --tls-private-key-file "${dir}/pki/apiserver.key" \
    --token-auth-file "${dir}/tokens.csv" \
    --authorization-mode RBAC \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "${dir}/pki/sa.pub" \
    --service-account-signing-key-file "${dir}/pki/sa.key" \
    --service-cluster-ip-range 10.96.0.0/12 \
    --endpoint-reconciler-type none \
    --allow-privileged=true \
    --enable-admission-plugins NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultTolerationSeconds,Priority,RuntimeClass,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ResourceQuota \
    --disable-admission-plugins DefaultStorageClass,StorageObjectInUseProtection,PersistentVolumeClaimResize,TaintNodesByCondition,DefaultIngressClass,CertificateApproval,CertificateSigning,CertificateSubjectRestriction

  write_kubeconfig "${dir}/admin.kubeconfig" "${server}" "${dir}/pki/apiserver.crt" admin \
    "$(cat "${dir}/admin.token")"
  write_kubeconfig "${dir}/controller-manager.kubeconfig" "${server}" "${dir}/pki/apiserver.crt" \
    system:kube-controller-manager "${cm_token}"

  local timeout=${GPUMARKET_KUBE_UP_TIMEOUT:-120} deadline
  deadline=$((SECONDS + timeout))
  until [[ "$(api_get "${dir}" /readyz 2>/dev/null)" == ok ]]; do
    alive "${dir}" etcd || fail_up "${dir}" "etcd exited"
    alive "${dir}" kube-apiserver || fail_up "${dir}" "kube-apiserver exited"
    ((SECONDS < deadline)) || fail_up "${dir}" "kube-apiserver not ready after ${timeout} s"
    sleep 0.5
  done
  log "up: API server ready on ${server} after $((SECONDS - start)) s"

  # No HTTPS serving, and HTTP only when asked for (GPUMARKET_KUBE_CM_PORT): nothing asks the
  # controller manager for its health, and fixed default ports would clash between clusters. Each
  # controller runs under its own ServiceAccount, as on a real cluster, so RBAC applies to the
  # controllers too.
  start_daemon "${dir}" kube-controller-manager "${BIN}/kube-controller-manager" \
    --kubeconfig "${dir}/controller-manager.kubeconfig" \
    --port "${GPUMARKET_KUBE_CM_PORT:-0}" --address 127.0.0.1 --secure-port 0 \
    --leader-elect=false \
    --controllers "${GPUMARKET_KUBE_CONTROLLERS:-*}" \
    --use-service-account-credentials=true \
    --service-account-private-key-file "${dir}/pki/sa.key" \
    --root-ca-file "${dir}/pki/apiserver.crt" \
    --service-cluster-ip-range 10.96.0.0/12

  # Ready for tests when the token controller has given the default ServiceAccount its token:
  # before that, creating a pod fails in the ServiceAccount admission plugin.
  until api_get "${dir}" "/api/v1/namespaces/default/serviceaccounts/default" 2>/dev/null |
    grep -q '"default-token-'; do
    alive "${dir}" kube-controller-manager || fail_up "${dir}" "kube-controller-manager exited"
    alive "${dir}" kube-apiserver || fail_up "${dir}" "kube-apiserver exited"
    ((SECONDS < deadline)) || fail_up "${dir}" "no token for the default ServiceAccount after ${timeout} s"
    sleep 0.5
  done

  if [[ -n "${GPUMARKET_KUBE_OWNER_PID:-}" ]]; then
    start_watchdog "${dir}" "${GPUMARKET_KUBE_OWNER_PID}"
  fi
  log "up: cluster ready in $((SECONDS - start)) s (${server}, state and logs in ${dir})"
  echo "${dir}/admin.kubeconfig"
}

# Stops the cluster when the owner process ends without calling `down` (a test JVM killed by a
# timeout, say). The dir appears in its command line so `alive` recognises it.
start_watchdog() {
  local dir=$1 owner=$2
  rm -f "${dir}/watchdog.pid"
  setsid bash -c '
    owner=$1 self=$2 dir=$3
    echo $$ >"${dir}/watchdog.pid"
    while kill -0 "${owner}" 2>/dev/null; do sleep 2; done
    echo "$(date -u +%FT%TZ) owner ${owner} gone; stopping the cluster"
    GPUMARKET_KUBE_WATCHDOG=1 "${self}" down "${dir}"
  ' kube-watchdog "${owner}" "${SELF}" "${dir}" </dev/null >>"${dir}/watchdog.log" 2>&1 &
}

stop_one() {
  local dir=$1 name=$2 pid
  if alive "${dir}" "${name}"; then
    pid="$(cat "${dir}/${name}.pid")"
    kill -TERM "${pid}" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "${pid}" 2>/dev/null; then
      log "down: ${name} (${pid}) ignored SIGTERM for 10 s; killing it"
      kill -KILL "${pid}" 2>/dev/null || true
    fi
    log "down: stopped ${name} (${pid})"
  fi
  rm -f "${dir}/${name}.pid"
}

cmd_down() {
  local dir=${1:?usage: kube.sh down DIR}
  [[ -d "${dir}" ]] || return 0
  dir="$(cd "${dir}" && pwd)"
  # Reverse order of start: clients before the API server before its storage.
  stop_one "${dir}" kube-controller-manager
  stop_one "${dir}" kube-apiserver
  stop_one "${dir}" etcd
  # The watchdog itself calls `down`; it must not wait for its own end.
  if [[ -z "${GPUMARKET_KUBE_WATCHDOG:-}" ]]; then
    stop_one "${dir}" watchdog
  else
    rm -f "${dir}/watchdog.pid"
  fi
}

cmd_env() {
  echo "cache: ${CACHE}"
  if binaries_ok; then
    echo "binaries: ${BIN} ($(version_of kube-apiserver))"
  else
    echo "binaries: missing (run: $0 packages && $0 build)"
  fi
  [[ -f "${CACHE}/build-info.txt" ]] && cat "${CACHE}/build-info.txt"
  return 0
}

case "${1:-}" in
  packages) cmd_packages ;;
  build) cmd_build ;;
  up) cmd_up "${2:-}" ;;
  down) cmd_down "${2:-}" ;;
  env) cmd_env ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
