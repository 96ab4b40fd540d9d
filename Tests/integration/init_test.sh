#!/usr/bin/env bash
# gantry init (issue 26): projects as teams bring them (Tests/fixtures/init: a
# Flask app with a Dockerfile, the same with a Procfile, a pipenv project whose
# Dockerfile copies model files, a FastAPI app with pyproject.toml, a multi-stage
# Dockerfile, a Dockerfile that apt-get installs, and one with every instruction
# and syntax form), each read by `gantry init` and built with `gantry build
# --test` with no edit to what init wrote. The registry bases their Dockerfiles
# name (python:3.11-slim) are not reachable here: --base gives the same Python
# (Debian bookworm's python3, scripts/make-python-base) as a flag, over the recipe.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
FIXTURES="$REPO_ROOT/Tests/fixtures/init"

BASE_TAR=$("$REPO_ROOT/scripts/make-python-base")
SHARED=$(mktemp -d /tmp/gantry-init-shared.XXXXXX)
trap 'rm -rf "$SHARED"' EXIT
# One store for the file: the Python dependency layers of equal requirements are built once.
STORE="$SHARED/store"

# project NAME: a copy of the fixture, as a team's checkout would be.
project() { cp -r "$FIXTURES/$1" "$1"; }

# init_and_build DIR [BUILD FLAGS...]: gantry init, then gantry build --test on what it wrote.
init_and_build() {
  local dir=$1; shift
  # --no-lock: the Dockerfiles' base (python:3.11-slim) is Docker Hub's, which is not contacted here.
  run_gantry init --no-lock "$dir"
  assert_eq "$RC" 0 "gantry init $dir ($ERR)"
  assert_contains "$OUT" "wrote $dir/gantry.yaml"
  INIT_REPORT=$ERR
  mkdir -p "$T/tmp"
  TMPDIR="$T/tmp" run_gantry build -f "$dir/gantry.yaml" --base "rootfs:$BASE_TAR" --store "$STORE" --test "$@" --output "oci:$T/image:app"
  assert_eq "$RC" 0 "gantry build --test on what init wrote ($ERR) $(cat "$dir/gantry.yaml")"
  assert_contains "$ERR" "checks passed"
  python3 "$REPO_ROOT/../shared/tools/oci_check.py" "$T/image" > /dev/null || fail "oci_check: $(python3 "$REPO_ROOT/../shared/tools/oci_check.py" "$T/image" 2>&1 | tail -5)"
}

# layer_paths: every path in the built image's layers (Python's tarfile reads them).
layer_paths() {
  python3 - "$T/image" <<'PY'
import json, sys, os, tarfile
layout = sys.argv[1]
blob = lambda d: os.path.join(layout, "blobs", *d.split(":"))
index = json.load(open(os.path.join(layout, "index.json")))
manifest = json.load(open(blob(index["manifests"][-1]["digest"])))
for layer in manifest["layers"][1:]:
    with tarfile.open(blob(layer["digest"])) as tar:
        print("\n".join(tar.getnames()))
PY
}

# config_field FIELD: a field of the built image's config (JSON), read with umoci's view of the layout.
config_field() {
  python3 - "$T/image" "$1" <<'PY'
import json, sys, os
layout, field = sys.argv[1], sys.argv[2]
blob = lambda d: json.load(open(os.path.join(layout, "blobs", *d.split(":"))))
index = json.load(open(os.path.join(layout, "index.json")))
manifest = blob(index["manifests"][-1]["digest"])
config = blob(manifest["config"]["digest"])["config"]
print(json.dumps(config.get(field), sort_keys=True))
PY
}

test_every_dockerfile_form_translates_as_expected() {
  project every-form
  run_gantry init --check every-form
  assert_eq "$RC" 0 "init --check ($ERR)"
  diff <(printf '%s\n' "$OUT") "$FIXTURES/every-form/expected-gantry.yaml" > diff.txt || fail "the recipe differs from expected-gantry.yaml: $(cat diff.txt)"
  diff <(printf '%s\n' "$ERR") "$FIXTURES/every-form/expected-report.txt" > diff.txt || fail "the report differs from expected-report.txt: $(cat diff.txt)"
  assert_no_file every-form/gantry.yaml
  assert_no_file every-form/requirements.gantry.txt
  # What --check prints is YAML another reader agrees on.
  printf '%s\n' "$OUT" > every-form.yaml
  python3 -c "import yaml; d = yaml.safe_load(open('every-form.yaml')); assert d['cmd'][-1].startswith('python3 -m gunicorn'), d" \
    || fail "PyYAML reads the recipe differently"
}

test_a_flask_app_with_a_dockerfile_builds_and_passes() {
  project flask-dockerfile
  init_and_build flask-dockerfile
  assert_contains "$(cat flask-dockerfile/gantry.yaml)" "base: python:3.11-slim  # from Dockerfile:1"
  assert_contains "$INIT_REPORT" "not translated: Dockerfile:12: 'useradd --create-home appuser' creates a user at build time"
  assert_eq "$(config_field Cmd)" '["/bin/sh", "-c", "python3 -m gunicorn --bind 0.0.0.0:8000 --workers 2 app:app"]' "Cmd"
  assert_eq "$(config_field WorkingDir)" '"/app"' "WorkingDir"
  assert_eq "$(config_field ExposedPorts)" '{"8000/tcp": {}}' "ExposedPorts"
  # The COPY . . layer: the app, not the Dockerfile or the recipe.
  local paths; paths=$(layer_paths)
  assert_contains "$paths" "app/app.py"
  case "$paths" in *app/Dockerfile*|*app/gantry.yaml*) fail "the Dockerfile or recipe is in the image: $paths" ;; esac
  run_gantry init flask-dockerfile
  assert_eq "$RC" 73 "a second init ($ERR)"
  assert_contains "$ERR" "flask-dockerfile/gantry.yaml already exists; pass --force"
}

test_a_flask_app_with_a_procfile_and_no_dockerfile_builds_and_passes() {
  project flask-procfile
  init_and_build flask-procfile
  local recipe; recipe=$(cat flask-procfile/gantry.yaml)
  assert_contains "$recipe" "# the official Python image for .python-version's 3.11"
  assert_contains "$recipe" "# the Procfile's web: line"
  assert_eq "$(config_field Env | python3 -c 'import json,sys; print([e for e in json.load(sys.stdin) if e.startswith("PORT=")])')" "['PORT=8000']" "PORT"
}

test_a_pipenv_project_with_model_files_keeps_the_locks_hashes() {
  project pipenv-model
  init_and_build pipenv-model
  local requirements; requirements=$(cat pipenv-model/requirements.gantry.txt)
  assert_contains "$requirements" "flask==3.1.3"
  assert_contains "$requirements" "--hash=sha256:"
  assert_eq "$(grep -c '==' pipenv-model/requirements.gantry.txt)" 9 "pins from Pipfile.lock"
  assert_contains "$(cat pipenv-model/gantry.yaml)" "source: model/classifier.pkl  # from Dockerfile:7; a .pkl file: model weights"
  assert_contains "$INIT_REPORT" "note: Dockerfile:4: 'pip install --no-cache-dir pipenv': pipenv is a build tool"
  # The model is a layer of its own, recorded in the labels.
  assert_contains "$(config_field Labels)" '"io.gantry.model.digest": "sha256:'
  # A lock whose hashes for flask were tampered with fails the build: pip checked them.
  python3 - pipenv-model/requirements.gantry.txt <<'PY'
import re, sys
text = open(sys.argv[1]).read()
start = text.index("flask==")
end = text.index("==", start + 7)
text = text[:start] + re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, text[start:end]) + text[end:]
open(sys.argv[1], "w").write(text)
PY
  run_gantry build -q -f pipenv-model/gantry.yaml --base "rootfs:$BASE_TAR" --store "$STORE"
  assert_ne "$RC" 0 "a build with a wrong hash ($ERR)"
  assert_contains "$ERR" "HASHES"
}

test_a_fastapi_app_with_pyproject_builds_and_passes() {
  project fastapi-pyproject
  init_and_build fastapi-pyproject
  assert_contains "$(cat fastapi-pyproject/gantry.yaml)" "ready: {path: /healthz, timeout: 60}  # a route of main.py"
  assert_eq "$(config_field Cmd)" '["python3", "-m", "uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]' "Cmd"
}

test_a_multi_stage_dockerfile_builds_its_final_stage() {
  project multi-stage
  init_and_build multi-stage
  assert_contains "$INIT_REPORT" "not translated: Dockerfile:19: COPY --from=test copies out of a build stage"
  assert_contains "$INIT_REPORT" "note: Dockerfile:5: stage 'test' (lines 5–12) is not built"
  assert_eq "$(config_field User)" '"1000:1000"' "User"
  assert_eq "$(config_field StopSignal)" '"SIGINT"' "StopSignal"
  assert_eq "$(config_field Entrypoint)" '["python3"]' "Entrypoint"
  assert_eq "$(config_field WorkingDir)" '"/srv/app"' "WorkingDir"
  assert_contains "$(config_field Env)" '"APP_VERSION=1.4.2"'
  assert_contains "$(config_field Labels)" '"org.opencontainers.image.version": "1.4.2"'
}

test_a_dockerfile_that_apt_get_installs_gets_the_os_packages_layer() {
  local debs; debs=$("$REPO_ROOT/Tests/integration/helpers/make_debian_repo.sh")
  local port; port=$(free_port)
  python3 -m http.server -b 127.0.0.1 "$port" -d "$debs" > "$T/repo.log" 2>&1 &
  SERVICE_PIDS="$SERVICE_PIDS $!"
  wait_for_port "$port"
  sources_naming "$debs" "http://127.0.0.1:$port"
  run_gantry build -q --store "$STORE" --base "rootfs:$BASE_TAR" --layer "over:/" --output "oci-archive:$T/base.tar"
  assert_eq "$RC" 0 "making the base ($ERR)"
  project apt-packages
  run_gantry init --no-lock apt-packages
  assert_eq "$RC" 0 "init ($ERR)"
  assert_contains "$(cat apt-packages/gantry.yaml)" "install: [tini]  # from Dockerfile:2 (apt-get install)"
  mkdir -p "$T/tmp"
  # The container's PID 1 is tini from the packages layer: without it the entrypoint would not start.
  TMPDIR="$T/tmp" run_gantry build -f apt-packages/gantry.yaml --base "oci-archive:$T/base.tar" --store "$STORE" --test --output "oci:$T/image:app"
  assert_eq "$RC" 0 "build --test ($ERR)"
  assert_contains "$ERR" "ready: port accepts connections"
  assert_contains "$ERR" "the health check passes"
  grep -q "GET /pool/main/tini_" "$T/repo.log" || fail "tini was not downloaded from the base's repository: $(cat "$T/repo.log")"
}

test_the_samples_dockerfile_gives_the_recipes_configuration() {
  cp -r "$REPO_ROOT/fixtures/flask-app" sample
  python3 sample/model/train.py sample/model/iris/ > /dev/null
  # The hand-written recipe's image (the model from the same folder, where its recipe says blob storage).
  run_gantry build -q -f sample/gantry.yaml --base "rootfs:$BASE_TAR" --model sample/model/iris/ --store "$STORE" --output "oci:$T/image:app"
  assert_eq "$RC" 0 "build of the recipe ($ERR)"
  local field; local expected=()
  for field in Entrypoint Env ExposedPorts User WorkingDir StopSignal Labels; do expected+=("$(config_field "$field")"); done
  rm -rf "$T/image"
  mkdir translated && cp -r sample/app sample/model sample/requirements.txt translated/
  run_gantry init --no-lock --from-dockerfile sample/Dockerfile translated
  assert_eq "$RC" 0 "init --from-dockerfile ($ERR)"
  mkdir -p "$T/tmp"
  TMPDIR="$T/tmp" run_gantry build -f translated/gantry.yaml --base "rootfs:$BASE_TAR" --store "$STORE" --test --output "oci:$T/image:app"
  assert_eq "$RC" 0 "build --test of what init wrote ($ERR) $(cat translated/gantry.yaml)"
  local index=0
  for field in Entrypoint Env ExposedPorts User WorkingDir StopSignal Labels; do
    local got; got=$(config_field "$field")
    if [ "$field" = Labels ]; then
      # Labels differ only in what names the model's source (a path, not the recipe's URL) and the build time.
      got=$(printf '%s' "$got" | python3 -c 'import json,sys; d=json.load(sys.stdin); [d.pop(k, None) for k in ("io.gantry.model.source", "org.opencontainers.image.created")]; print(json.dumps(d, sort_keys=True))')
      expected[$index]=$(printf '%s' "${expected[$index]}" | python3 -c 'import json,sys; d=json.load(sys.stdin); [d.pop(k, None) for k in ("io.gantry.model.source", "org.opencontainers.image.created")]; print(json.dumps(d, sort_keys=True))')
    fi
    assert_eq "$got" "${expected[$index]}" "$field of the image from the Dockerfile"
    index=$((index + 1))
  done
}

# bad_dockerfile CODE MESSAGE TEXT: init refuses TEXT with CODE and a one-line MESSAGE, writing nothing.
bad_dockerfile() {
  printf '%b' "$3" > bad/Dockerfile
  run_gantry init bad
  assert_eq "$RC" "$1" "exit code for: $2 ($ERR)"
  assert_contains "$ERR" "$2"
  assert_eq "$(printf '%s\n' "$ERR" | grep -c .)" 1 "one line: $ERR"
  assert_no_file bad/gantry.yaml
  assert_no_file bad/requirements.gantry.txt
}

test_init_writes_the_first_lock_when_the_sources_can_be_reached() {
  start_registry reg
  run_gantry build -q --store "$STORE" --base "rootfs:$BASE_TAR" --push "$REG/python:3.11"
  assert_eq "$RC" 0 "pushing a base ($ERR)"
  project flask-dockerfile
  sed -i "s|^FROM python:3.11-slim|FROM $REG/python:3.11|" flask-dockerfile/Dockerfile
  run_gantry init --store "$STORE" flask-dockerfile
  assert_eq "$RC" 0 "init ($ERR)"
  assert_contains "$OUT" "wrote flask-dockerfile/gantry.lock"
  python3 -c "import json,sys; l=json.load(open(sys.argv[1])); p=l['platforms']['linux/amd64']; assert p['base']['digest'].startswith('sha256:') and any(w['name'].lower() == 'flask' for w in p['python']), l" \
    flask-dockerfile/gantry.lock || fail "the lock: $(cat flask-dockerfile/gantry.lock)"
  run_gantry lock --check -f flask-dockerfile/gantry.yaml --store "$STORE"
  assert_eq "$RC" 0 "the first lock is current ($ERR)"
  run_gantry build -q --locked -f flask-dockerfile/gantry.yaml --store "$STORE"
  assert_eq "$RC" 0 "build --locked from init's lock ($ERR)"
}

test_bad_dockerfiles_get_file_line_and_column_and_nothing_is_written() {
  mkdir -p bad && echo 'flask' > bad/requirements.txt
  bad_dockerfile 65 "Dockerfile:2:1: dockerfile parse error: unknown instruction: FORM" 'FROM python:3.11\nFORM x\n'
  bad_dockerfile 65 "Dockerfile:2:7: dockerfile parse error: unbalanced quotes" 'FROM python:3.11\nENV A="open\n'
  bad_dockerfile 65 "Dockerfile:2:1: dockerfile parse error: heredoc <<EOF is not closed" 'FROM python:3.11\nRUN <<EOF\necho never closed\n'
  bad_dockerfile 65 "Dockerfile:1:1: dockerfile parse error: RUN comes before the first FROM" 'RUN pip install flask\nFROM python:3.11\n'
  bad_dockerfile 65 "Dockerfile:1:1: dockerfile parse error: the Dockerfile has no FROM instruction" '# only a comment\n'
  bad_dockerfile 65 "Dockerfile:2:6: dockerfile parse error: COPY ../secrets is outside the build context" 'FROM python:3.11\nCOPY ../secrets /app/\n'
  bad_dockerfile 65 "Dockerfile:2:14: dockerfile parse error: ARG APP is used before it is declared (line 3)" 'FROM python:3.11\nWORKDIR /srv/$APP\nARG APP=web\n'
  bad_dockerfile 66 "Dockerfile:2: COPY missing.py: no such file" 'FROM python:3.11\nCOPY missing.py /app/\n'
}

test_an_existing_recipe_is_kept_unless_forced_and_the_change_is_shown() {
  project flask-dockerfile
  printf 'base: scratch\nlayers:\n  - source: app\n    destination: /app\n' > flask-dockerfile/gantry.yaml
  local before; before=$(cat flask-dockerfile/gantry.yaml)
  run_gantry init flask-dockerfile
  assert_eq "$RC" 73 "init over a recipe ($ERR)"
  assert_eq "$(cat flask-dockerfile/gantry.yaml)" "$before" "the recipe after a refused init"
  run_gantry init --check flask-dockerfile
  assert_eq "$RC" 0 "--check over a recipe ($ERR)"
  assert_contains "$OUT" "base: python:3.11-slim"
  assert_eq "$(cat flask-dockerfile/gantry.yaml)" "$before" "the recipe after --check"
  run_gantry init --no-lock --force flask-dockerfile
  assert_eq "$RC" 0 "init --force ($ERR)"
  assert_contains "$ERR" "replacing flask-dockerfile/gantry.yaml:"
  assert_contains "$ERR" "  - base: scratch"
  assert_contains "$ERR" "  + base: python:3.11-slim  # from Dockerfile:1"
  assert_contains "$(cat flask-dockerfile/gantry.yaml)" "base: python:3.11-slim"
  expect_failure 66 "Dockerfile nowhere/Dockerfile cannot be read" init --check --from-dockerfile nowhere/Dockerfile flask-dockerfile
}

run_tests
