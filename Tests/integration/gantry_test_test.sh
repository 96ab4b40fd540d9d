#!/usr/bin/env bash
# gantry test: the image runs under runc (as root and rootless) in namespaces of
# its own, gantry checks it over HTTP and with commands inside it. The sample is
# built once for the whole file; each test reads it (the store is only read).
# Results are checked with tools gantry did not write: runc list, /proc/mounts,
# umoci unpack (whiteouts), junitparser (JUnit XML).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

SHARED=$(mktemp -d /tmp/gantry-test-shared.XXXXXX)
trap 'rm -rf "$SHARED"' EXIT
chmod 755 "$SHARED"
# The sample, built once: the Debian Python base, Flask + gunicorn, the model from a local
# file (--model replaces the source; the recipe's destination, where the app reads it, stays).
python3 "$REPO_ROOT/fixtures/flask-app/model/train.py" "$SHARED/classifier.json" > /dev/null
cp -r "$REPO_ROOT/fixtures/flask-app" "$SHARED/sample"
"$GANTRY" build -q -f "$SHARED/sample/gantry.yaml" --base "rootfs:$("$REPO_ROOT/scripts/make-python-base")" \
  --model "$SHARED/classifier.json" --store "$SHARED/store" --output "oci-archive:$SHARED/sample.tar" > "$SHARED/digest" 2> "$SHARED/build.err" \
  || { cat "$SHARED/build.err" >&2; exit 1; }
chmod 644 "$SHARED/sample.tar"
SAMPLE="$SHARED/sample/gantry.yaml"

# gantry test with the shared store; bundles under $T/tmp so that leftovers are seen.
gantry_test() { mkdir -p "$T/tmp"; TMPDIR="$T/tmp" run_gantry test --store "$SHARED/store" "$@"; }

# The container id gantry printed, and proof that nothing of the run is left:
# no such container in runc's list, no bundle, no mount under it.
assert_nothing_left() {
  local id; id=$(printf '%s\n' "$ERR" | sed -n 's/^test   started \(gantry-test-[^ ]*\) with runc.*/\1/p' | head -1)
  [ -n "$id" ] || fail "no 'started' line in: $ERR"
  runc list -q | grep -qx "$id" && fail "container $id left behind"
  [ -z "$(ls -A "$T/tmp" 2>/dev/null)" ] || fail "bundle left behind: $(ls "$T/tmp")"
  grep -q "$T/tmp" /proc/mounts && fail "a mount left behind: $(grep "$T/tmp" /proc/mounts)"
  return 0
}

test_the_sample_passes_its_recipe_checks_and_writes_junit() {
  gantry_test -f "$SAMPLE" --junit results.xml
  assert_eq "$RC" 0 "gantry test ($ERR) $OUT"
  assert_eq "$(printf '%s\n' "$OUT" | grep -c '^ok  ')" 6 "passed checks: $OUT"
  assert_contains "$OUT" "serves the model gantry recorded"
  assert_contains "$ERR" "6 of 6 checks passed"
  # The second run finds every layer unpacked already (the store's cache/rootfs).
  gantry_test -f "$SAMPLE"
  assert_eq "$RC" 0 "second gantry test ($ERR)"
  assert_contains "$ERR" "layers: 4 already unpacked, 0 unpacked"
  python3 - results.xml <<'PY' || fail "JUnit XML: $(cat results.xml)"
import sys
from junitparser import JUnitXml
xml = JUnitXml.fromfile(sys.argv[1])
cases = [case for suite in xml for case in suite]
assert len(cases) == 6 and all(case.is_passed for case in cases), [(c.name, c.result) for c in cases]
assert cases[0].name == "ready: GET / answers" and cases[0].time > 0, cases[0].name
PY
  assert_nothing_left
}

test_a_wrong_answer_fails_naming_the_field_and_a_failing_command_shows_its_output() {
  cat > plan.yaml <<'YAML'
test:
  checks:
    - name: scores a virginica
      http: POST /score
      json: {features: [5.1, 3.5, 1.4, 0.2]}
      expect: {json: {predictions: [{label: virginica}]}}
    - name: torch is there
      exec: [python3, -c, "import torch"]
    - name: version text
      http: GET /version
      expect: {body: "\"version\":\"1.0.0\""}
YAML
  gantry_test -f plan.yaml --junit results.xml
  assert_eq "$RC" 1 "exit code for failed checks ($ERR)"
  assert_contains "$OUT" 'predictions[0].label: expected "virginica", got "setosa"'
  assert_contains "$OUT" "exited with 1, expected 0"
  assert_contains "$OUT" "No module named 'torch'"
  assert_contains "$OUT" "the container's last"
  assert_contains "$ERR" "gantry: error: 2 of 4 checks failed"
  python3 - results.xml <<'PY' || fail "JUnit XML: $(cat results.xml)"
import sys
from junitparser import JUnitXml, Failure
cases = [case for suite in JUnitXml.fromfile(sys.argv[1]) for case in suite]
failed = {case.name: case.result[0].message for case in cases if case.result and isinstance(case.result[0], Failure)}
assert set(failed) == {"scores a virginica", "torch is there"}, failed
assert "predictions[0].label" in failed["scores a virginica"], failed
PY
  assert_nothing_left
}

test_an_app_that_crashes_at_import_fails_at_once_with_its_traceback() {
  mkdir -p crash
  printf 'raise RuntimeError("the model file is corrupt")\n' > crash/app.py
  run_gantry build -q --base "oci-archive:$SHARED/sample.tar" --layer crash:/app --store "$T/store"
  assert_eq "$RC" 0 "build ($ERR)"
  mkdir -p "$T/tmp"
  SECONDS=0
  TMPDIR="$T/tmp" run_gantry test --store "$T/store"
  assert_eq "$RC" 1 "exit code ($ERR)"
  [ "$SECONDS" -lt 40 ] || fail "took ${SECONDS}s: the exit was not noticed before the ready timeout"
  assert_contains "$OUT" "the app exited before it answered"
  assert_contains "$OUT" "Traceback"
  assert_contains "$OUT" "RuntimeError: the model file is corrupt"
  # The second worker's identical traceback is one line, not a second copy.
  assert_eq "$(printf '%s\n' "$OUT" | grep -c '^ *RuntimeError: the model file is corrupt')" 1 "the app's exception shown once: $OUT"
  assert_nothing_left
}

test_an_app_that_never_listens_fails_at_the_ready_timeout() {
  run_gantry build -q --base "oci-archive:$SHARED/sample.tar" --entrypoint '["sleep", "600"]' --store "$T/store"
  assert_eq "$RC" 0 "build ($ERR)"
  mkdir -p "$T/tmp"
  TMPDIR="$T/tmp" run_gantry test --store "$T/store" --ready-timeout 3
  assert_eq "$RC" 1 "exit code ($ERR)"
  assert_contains "$OUT" "not ready after 3 s: nothing listened on port 8080"
  assert_nothing_left
}

# A model API that serves only POST /predict (GET / is 404), as many do.
test_ready_probes_for_an_app_without_a_get_route() {
  mkdir -p api
  cat > api/server.py <<'PY'
import json
from http.server import BaseHTTPRequestHandler, HTTPServer
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(404); self.end_headers(); self.wfile.write(b"no such route: only POST /predict")
    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        features = json.loads(self.rfile.read(length) or b"{}").get("features")
        self.send_response(200 if self.path == "/predict" and features else 400); self.end_headers()
        self.wfile.write(json.dumps({"label": "setosa"}).encode())
HTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
PY
  run_gantry build -q --base "oci-archive:$SHARED/sample.tar" --layer api:/api --entrypoint '["python3", "/api/server.py"]' --store "$T/store"
  assert_eq "$RC" 0 "build ($ERR)"
  mkdir -p "$T/tmp"
  # GET / answers 404: said at once with the answer, not after the 60 s timeout.
  SECONDS=0
  TMPDIR="$T/tmp" run_gantry test --store "$T/store"
  assert_eq "$RC" 1 "exit code ($ERR)"
  [ "$SECONDS" -lt 30 ] || fail "took ${SECONDS}s: the 404 was not reported at once"
  assert_contains "$OUT" "GET / answered 404: the app is up"
  assert_contains "$OUT" "no such route: only POST /predict"
  # A TCP probe, a POST with a body, and any answer all see it ready.
  TMPDIR="$T/tmp" run_gantry test --store "$T/store" --ready tcp
  assert_eq "$RC" 0 "--ready tcp ($ERR $OUT)"
  assert_contains "$OUT" "ready: port accepts connections"
  printf 'test:\n  ready: {http: POST /predict, json: {features: [5.1, 3.5, 1.4, 0.2]}, timeout: 30}\n' > post.yaml
  TMPDIR="$T/tmp" run_gantry test --store "$T/store" -f post.yaml
  assert_eq "$RC" 0 "ready POST /predict ($ERR $OUT)"
  assert_contains "$OUT" "ready: POST /predict answers"
  printf 'test:\n  ready: {path: /, status: any}\n' > any.yaml
  TMPDIR="$T/tmp" run_gantry test --store "$T/store" -f any.yaml
  assert_eq "$RC" 0 "ready with status: any ($ERR $OUT)"
  assert_nothing_left
  printf 'test:\n  ready: {tcp: true, path: /}\n' > both.yaml
  expect_failure 64 "both.yaml:2" test --store "$T/store" -f both.yaml
}

test_an_image_without_entrypoint_or_port_gets_a_clear_error() {
  mkdir -p files; echo hi > files/x
  run_gantry build -q --base scratch --layer files:/files --store "$T/store"
  assert_eq "$RC" 0 "build ($ERR)"
  expect_failure 65 "has no entrypoint or cmd, so there is nothing to run" test --store "$T/store"
  run_gantry build -q --base scratch --layer files:/files --entrypoint '["/files/x"]' --store "$T/store"
  expect_failure 64 "exposes no port to test; set 'test.port'" test --store "$T/store"
  printf 'test:\n  retry: 3\n' > typo.yaml
  expect_failure 64 "typo.yaml:2: unknown key 'retry'" test --store "$SHARED/store" -f typo.yaml
  expect_failure 66 "is not an OCI image layout" test --store "$SHARED/store" oci:nowhere
}

test_two_runs_of_the_same_image_at_once_both_pass() {
  # Same port 8080 in both: each run has its own network namespace. One reads the
  # shared store, the other the oci-archive into a store of its own.
  mkdir -p "$T/tmp"
  TMPDIR="$T/tmp" "$GANTRY" test --store "$SHARED/store" -f "$SAMPLE" > one.out 2> one.err & local first=$!
  TMPDIR=tmp "$GANTRY" test --store store -f "$SAMPLE" "oci-archive:$SHARED/sample.tar" > two.out 2> two.err & local second=$!
  wait "$first" || fail "first run: $(cat one.out one.err)"
  wait "$second" || fail "second run: $(cat two.out two.err)"
  assert_eq "$(grep -c '^ok  ' one.out)" 6 "first run"
  assert_eq "$(grep -c '^ok  ' two.out)" 6 "second run"
  # A relative store and TMPDIR: the overlay's lower directories still resolve.
  grep -q "overlay mounted at $T/tmp/" two.err || fail "second run did not use the overlay: $(cat two.err)"
  [ -z "$(ls -A "$T/tmp")" ] || fail "bundles left: $(ls "$T/tmp")"
}

# start_never_ready_test: builds an image that never answers, starts gantry test of
# it in the background (out, err; bundles in $T/tmp) and waits until its container
# runs; sets TEST_PID (gantry) and TEST_ID (the container).
start_never_ready_test() {
  run_gantry build -q --base "oci-archive:$SHARED/sample.tar" --entrypoint '["sleep", "600"]' --store "$T/store"
  mkdir -p "$T/tmp"
  TMPDIR="$T/tmp" "$GANTRY" test --store "$T/store" --ready-timeout 300 > out 2> err &
  TEST_PID=$! TEST_ID=""
  for _ in $(seq 1 300); do
    TEST_ID=$(sed -n 's/^test   started \(gantry-test-[^ ]*\) with runc.*/\1/p' err)
    [ -n "$TEST_ID" ] && break; sleep 0.1
  done
  [ -n "$TEST_ID" ] || fail "the container did not start: $(cat err)"
}

test_ctrl_c_removes_the_container_and_the_bundle() {
  start_never_ready_test
  local pid=$TEST_PID id=$TEST_ID
  runc list -q | grep -qx "$id" || fail "$id is not running"
  kill -INT "$pid"
  local rc=0; wait "$pid" || rc=$?
  assert_eq "$rc" 130 "exit code after SIGINT ($(cat err))"
  runc list -q | grep -qx "$id" && fail "container $id left after Ctrl-C"
  [ -z "$(ls -A "$T/tmp")" ] || fail "bundle left after Ctrl-C: $(ls "$T/tmp")"
  assert_contains "$(cat err)" "interrupted; cleaning up"
}

test_a_run_killed_outright_is_cleaned_up_by_the_next() {
  start_never_ready_test
  local pid=$TEST_PID id=$TEST_ID
  CONTAINERS="$CONTAINERS $id"  # stopped at exit should the test fail
  kill -KILL "$pid"; wait "$pid" 2>/dev/null || true
  runc list -q | grep -qx "$id" || fail "the container should outlive a gantry killed with SIGKILL"
  grep -q "$T/tmp" /proc/mounts || fail "the killed run's overlay should still be mounted"
  # The next run (another image, the same TMPDIR) removes what the killed one left.
  gantry_test -f "$SAMPLE"
  assert_eq "$RC" 0 "the next run ($ERR)"
  assert_contains "$ERR" "removed test container $id, left by gantry process $pid which is gone"
  runc list -q | grep -qx "$id" && fail "container $id still there"
  grep -q "$T/tmp" /proc/mounts && fail "a mount left: $(grep "$T/tmp" /proc/mounts)"
  [ -z "$(ls -A "$T/tmp")" ] || fail "bundles left: $(ls "$T/tmp")"
}

test_keep_leaves_the_bundle_and_says_how_to_enter_it() {
  gantry_test -f "$SAMPLE" --keep --get /version
  assert_eq "$RC" 0 "gantry test --keep ($ERR)"
  local bundle; bundle=$(printf '%s\n' "$ERR" | sed -n 's/^test   bundle kept: \([^ ]*\) .*/\1/p')
  assert_file "$bundle/config.json"
  assert_file "$bundle/rootfs/app/app.py"
  assert_contains "$ERR" "runc --root /run/runc run --bundle $bundle"
  # A kept bundle is not a stale one: the next run leaves it alone.
  gantry_test --get /
  assert_eq "$RC" 0 "a run after --keep ($ERR)"
  assert_file "$bundle/config.json"
  rm -rf "$bundle"
}

# Whiteouts and opaque directories unpack as umoci unpacks them: a base built
# with deletions (umoci repack writes .wh. entries) and an opaque directory
# (a hand-made layer with .wh..wh..opq), compared file by file.
test_whiteouts_and_opaque_directories_unpack_as_umoci_unpacks_them() {
  skopeo copy -q "oci-archive:$SHARED/sample.tar" oci:l:v1
  umoci unpack --image l:v1 b1 > /dev/null
  rm -rf b1/rootfs/usr/share/doc b1/rootfs/etc/motd
  mkdir -p b1/rootfs/srv/keep b1/rootfs/srv/gone && echo old > b1/rootfs/srv/gone/old.txt && echo kept > b1/rootfs/srv/keep/k.txt
  umoci repack --image l:v2 b1 > /dev/null
  umoci unpack --image l:v2 b2 > /dev/null
  rm -rf b2/rootfs/srv/gone && echo again > b2/rootfs/srv/again.txt
  umoci repack --image l:v3 b2 > /dev/null
  # An opaque directory: /usr/share/python3 replaced by one file.
  python3 - opaque.tar <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as tar:
    for name, data in ((b"usr/share/python3/.wh..wh..opq", b""), (b"usr/share/python3/only.txt", b"only\n")):
        info = tarfile.TarInfo(name.decode()); info.size = len(data); info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))
PY
  umoci raw add-layer --image l:v3 --tag v4 opaque.tar
  umoci config --image l:v4 --tag v5 --config.entrypoint python3 --config.cmd=-m --config.cmd=http.server --config.cmd=8080 \
    --config.exposedports 8080/tcp --config.user 0:0 --config.workingdir /
  umoci unpack --image l:v5 reference > /dev/null
  printf 'test:\n  checks:\n    - exec: [sh, -c, "test ! -e /usr/share/doc && test ! -e /srv/gone && cat /usr/share/python3/only.txt"]\n      expect: {output: only}\n' > plan.yaml
  gantry_test oci:l:v5 --keep -f plan.yaml
  assert_eq "$RC" 0 "gantry test of the image with whiteouts ($ERR $OUT)"
  local bundle; bundle=$(printf '%s\n' "$ERR" | sed -n 's/^test   bundle kept: \([^ ]*\) .*/\1/p')
  # Every path with its type, mode, owner and link target; devices and FIFOs are left to the
  # runtime, and so are the mount points runc makes for the bound /etc/hosts and /etc/hostname.
  listing() { (cd "$1" && find . \( -type c -o -type b -o -type p -o -path ./etc/hosts -o -path ./etc/hostname \) -prune -o -printf '%p %y %m %U:%G %l\n' | sort); }
  listing reference/rootfs > umoci.list
  listing "$bundle/rootfs" > gantry.list
  diff umoci.list gantry.list > tree.diff || fail "gantry's rootfs differs from umoci's: $(head -20 tree.diff)"
  grep -q '^./usr/share/python3/only.txt ' gantry.list || fail "opaque layer's file missing"
  [ "$(grep -c '^./usr/share/python3/' gantry.list)" -eq 1 ] || fail "the opaque directory kept lower files: $(grep '^./usr/share/python3/' gantry.list | head)"
  diff <(cd reference/rootfs && find . -type f ! -path './proc/*' ! -path ./etc/hosts ! -path ./etc/hostname -exec sha256sum {} + | sort) \
       <(cd "$bundle/rootfs" && find . -type f ! -path ./etc/hosts ! -path ./etc/hostname -exec sha256sum {} + | sort) > content.diff || fail "file contents differ: $(head -20 content.diff)"
  rm -rf "$bundle"
  # Without --keep (as root) the layers are unpacked once each in overlayfs's format
  # and stacked by an overlay mount: the same checks pass through it.
  gantry_test oci:l:v5 -f plan.yaml
  assert_eq "$RC" 0 "gantry test through the overlay ($ERR $OUT)"
  assert_contains "$ERR" "overlay mounted at"
  assert_nothing_left
}

# A hostile layer: a symlink to / and a file "under" it, an absolute name, a
# name climbing with '..'. Nothing may be written outside the bundle.
test_a_hostile_layer_writes_nothing_outside_the_bundle() {
  skopeo copy -q "oci-archive:$SHARED/sample.tar" oci:l:v1
  python3 - evil.tar "$T" <<'PY'
import io, sys, tarfile
target = sys.argv[2].lstrip("/")
with tarfile.open(sys.argv[1], "w") as tar:
    link = tarfile.TarInfo("escape"); link.type = tarfile.SYMTYPE; link.linkname = "/"
    tar.addfile(link)
    for name in ("escape/" + target + "/via-symlink", "escape/tmp/via-symlink-" + target.replace("/", "-")):
        info = tarfile.TarInfo(name); info.size = 4
        tar.addfile(info, io.BytesIO(b"pwnd"))
PY
  umoci raw add-layer --image l:v1 --tag evil evil.tar
  gantry_test oci:l:evil --keep --get /
  assert_eq "$RC" 0 "gantry test of the symlink layer ($ERR)"
  assert_no_file "$T/via-symlink"
  assert_no_file "/tmp/via-symlink-${T//\//-}"
  local bundle; bundle=$(printf '%s\n' "$ERR" | sed -n 's/^test   bundle kept: \([^ ]*\) .*/\1/p')
  assert_file "$bundle/rootfs$T/via-symlink"
  rm -rf "$bundle"
  for name in "../../outside-dotdot" "/outside-absolute"; do
    python3 - bad.tar "$name" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as tar:
    info = tarfile.TarInfo(sys.argv[2]); info.size = 4
    tar.addfile(info, io.BytesIO(b"pwnd"))
PY
    umoci raw add-layer --image l:v1 --tag bad bad.tar
    gantry_test oci:l:bad --get /
    [ "$RC" -ne 0 ] || fail "a layer with '$name' was accepted"
    assert_no_file "$T/outside-dotdot"
    assert_no_file "/outside-absolute"
    [ -z "$(ls -A "$T/tmp")" ] || fail "bundle left after a refused layer: $(ls "$T/tmp")"
  done
}

# Rootless: an unprivileged user runs the same image through runc's rootless
# mode; with subordinate ids the app runs as its own user (1000), without them
# as root in its user namespace (with a warning).
test_an_unprivileged_user_runs_the_tests_rootless() {
  if [ "$(cat /proc/sys/user/max_user_namespaces)" = 0 ]; then
    note "skipped: this kernel forbids user namespaces (user.max_user_namespaces = 0)"; return 0
  fi
  chmod 755 "$T"
  mkdir -p rootless && chown nobody:nogroup rootless
  local plan='test:\n  checks:\n    - name: runs as\n      exec: [id, -u]\n      expect: {output: "%s"}\n    - http: /version\n      expect: {json: {model_sha256: "${MODEL_SHA256}"}}\n'
  printf "$plan" 0 > rootless/as-root.yaml
  printf "$plan" 1000 > rootless/as-user.yaml
  chmod 644 rootless/*.yaml
  as_nobody() { (cd "$T/rootless" && runuser -u nobody -- env HOME="$T/rootless" TMPDIR="$T/rootless" XDG_RUNTIME_DIR= "$GANTRY" "$@"); }
  set +e; as_nobody test --store "$T/rootless/store" -f as-root.yaml "oci-archive:$SHARED/sample.tar" > out 2> err; local rc=$?; set -e
  assert_eq "$rc" 0 "rootless gantry test without subordinate ids ($(cat out err))"
  assert_contains "$(cat err)" "with runc (rootless)"
  assert_contains "$(cat err)" "warning: the image runs as 1000:1000"
  # With subordinate ids (a test-owned line, removed again) the image's own user is kept.
  cp /etc/subuid subuid.saved; cp /etc/subgid subgid.saved
  restore_ids() { cp "$T/subuid.saved" /etc/subuid; cp "$T/subgid.saved" /etc/subgid; }
  trap 'restore_ids; stop_containers; stop_services' EXIT
  echo "nobody:300000:65536" >> /etc/subuid; echo "nobody:300000:65536" >> /etc/subgid
  set +e; as_nobody test --store "$T/rootless/store" -f as-user.yaml "oci-archive:$SHARED/sample.tar" > out 2> err; rc=$?; set -e
  restore_ids
  assert_eq "$rc" 0 "rootless gantry test with subordinate ids ($(cat out err))"
  case "$(cat err)" in *warning*) fail "unexpected warning: $(cat err)" ;; esac
  [ -z "$(find "$T/rootless" -maxdepth 1 -name 'gantry-test.*')" ] || fail "rootless bundle left behind"
  [ -z "$(runc --root /tmp/gantry-runc-65534 list -q 2>/dev/null)" ] || fail "rootless container left: $(runc --root /tmp/gantry-runc-65534 list)"
}

test_build_test_pushes_only_when_the_checks_pass() {
  start_registry reg
  cp -r "$SHARED/sample" sample
  cat >> sample/gantry.yaml <<'YAML'
    - name: a check that fails
      http: GET /version
      expect: {json: {version: "9.9.9"}}
YAML
  mkdir -p "$T/tmp"
  # The shared store and the same inputs: every layer is a cache hit, and the image is the shared one.
  local base; base=$("$REPO_ROOT/scripts/make-python-base")
  TMPDIR="$T/tmp" run_gantry build -f sample/gantry.yaml --base "rootfs:$base" \
    --model "$SHARED/classifier.json" --model-destination /models/iris --store "$SHARED/store" --test --junit bad.xml --push "$REG/sample/app:bad"
  assert_eq "$RC" 1 "build --test with a failing check ($ERR)"
  assert_contains "$ERR" "not pushed"
  assert_contains "$ERR" 'version: expected "9.9.9", got "1.0.0"'
  assert_eq "$OUT" "" "standard output of a build whose checks failed"
  assert_file bad.xml
  skopeo inspect --tls-verify=false "docker://$REG/sample/app:bad" > /dev/null 2>&1 && fail "the failing image was pushed"
  assert_eq "$(count_requests "$T/reg.log" PUT /manifests/)" 0 "manifest PUTs"
  TMPDIR="$T/tmp" run_gantry build -f "$SAMPLE" --base "rootfs:$base" \
    --model "$SHARED/classifier.json" --model-destination /models/iris --store "$SHARED/store" --test --push "$REG/sample/app:good"
  assert_eq "$RC" 0 "build --test --push ($ERR)"
  assert_eq "$OUT" "$(cat "$SHARED/digest")" "standard output is the digest alone"
  assert_eq "$(inspect_digest --tls-verify=false "docker://$REG/sample/app:good")" "$(cat "$SHARED/digest")" "pushed digest"
  [ -z "$(ls -A "$T/tmp")" ] || fail "bundles left: $(ls "$T/tmp")"
}

run_tests
