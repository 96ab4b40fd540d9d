#!/usr/bin/env bash
# gantry.lock (issue 27): every input that moves, pinned. Real parts: the local
# registry (a base tag that moves), a local package index of real wheels (made by
# helpers/make_wheel.py, served on loopback as pip's --find-links; a new version
# appears), the blob-storage fake (a model blob replaced), and the loopback Debian
# repository of the OS-packages tests (its indexes taken away). A lock made against
# them; then `lock --check` reports each move, `build --locked` still builds the
# locked digest (the old content is still served) or fails naming what is gone,
# and `lock --update KIND` takes one kind of move.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

BASE_TAR=$("$REPO_ROOT/scripts/make-python-base")
DEBS=$("$REPO_ROOT/Tests/integration/helpers/make_debian_repo.sh")

# A project: a base from the registry, one wheel, tini from the Debian repository,
# a model from blob storage, an app file. Sets up every service; exports what pip
# and the blob client read.
setup_project() {
  start_registry reg
  run_gantry build -q --store "$T/seed" --base "rootfs:$BASE_TAR" --push "$REG/base/python:3.11"
  assert_eq "$RC" 0 "pushing the base ($ERR)"
  BASE_V1=$OUT
  mkdir -p wheels blobs/models debs
  python3 "$HELPERS/make_wheel.py" gantrydemo 1.0 wheels > /dev/null
  local port; port=$(free_port)
  python3 -m http.server -b 127.0.0.1 "$port" -d wheels > wheels.log 2>&1 &
  SERVICE_PIDS="$SERVICE_PIDS $!"
  wait_for_port "$port"
  export PIP_NO_INDEX=1 PIP_FIND_LINKS="http://127.0.0.1:$port/"
  echo '{"weights": [1, 2, 3]}' > blobs/models/classifier.json
  local key; key=$(head -c 32 /dev/urandom | base64)
  start_blob_server blobs --key "$key"
  export AZURE_STORAGE_ACCOUNT=gantrydemo AZURE_STORAGE_KEY="$key" AZURE_STORAGE_BLOB_ENDPOINT="http://127.0.0.1:$BLOB_PORT/gantrydemo"
  cp -r "$DEBS"/. debs/
  local debs_port; debs_port=$(free_port)
  python3 -m http.server -b 127.0.0.1 "$debs_port" -d debs > debs.log 2>&1 &
  SERVICE_PIDS="$SERVICE_PIDS $!"
  wait_for_port "$debs_port"
  mkdir -p app && echo 'print("hi")' > app/main.py
  cp "$DEBS/key.asc" key.asc
  echo 'gantrydemo>=1.0' > requirements.txt
  cat > gantry.yaml <<YAML
base: $REG/base/python:3.11
packages:
  install: [tini]
  repositories:
    - url: http://127.0.0.1:$debs_port
      suite: bookworm
      key: key.asc
python:
  requirements: requirements.txt
model:
  source: az://gantrydemo/models/classifier.json
  destination: /models/classifier.json
layers:
  - source: app
    destination: /app
YAML
}

test_a_lock_pins_every_input_and_locked_builds_are_the_same_anywhere() {
  setup_project
  run_gantry lock --store "$T/store"
  assert_eq "$RC" 0 "gantry lock ($ERR)"
  assert_contains "$ERR" "wrote ./gantry.lock"
  python3 - gantry.lock "${BASE_V1}" <<'PY' || fail "lock contents: $(cat gantry.lock)"
import json, sys
lock, base = json.load(open(sys.argv[1])), sys.argv[2]
platform = lock["platforms"]["linux/amd64"]
assert lock["lockVersion"] == 1 and lock["recipe"].startswith("sha256:")
assert platform["base"]["digest"] == base, platform["base"]
assert [(p["name"], p["version"]) for p in platform["python"]] == [("gantrydemo", "1.0")], platform["python"]
assert platform["python"][0]["url"].endswith("/gantrydemo-1.0-py3-none-any.whl")
assert [p["name"] for p in platform["packages"]] == ["tini"], platform["packages"]
files = lock["models"][0]["files"]
assert len(files) == 1 and files[0]["identity"].startswith("etag:") and files[0]["size"] == 23, files
PY
  # One line per entry: a reviewer sees each pin on its own line.
  [ "$(grep -c 'gantrydemo-1.0' gantry.lock)" = 1 ] || fail "the wheel is not one line: $(cat gantry.lock)"
  run_gantry lock --check --store "$T/store"
  assert_eq "$RC" 0 "lock --check right after ($ERR)"
  run_gantry build -q --locked --store "$T/store"
  assert_eq "$RC" 0 "build --locked ($ERR)"
  local first=$OUT
  # Another machine: a fresh store, the project copied (new mtimes), another user.
  mkdir -p "$T/elsewhere" && cp -r gantry.yaml gantry.lock requirements.txt key.asc app "$T/elsewhere/"
  touch -d '2001-01-01' "$T/elsewhere/app/main.py"
  mkdir -p "$T/other-home" && chown -R nobody "$T/elsewhere" "$T/other-home" && chmod 755 "$T"
  (cd "$T/elsewhere" && setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$T/other-home" \
     "$GANTRY" build -q --locked --store "$T/other-home/store") > other.out 2> other.err || fail "build --locked as nobody: $(tail -3 other.err)"
  assert_eq "$(cat other.out)" "$first" "the digest on another machine, user and store"
}

test_a_locked_builds_provenance_lists_the_lock_and_what_it_pinned() {
  setup_project
  run_gantry lock --store "$T/store"
  assert_eq "$RC" 0 "gantry lock ($ERR)"
  run_gantry build -q --locked --store "$T/store" --push "$REG/app:1" --provenance
  assert_eq "$RC" 0 "build --locked --push --provenance ($ERR)"
  local digest=$OUT
  skopeo inspect --raw --tls-verify=false "docker://$REG/app:${digest/:/-}" > referrers.json
  local provenance
  provenance=$(json referrers.json '[m["digest"] for m in d["manifests"] if m["artifactType"] == "application/vnd.in-toto+json"][0]')
  skopeo copy -q --src-tls-verify=false "docker://$REG/app@$provenance" "oci:prov:p" 2>/dev/null || fail "skopeo cannot copy the provenance"
  python3 - prov gantry.lock <<'PY' || fail "provenance dependencies"
import base64, hashlib, json, sys
layout, lock_path = sys.argv[1:]
def blob(d): return open(f"{layout}/blobs/sha256/{d.split(':')[1]}", "rb").read()
manifest = json.loads(blob(json.load(open(f"{layout}/index.json"))["manifests"][0]["digest"]))
statement = json.loads(base64.b64decode(json.loads(blob(manifest["layers"][0]["digest"]))["payload"]))
deps = {d["name"]: d for d in statement["predicate"]["buildDefinition"]["resolvedDependencies"]}
lock = json.load(open(lock_path))
assert deps["gantry.lock"]["digest"]["sha256"] == hashlib.sha256(open(lock_path, "rb").read()).hexdigest()
wheel = lock["platforms"]["linux/amd64"]["python"][0]
assert deps["python gantrydemo 1.0 linux/amd64"] == {"name": "python gantrydemo 1.0 linux/amd64", "uri": wheel["url"], "digest": {"sha256": wheel["sha256"]}}, deps
tini = lock["platforms"]["linux/amd64"]["packages"][0]
assert deps[f"deb tini {tini['version']} amd64"]["digest"]["sha256"] == tini["sha256"]
assert deps["model"]["digest"]["sha256"] == lock["models"][0]["files"][0]["sha256"]
PY
}

test_moved_inputs_are_reported_and_locked_builds_keep_the_old_ones() {
  setup_project
  run_gantry lock --store "$T/store"
  assert_eq "$RC" 0 "gantry lock ($ERR)"
  run_gantry build -q --locked --store "$T/store"
  assert_eq "$RC" 0 "build --locked ($ERR)"
  local locked=$OUT
  cp gantry.lock lock.v1
  # Everything moves: the base tag, a new wheel, the model blob replaced.
  # (From a directory of its own: this project's gantry.yaml would be read otherwise.)
  mkdir -p seed/extra && echo x > seed/extra/x
  (cd seed && run_gantry build -q --store "$T/seed" --base "rootfs:$BASE_TAR" --layer extra:/extra --push "$REG/base/python:3.11" \
     && [ "$RC" = 0 ]) || fail "moving the base tag"
  python3 "$HELPERS/make_wheel.py" gantrydemo 1.1 wheels > /dev/null
  echo '{"weights": [4, 5, 6, 7]}' > blobs/models/classifier.json
  run_gantry lock --check --store "$T/store"
  assert_eq "$RC" 1 "lock --check after the moves ($ERR)"
  assert_contains "$OUT" "base linux/amd64: $REG/base/python:3.11 sha256:${BASE_V1:7:12}"
  assert_contains "$OUT" "python linux/amd64: gantrydemo 1.0"
  assert_contains "$OUT" "→ 1.1"
  assert_contains "$OUT" "model /models/classifier.json:"
  assert_contains "$ERR" "gantry.lock is stale: 3 inputs moved" "$OUT"
  # The old base, wheel and model are what --locked builds: the same digest.
  run_gantry build -q --locked --store "$T/store"
  assert_eq "$RC" 0 "build --locked after the moves ($ERR)"
  assert_eq "$OUT" "$locked" "the locked build's digest"
  # A fresh store has no copy of the old model, and the blob is replaced: named, before any layer is built.
  run_gantry build --locked --store "$T/fresh"
  assert_eq "$RC" 65 "a fresh store with the model gone ($ERR)"
  assert_contains "$ERR" "models/classifier.json has sha256:"
  # Taking only the wheel: one change in the lock, the other two still pinned.
  run_gantry lock --update python --store "$T/store"
  assert_eq "$RC" 0 "lock --update python ($ERR)"
  assert_eq "$(diff lock.v1 gantry.lock | grep -c '^>')" 1 "changed lines, the wheel's only: $(diff lock.v1 gantry.lock)"
  run_gantry lock --update-all --store "$T/store"
  assert_eq "$RC" 0 "lock --update-all ($ERR)"
  run_gantry lock --check --store "$T/store"
  assert_eq "$RC" 0 "lock --check after --update-all ($ERR)"
}

test_os_packages_build_from_the_lock_without_reading_indexes() {
  setup_project
  run_gantry lock --store "$T/store"
  assert_eq "$RC" 0 "gantry lock ($ERR)"
  # The repository's indexes are gone (a mirror mid-update); its pool is still there.
  rm -rf debs/dists
  run_gantry build -q --store "$T/fresh"
  assert_ne "$RC" 0 "an unlocked build without indexes"
  run_gantry build -q --locked --store "$T/fresh2"
  assert_eq "$RC" 0 "a locked build reads no index ($ERR)"
}

test_bad_locks_are_refused_naming_the_entry() {
  setup_project
  run_gantry lock --store "$T/store"
  assert_eq "$RC" 0 "gantry lock ($ERR)"
  cp gantry.lock good.lock
  sed -i 's/"sha256":"\([0-9a-f]\{10\}\)/"sha256":"XYZ/' gantry.lock
  expect_failure 65 "is not a SHA-256" build --locked --store "$T/store"
  sed 's/"lockVersion": 1/"lockVersion": 2/' good.lock > gantry.lock
  expect_failure 65 "gantry.lock is lock format 2, newer than this gantry reads (1)" build --locked --store "$T/store"
  cp good.lock gantry.lock
  printf 'platforms: [linux/amd64, linux/arm64]\n' >> gantry.yaml
  expect_failure 65 "the recipe changed since the lock was written" build --locked --store "$T/store"
  rm gantry.lock
  expect_failure 66 "gantry.lock does not exist; run 'gantry lock'" build --locked --store "$T/store"
  # A locked wheel that its index no longer serves: the build names it.
  sed -i '$d' gantry.yaml && cp good.lock gantry.lock && rm wheels/gantrydemo-1.0-py3-none-any.whl
  run_gantry build --locked --store "$T/fresh"
  assert_eq "$RC" 65 "a locked wheel gone ($ERR)"
  assert_contains "$ERR" "gantrydemo"
}

run_tests
