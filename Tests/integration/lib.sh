# Helpers for gantry's integration tests. Each test is a function named test_*
# run in a subshell with its own temp directory ($T); a failed assertion ends it.
# Images are checked with tools gantry did not write: skopeo, umoci, tar, gzip.

GANTRY=${GANTRY:?set GANTRY to the gantry binary}

fail() { echo "    assertion failed: $*" >&2; exit 1; }

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

inspect_digest() { skopeo inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])'; }

# A store per test, so tests never share a cache unless they mean to.
store() { echo "$T/store"; }

run_tests() {
  local passed=0 failed=0 names
  names=$(declare -F | awk '{print $3}' | grep '^test_' || true)
  for name in $names; do
    [ -n "${ONLY:-}" ] && [[ "$name" != *"$ONLY"* ]] && continue
    T=$(mktemp -d /tmp/gantry-it.XXXXXX)
    local start=$SECONDS
    if ( set -euo pipefail; cd "$T"; "$name" ) >"$T.log" 2>&1; then
      passed=$((passed + 1)); echo "ok     $name ($((SECONDS - start))s)"
    else
      failed=$((failed + 1)); echo "FAILED $name ($((SECONDS - start))s)"; sed "s/^/    /" "$T.log" | grep -vE "^ +(r[a-z0-9]+|rflags|cs) " | head -60
    fi
    rm -rf "$T" "$T.log"
  done
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
