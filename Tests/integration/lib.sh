# Helpers for gantry's integration tests. Each test is a function named test_*
# run in a subshell with its own temp directory ($T); a failed assertion ends it.
# Images are checked with tools gantry did not write: skopeo, umoci, tar, gzip.

GANTRY=${GANTRY:?set GANTRY to the gantry binary}

fail() { echo "    assertion failed: $*" >&2; exit 1; }
note() { echo "    note: $*"; }

# The independent OCI layout checker (image-spec schemas, digests, diff_ids, tar
# path safety) from the steering repository's shared/ beside this checkout.
ORACLE="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/shared/tools/oci_check.py"
[ -f "$ORACLE" ] || { echo "missing $ORACLE (shared/ beside the checkout)" >&2; exit 1; }

assert_eq() { [ "$1" = "$2" ] || fail "${3:-values differ}: expected '$2', got '$1'"; }
assert_ne() { [ "$1" != "$2" ] || fail "${3:-values should differ}: both '$1'"; }
assert_contains() { case "$1" in *"$2"*) ;; *) fail "${3:-text} does not contain '$2': $1" ;; esac; }
assert_file() { [ -e "$1" ] || fail "missing $1"; }
assert_no_file() { [ ! -e "$1" ] || fail "$1 should not exist"; }

# run_gantry ARGS...: runs gantry, keeping stdout in $OUT, stderr in $ERR, exit code in $RC.
run_gantry() {
  set +e
  OUT=$("$GANTRY" "$@" 2>"$T/.stderr"); RC=$?
  set -e
  ERR=$(cat "$T/.stderr")
}

# expect_failure CODE TEXT ARGS...: gantry must exit CODE with exactly one error
# line on stderr containing TEXT.
expect_failure() {
  local code=$1 text=$2; shift 2
  run_gantry "$@"
  assert_eq "$RC" "$code" "exit code of gantry $* (stderr: $ERR)"
  local errors
  errors=$(printf '%s\n' "$ERR" | grep -c '^gantry: error:' || true)
  assert_eq "$errors" 1 "number of error lines"
  assert_contains "$ERR" "$text" "error message"
}

# json FILE EXPR: evaluates a Python expression over the JSON document `d` in FILE.
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

inspect_digest() { skopeo inspect "$@" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])'; }

# A store per test, so tests never share a cache unless they mean to.
store() { echo "$T/store"; }

run_tests() {
  local passed=0 failed=0 names
  names=$(declare -F | awk '{print $3}' | grep '^test_' || true)
  for name in $names; do
    [ -n "${ONLY:-}" ] && [[ "$name" != *"$ONLY"* ]] && continue
    T=$(mktemp -d /tmp/gantry-it.XXXXXX)
    local start=$SECONDS
    # EXIT traps are not inherited by subshells: each test stops its own services and containers.
    if ( set -euo pipefail; trap 'stop_containers; stop_services' EXIT; cd "$T"; "$name" ) >"$T.log" 2>&1; then
      passed=$((passed + 1)); echo "ok     $name ($((SECONDS - start))s)"; grep '^    note:' "$T.log" || true
    else
      failed=$((failed + 1)); echo "FAILED $name ($((SECONDS - start))s)"; sed "s/^/    /" "$T.log" | grep -vE "^ +(r[a-z0-9]+|rflags|cs) " | head -60
    fi
    rm -rf "$T" "$T.log"
  done
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# ---- services started by tests, stopped when the test's subshell exits ----
SERVICE_PIDS=""
stop_services() { for pid in $SERVICE_PIDS; do kill "$pid" 2>/dev/null || true; done; for pid in $SERVICE_PIDS; do wait "$pid" 2>/dev/null || true; done; }
HELPERS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/helpers"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_for_port() {  # PORT: until something accepts connections (10 s)
  for _ in $(seq 1 100); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "nothing listens on 127.0.0.1:$1"
}

# start_registry NAME [AUTH_YAML]: Debian's docker-registry (distribution 2.8) with
# its access log at $T/NAME.log; sets REG (host:port).
start_registry() {
  local name=$1 auth=${2:-} port; port=$(free_port)
  mkdir -p "$T/$name-data"
  cat > "$T/$name.yml" <<YAML
version: 0.1
log: {level: info, accesslog: {disabled: false}}
storage: {filesystem: {rootdirectory: $T/$name-data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
$auth
YAML
  docker-registry serve "$T/$name.yml" > "$T/$name.log" 2>&1 &
  REG_PID=$!
  SERVICE_PIDS="$SERVICE_PIDS $!"
  wait_for_port "$port"
  REG="127.0.0.1:$port"
}

# start_token_server ARGS...: sets TOKEN_PORT, TOKEN_CERT, TOKEN_LOG.
start_token_server() {
  TOKEN_PORT=$(free_port); TOKEN_CERT="$T/token-cert.pem"; TOKEN_LOG="$T/tokens.log"; : > "$TOKEN_LOG"
  python3 "$HELPERS/token_server.py" --port "$TOKEN_PORT" --cert "$TOKEN_CERT" --log "$TOKEN_LOG" "$@" > "$T/token-server.out" 2>&1 &
  TOKEN_PID=$!
  SERVICE_PIDS="$SERVICE_PIDS $!"
  wait_for_port "$TOKEN_PORT"
}

token_auth_yaml() {
  # realm laid out as ACR's: /oauth2/token, with /oauth2/exchange beside it
  echo "auth: {token: {realm: 'http://127.0.0.1:$TOKEN_PORT/oauth2/token', service: gantry-test-registry, issuer: gantry-test-issuer, rootcertbundle: $TOKEN_CERT}}"
}

# start_fault_proxy UPSTREAM ARGS...: sets PROXY (host:port) and PROXY_LOG.
start_fault_proxy() {
  local upstream=$1; shift
  local port; port=$(free_port); PROXY_LOG="$T/faults.log"; : > "$PROXY_LOG"
  python3 "$HELPERS/fault_proxy.py" --port "$port" --upstream "$upstream" --log "$PROXY_LOG" "$@" > "$T/proxy.out" 2>&1 &
  SERVICE_PIDS="$SERVICE_PIDS $!"
  wait_for_port "$port"
  PROXY="127.0.0.1:$port"
}

# count_requests LOG METHOD PATTERN: access-log lines of METHOD whose path matches PATTERN.
count_requests() { grep -E "\"$2 [^ ]*$3" "$1" | wc -l | tr -d ' '; }

# start_blob_server ROOT ARGS...: the blob-storage-like endpoint; sets BLOB_PORT, BLOB_LOG.
start_blob_server() {
  local root=$1; shift
  BLOB_PORT=$(free_port); BLOB_LOG="$T/blob.log"; : > "$BLOB_LOG"
  python3 "$HELPERS/blob_server.py" --port "$BLOB_PORT" --root "$root" --log "$BLOB_LOG" "$@" > "$T/blob-server.out" 2>&1 &
  SERVICE_PIDS="$SERVICE_PIDS $!"
  wait_for_port "$BLOB_PORT"
}

# run_image REF NAME: pulls REF with skopeo, unpacks it with umoci and starts it
# with runc on the host's network, the app listening on a free port; sets APP_PORT.
CONTAINERS=""
stop_containers() { for c in $CONTAINERS; do runc kill "$c" KILL 2>/dev/null || true; sleep 0.3; runc delete -f "$c" 2>/dev/null || true; done; }
run_image() {
  local ref=$1 name=$2
  skopeo copy -q --src-tls-verify=false "docker://$ref" "oci:$T/pulled-$name:x"
  umoci unpack --image "$T/pulled-$name:x" "$T/bundle-$name" > /dev/null
  APP_PORT=$(free_port)
  python3 - "$T/bundle-$name/config.json" "$APP_PORT" <<'PY'
import json, sys
path, port = sys.argv[1], sys.argv[2]
config = json.load(open(path))
config["process"]["terminal"] = False
config["process"]["env"] = [e for e in config["process"]["env"] if not e.startswith("PORT=")] + [f"PORT={port}"]
config["linux"]["namespaces"] = [n for n in config["linux"]["namespaces"] if n["type"] != "network"]
json.dump(config, open(path, "w"))
PY
  local container="gantry-test-$name-$$"
  runc run --detach --bundle "$T/bundle-$name" "$container" > "$T/app-$name.log" 2>&1 < /dev/null
  CONTAINERS="$CONTAINERS $container"
  for _ in $(seq 1 300); do curl -fsS -o /dev/null "http://127.0.0.1:$APP_PORT/" 2>/dev/null && return 0; sleep 0.1; done
  cat "$T/app-$name.log" >&2
  fail "the app from $ref did not answer on port $APP_PORT"
}

# start_kube_api [--rollout ready|stuck]: the fake API server; writes $T/kubeconfig, sets KUBE_LOG.
start_kube_api() {
  local port; port=$(free_port); KUBE_LOG="$T/kube.log"; : > "$KUBE_LOG"
  python3 "$HELPERS/kube_api.py" --port "$port" --log "$KUBE_LOG" "$@" > "$T/kube.out" 2>&1 &
  SERVICE_PIDS="$SERVICE_PIDS $!"
  wait_for_port "$port"
  cat > "$T/kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: "http://127.0.0.1:$port"}}]
users: [{name: test, user: {token: not-a-real-token}}]
contexts: [{name: test, context: {cluster: test, user: test, namespace: default}}]
current-context: test
YAML
}

# kube_requests METHOD PATH_SUBSTRING: the recorded requests as JSON lines.
kube_requests() { python3 -c "
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d['method'] == sys.argv[2] and sys.argv[3] in d['path']:
        print(line.strip())" "$KUBE_LOG" "$1" "$2"; }

# sources_naming DEBS URL: a directory `over/` that, laid over scripts/make-python-base's
# base, makes the base's apt sources name only the loopback repository URL (DEBS's
# key inside the base), as python:3.11-slim's name deb.debian.org.
sources_naming() {
  mkdir -p over/etc/apt/sources.list.d over/usr/share/keyrings
  cp "$1/key.gpg" over/usr/share/keyrings/gantry-tests.gpg
  printf 'Types: deb\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/gantry-tests.gpg\n' "$2" \
    > over/etc/apt/sources.list.d/debian.sources
  : > over/etc/apt/sources.list  # the base's deb.debian.org lines, emptied
}

# release_dist: scripts/release's artifacts for this checkout, made once and shared
# by the test files that need them (deploy_test installs as the CI templates do,
# release_test checks them): a directory under /tmp named by the tree's content.
RELEASE_SOURCE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
release_dist() {
  local root=$RELEASE_SOURCE_ROOT
  local key; key=$( (git -C "$root" rev-parse HEAD 2>/dev/null; git -C "$root" status --porcelain 2>/dev/null; git -C "$root" diff 2>/dev/null) | sha256sum | cut -c1-16)
  local dist="/tmp/gantry-release-$key"
  if [ ! -s "$dist/SHA256SUMS.sig" ]; then
    rm -rf /tmp/gantry-release-*
    "$root/scripts/release" "$dist" > "/tmp/gantry-release-$key.log" 2>&1 || { tail -20 "/tmp/gantry-release-$key.log" >&2; return 1; }
  fi
  echo "$dist"
}
