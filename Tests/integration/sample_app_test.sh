#!/usr/bin/env bash
# The AI app end to end: a Debian Python base, Flask and gunicorn from
# requirements.txt, the model from blob storage (Shared Key), the app on top;
# pushed, pulled back by skopeo, unpacked by umoci, run by runc, and queried.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

test_sample_app_runs_and_an_app_change_pushes_only_the_app_layer() {
  local base; base=$("$REPO_ROOT/scripts/make-python-base")
  start_registry reg
  mkdir -p root/models
  # Published as the data scientists do: the classifier and its label file under one prefix.
  python3 "$REPO_ROOT/fixtures/flask-app/model/train.py" root/models/iris/ > /dev/null
  local key; key=$(head -c 32 /dev/urandom | base64)
  start_blob_server root --key "$key"
  export AZURE_STORAGE_BLOB_ENDPOINT="http://127.0.0.1:$BLOB_PORT/gantrydemo" AZURE_STORAGE_ACCOUNT=gantrydemo AZURE_STORAGE_KEY="$key"
  cp -r "$REPO_ROOT/fixtures/flask-app" sample

  run_gantry build -f sample/gantry.yaml --base "rootfs:$base" --store "$(store)" --push "$REG/sample/app:1"
  assert_eq "$RC" 0 "build --push ($ERR)"
  # A set's digest, as docs/recipe.md defines it: SHA-256 of the sorted "path NUL sha256:hex NUL size" lines.
  local model_digest; model_digest="sha256:$(cd root/models/iris && for f in $(ls | sort); do
    printf '%s\0sha256:%s\0%s\n' "$f" "$(sha256sum "$f" | cut -d' ' -f1)" "$(stat -c %s "$f")"; done | sha256sum | cut -d' ' -f1)"
  assert_contains "$ERR" "model  az://gantrydemo/models/iris/ $model_digest"
  skopeo inspect --tls-verify=false --config "docker://$REG/sample/app:1" > config.json
  assert_eq "$(json config.json 'd["config"]["Labels"]["io.gantry.model.digest"]')" "$model_digest" "model label"
  assert_eq "$(json config.json '[e for e in d["config"]["Env"] if e.startswith("PYTHONPATH=")]')" "['PYTHONPATH=/opt/gantry/python']"

  run_image "$REG/sample/app:1" first
  assert_eq "$(curl -fsS "http://127.0.0.1:$APP_PORT/")" '{"status":"ok"}' "GET /"
  local scored
  scored=$(curl -fsS -X POST -H 'Content-Type: application/json' -d '{"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}' "http://127.0.0.1:$APP_PORT/score")
  assert_eq "$(python3 -c 'import json,sys; print([p["label"] for p in json.loads(sys.argv[1])["predictions"]])' "$scored")" "['setosa', 'virginica']" "predictions"
  # The names come from the label file published beside the model.
  assert_eq "$(python3 -c 'import json,sys; print([p["name"] for p in json.loads(sys.argv[1])["predictions"]])' "$scored")" \
    "['$(sed -n 1p root/models/iris/synset.txt | cut -d' ' -f2-)', '$(sed -n 3p root/models/iris/synset.txt | cut -d' ' -f2-)']" "labels from synset.txt"
  assert_contains "$(curl -fsS "http://127.0.0.1:$APP_PORT/version")" "${model_digest#sha256:}" "the running app reads the model gantry fetched"
  assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' -H 'Content-Type: application/json' "http://127.0.0.1:$APP_PORT/score")" 400 "bad input"
  grep -q "^GET .* 403" "$BLOB_LOG" && fail "the blob endpoint rejected a Shared Key signature"

  # One line of app.py changes: only the app layer, the config and the manifest go up.
  skopeo inspect --tls-verify=false --raw "docker://$REG/sample/app:1" > before.json
  sed -i 's/^APP_VERSION = "1.0.0"/APP_VERSION = "1.0.1"/' sample/app/app.py
  local mark; mark=$(wc -l < "$T/reg.log")
  run_gantry build -f sample/gantry.yaml --base "rootfs:$base" --store "$(store)" --push "$REG/sample/app:2"
  assert_eq "$RC" 0 "rebuild ($ERR)"
  skopeo inspect --tls-verify=false --raw "docker://$REG/sample/app:2" > after.json
  for i in 0 1 2; do
    assert_eq "$(json after.json "d['layers'][$i]['digest']")" "$(json before.json "d['layers'][$i]['digest']")" "layer $i (base, dependencies, model) kept"
  done
  assert_ne "$(json after.json 'd["layers"][3]["digest"]')" "$(json before.json 'd["layers"][3]["digest"]')" "the app layer changed"
  tail -n +$((mark + 1)) "$T/reg.log" > rebuild.log
  local app_layer config; app_layer=$(json after.json 'd["layers"][3]["digest"]'); config=$(json after.json 'd["config"]["digest"]')
  assert_eq "$(grep -cE '"(PUT|PATCH) /v2/sample/app/blobs/uploads/' rebuild.log)" 2 "blob upload requests on the rebuild"
  grep -q "digest=$app_layer" rebuild.log || fail "the app layer was not uploaded"
  grep -q "digest=$config" rebuild.log || fail "the config was not uploaded"
  assert_eq "$(grep -cE '"PUT /v2/sample/app/manifests/' rebuild.log)" 2 "manifest PUTs (digest and tag)"
  run_image "$REG/sample/app:2" second
  assert_contains "$(curl -fsS "http://127.0.0.1:$APP_PORT/version")" '"version":"1.0.1"' "the new app version runs"

  # Build agents that start empty share a layer cache in the registry: the second
  # runs no pip and downloads no model, and gets the same image.
  run_gantry build -f sample/gantry.yaml --base "rootfs:$base" --store "$T/agent1" --cache-repo "$REG/cache/sample" --push "$REG/sample/app:3"
  assert_eq "$RC" 0 "first agent ($ERR)"
  : > "$BLOB_LOG"
  run_gantry build -f sample/gantry.yaml --base "rootfs:$base" --store "$T/agent2" --cache-repo "$REG/cache/sample" --push "$REG/sample/app:4"
  assert_eq "$RC" 0 "second agent ($ERR)"
  assert_eq "$OUT" "$(inspect_digest --tls-verify=false "docker://$REG/sample/app:2")" "same image from the cache"
  echo "$ERR" | grep -E '^layer  /opt/gantry/python .*cached \(registry\)$' > /dev/null || fail "dependencies not from the registry cache: $ERR"
  echo "$ERR" | grep -E '^layer  /models/iris .*cached \(registry\)$' > /dev/null || fail "model not from the registry cache: $ERR"
  [ -z "$(ls -A "$T/agent2/cache/python" 2>/dev/null)" ] || fail "pip ran on the second agent: $(ls "$T/agent2/cache/python")"
  grep -q '^GET /gantrydemo/models/' "$BLOB_LOG" && fail "the second agent downloaded a model file: $(cat "$BLOB_LOG")"
  return 0
}

run_tests
