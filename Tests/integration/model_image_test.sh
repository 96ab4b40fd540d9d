#!/usr/bin/env bash
# The model as an image of its own (model.image), mounted by Kubernetes image
# volumes: the images read back by skopeo and GNU tar, the registry's access log
# counting what a model-only change pushes, `build --test` running the app with the
# model image mounted as the cluster mounts it (runc), and the Deployment checked by
# kubernetes-validate --strict for 1.35-1.37 and by what kubectl sends the fake API
# server (helpers/kube_api.py).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

SHARED=$(mktemp -d /tmp/gantry-model-image-shared.XXXXXX)
trap 'rm -rf "$SHARED"' EXIT
chmod 755 "$SHARED"
BASE="rootfs:$("$REPO_ROOT/scripts/make-python-base")"
python3 "$REPO_ROOT/fixtures/flask-app/model/train.py" "$SHARED/classifier.json" > /dev/null
MODEL_SHA=$(sha256sum "$SHARED/classifier.json" | cut -d' ' -f1)

# sample: the sample with its model in an image of its own (no registry: the app's).
sample() {
  cp -r "$REPO_ROOT/fixtures/flask-app" sample
  sed -i 's|^  destination: /models/iris|  destination: /models/iris\n  image: models/classifier:1|' sample/gantry.yaml
}

build_sample() {
  run_gantry build -f sample/gantry.yaml --store "$SHARED/store" --base "$BASE" --model "${MODEL:-$SHARED/classifier.json}" "$@"
}

# layer_files REF: every file name in every layer of REF (skopeo copy, GNU tar).
layer_files() {
  rm -rf files-layout && skopeo copy -q --src-tls-verify=false "docker://$1" "oci:files-layout:x" > /dev/null
  python3 - files-layout <<'PY'
import json, sys, tarfile
layout = sys.argv[1]
def blob(d): return f"{layout}/blobs/sha256/{d.split(':')[1]}"
index = json.load(open(f"{layout}/index.json"))
manifest = json.load(open(blob(index["manifests"][0]["digest"])))
for layer in manifest["layers"]:
    with tarfile.open(blob(layer["digest"]), "r:*") as tar:
        for member in tar:
            print(member.name)
PY
}

test_the_model_has_its_own_image_and_a_model_change_leaves_the_app_as_it_was() {
  sample
  start_registry reg
  build_sample --push "$REG/team/app:1" --model-ref-file model.ref --json
  assert_eq "$RC" 0 "build ($ERR)"
  printf '%s' "$OUT" > result.json
  local app; app=$(json result.json 'd["digest"]')
  assert_contains "$ERR" "pushed model $REG/models/classifier@sha256:"
  local model_digest; model_digest=$(inspect_digest --tls-verify=false "docker://$REG/models/classifier:1")
  assert_eq "$(cat model.ref)" "$REG/models/classifier@$model_digest"
  # --json pairs the app and its model image.
  assert_eq "$(json result.json 'd["reference"]')" "$REG/team/app@$app"
  assert_eq "$(json result.json 'd["modelImage"]["reference"]')" "$REG/models/classifier@$model_digest"
  assert_eq "$(json result.json 'd["modelImage"]["sha256"]')" "sha256:$MODEL_SHA"
  # The model image: one layer, the file at its root, labels naming it.
  skopeo inspect --tls-verify=false "docker://$REG/models/classifier:1" > model.json
  assert_eq "$(json model.json 'len(d["Layers"])')" 1
  assert_eq "$(json model.json 'd["Labels"]["io.gantry.model.digest"]')" "sha256:$MODEL_SHA"
  assert_eq "$(json model.json 'd["Labels"]["io.gantry.model.path"]')" "/models/iris"
  assert_eq "$(json model.json 'd["Labels"]["org.opencontainers.image.title"]')" "iris"
  assert_eq "$(layer_files "$REG/models/classifier:1" | grep -v '^\.$' | sed 's|^\./||')" "iris"
  # The app image: no model bytes, no model digest; MODEL_PATH as before.
  skopeo inspect --tls-verify=false "docker://$REG/team/app:1" > app.json
  assert_eq "$(json app.json 'len(d["Layers"])')" 3 "base, dependencies, app"
  assert_eq "$(json app.json '"io.gantry.model.digest" in (d["Labels"] or {})')" False
  layer_files "$REG/team/app:1" | grep -q 'models/iris' && fail "the app image holds the model"
  # A new model: a new model image, the same app image, and nothing of the app uploaded.
  cp "$SHARED/classifier.json" new-model.json && echo " " >> new-model.json
  local before; before=$(wc -l < "$T/reg.log")
  MODEL=$PWD/new-model.json build_sample --push "$REG/team/app:2"
  assert_eq "$RC" 0 "rebuild ($ERR)"
  assert_eq "$OUT" "$app" "the app image's digest after a model-only change"
  assert_ne "$(inspect_digest --tls-verify=false "docker://$REG/models/classifier:1")" "$model_digest" "the model image's digest"
  tail -n +"$((before + 1))" "$T/reg.log" > second.log
  assert_eq "$(count_requests second.log PUT /v2/team/app/blobs/uploads/)" 0 "app blob uploads after a model-only change"
  [ "$(count_requests second.log PUT /v2/models/classifier/blobs/uploads/)" -ge 1 ] || fail "the new model was not uploaded"
  # An app change with the same model: the model image is not pushed again (one HEAD, no PUT).
  echo "# a change" >> sample/app/app.py
  before=$(wc -l < "$T/reg.log")
  MODEL=$PWD/new-model.json build_sample --push "$REG/team/app:3"
  assert_eq "$RC" 0 "app-only rebuild ($ERR)"
  assert_contains "$ERR" "model image unchanged"
  tail -n +"$((before + 1))" "$T/reg.log" > third.log
  assert_eq "$(grep -c '"PUT /v2/models/' third.log || true)" 0 "PUTs to the model repository after an app-only change"
}

test_a_sharded_model_directory_pushes_only_the_shard_that_changed() {
  sample
  sed -i 's|^  destination: /models/iris|  destination: /models/llm|' sample/gantry.yaml
  mkdir -p llm/extra
  for i in 1 2 3; do head -c $((20 << 20)) /dev/urandom > "llm/model-0000$i-of-00003.safetensors"; done
  echo '{"architectures": ["Tiny"]}' > llm/config.json
  echo '{"version": "1.0"}' > llm/extra/tokenizer.json
  start_registry reg
  MODEL=$PWD/llm build_sample --push "$REG/team/app:1"
  assert_eq "$RC" 0 "build ($ERR)"
  local app=$OUT
  skopeo inspect --tls-verify=false "docker://$REG/models/classifier:1" > model.json
  assert_eq "$(json model.json 'len(d["Layers"])')" 4 "three shards and one layer of small files"
  assert_eq "$(json model.json 'd["Labels"]["io.gantry.model.path"]')" "/models/llm"
  layer_files "$REG/models/classifier:1" | sed 's|^\./||' | sort > files.txt
  for f in llm/model-00001-of-00003.safetensors llm/config.json llm/extra/tokenizer.json; do
    grep -qx "$f" files.txt || fail "$f missing from the model image: $(cat files.txt)"
  done
  # One shard changes: one layer (and the config) goes up, the app image stays the same.
  head -c $((20 << 20)) /dev/urandom > llm/model-00002-of-00003.safetensors
  local before; before=$(wc -l < "$T/reg.log")
  MODEL=$PWD/llm build_sample --push "$REG/team/app:2"
  assert_eq "$RC" 0 "rebuild ($ERR)"
  assert_eq "$OUT" "$app" "the app image's digest"
  tail -n +"$((before + 1))" "$T/reg.log" > second.log
  assert_eq "$(grep -cE '"PUT /v2/models/classifier/blobs/uploads/[^ ]*digest=' second.log || true)" 2 "uploads after one shard changed (the shard and the config)"
  assert_contains "$ERR" "model image /llm/model-00001-of-00003.safetensors"
  echo "$ERR" | grep -E 'model-00001-of-00003.safetensors .* cached$' > /dev/null || fail "an unchanged shard was rebuilt: $ERR"
}

test_the_model_exports_as_a_modelpack_artifact_that_oras_pulls() {
  sample
  sed -i 's|^  destination: /models/iris|  destination: /models/llm\n  license: Apache-2.0|' sample/gantry.yaml
  mkdir -p llm && head -c $((17 << 20)) /dev/urandom > llm/model.safetensors && echo '{"architectures": ["Tiny"]}' > llm/config.json
  MODEL=$PWD/llm build_sample --output "modelpack:oci:$T/pack:v1"
  assert_eq "$RC" 0 "build ($ERR)"
  assert_contains "$ERR" "ModelPack artifact"
  # The config against the model-spec's own JSON schema; the media types and annotations as the spec names them.
  python3 - "$T/pack" "$REPO_ROOT/../shared/specs/modelpack/config-schema.json" <<'PY' || fail "ModelPack artifact"
import json, sys, jsonschema
layout, schema_path = sys.argv[1:]
def blob(d): return open(f"{layout}/blobs/sha256/{d.split(':')[1]}", "rb").read()
index = json.load(open(f"{layout}/index.json"))
manifest = json.loads(blob(index["manifests"][0]["digest"]))
assert manifest["artifactType"] == "application/vnd.cncf.model.manifest.v1+json", manifest
assert manifest["config"]["mediaType"] == "application/vnd.cncf.model.config.v1+json"
config = json.loads(blob(manifest["config"]["digest"]))
jsonschema.Draft202012Validator(json.load(open(schema_path)), format_checker=jsonschema.FormatChecker()).validate(config)
assert config["descriptor"]["licenses"] == ["Apache-2.0"] and config["modelfs"]["diffIds"] == [l["digest"] for l in manifest["layers"]]
types = {l["annotations"]["org.cncf.model.filepath"]: l["mediaType"] for l in manifest["layers"]}
assert types == {"config.json": "application/vnd.cncf.model.weight.config.v1.raw",
                 "model.safetensors": "application/vnd.cncf.model.weight.v1.raw"}, types
PY
  # Into a registry with gantry push, then pulled by oras (PyPI's OCI client), byte for byte.
  start_registry reg
  run_gantry push "$REG/models/llm:v1" --image "oci:$T/pack:v1" --store "$(store)"
  assert_eq "$RC" 0 "push ($ERR)"
  python3 - "$REG/models/llm:v1" pulled <<'PY' || fail "oras pull"
import sys, oras.client
client = oras.client.OrasClient(insecure=True)
files = client.pull(target=sys.argv[1], outdir=sys.argv[2])
print(files)
PY
  cmp llm/model.safetensors pulled/model.safetensors || fail "the weights differ after oras pull"
  cmp llm/config.json pulled/config.json || fail "the config file differs after oras pull"
  # Straight from the model's directory, without an app build.
  run_gantry model push "$PWD/llm" "$REG/models/direct:1" --license MIT --store "$(store)"
  assert_eq "$RC" 0 "model push ($ERR)"
  assert_contains "$OUT" "$REG/models/direct@sha256:"
  python3 -c "import oras.client, sys; oras.client.OrasClient(insecure=True).pull(target=sys.argv[1], outdir='direct')" "$REG/models/direct:1" \
    || fail "oras pull of the pushed ModelPack"
  cmp llm/model.safetensors direct/model.safetensors || fail "the weights differ after model push and oras pull"
}

test_build_test_mounts_the_model_image_where_the_cluster_does() {
  sample
  build_sample --test
  assert_eq "$RC" 0 "build --test ($ERR)"
  assert_contains "$ERR" "image volume 1: 1 layer mounted read-only at /models"
  # The recipe's /version check compares the served model's digest with the model image's label.
  assert_contains "$ERR" "6 of 6 checks passed"
  # gantry test of the last build mounts the model image that build made; another image takes --model-image.
  run_gantry test -f sample/gantry.yaml --store "$SHARED/store"
  assert_eq "$RC" 0 "gantry test ($ERR)"
  assert_contains "$ERR" "image volume 1: 1 layer mounted read-only at /models"
  run_gantry test gantry:last-build -f sample/gantry.yaml --store "$SHARED/store"
  assert_eq "$RC" 1 "without its model image the app cannot serve ($ERR)"
  run_gantry test gantry:last-build --model-image gantry:last-build-model -f sample/gantry.yaml --store "$SHARED/store"
  assert_eq "$RC" 0 "gantry test --model-image ($ERR)"
}

test_deploy_mounts_the_model_image_pinned_by_digest_and_waits_for_startup() {
  sample
  start_registry reg
  build_sample --push "$REG/team/app:1"
  assert_eq "$RC" 0 "build ($ERR)"
  local model_digest; model_digest=$(inspect_digest --tls-verify=false "docker://$REG/models/classifier:1")
  # No cluster: rendered with the volume (what a 1.35 cluster gets), validated for 1.35-1.37.
  run_gantry deploy -f sample/gantry.yaml --store "$SHARED/store" --output out --set startupSeconds=600 --kubeconfig /nonexistent
  assert_eq "$RC" 0 "deploy --output ($ERR)"
  for version in 1.35.0 1.36.0 1.37.0; do
    kubernetes-validate -k "$version" --strict --quiet out/*.yaml || fail "kubernetes-validate $version rejected the manifests"
  done
  python3 - out/deployment.yaml "$REG/models/classifier@$model_digest" <<'PY' || fail "deployment: $(cat out/deployment.yaml)"
import sys, yaml
spec = yaml.safe_load(open(sys.argv[1]))["spec"]["template"]["spec"]
volume = next(v for v in spec["volumes"] if v["name"] == "model")
assert volume["image"] == {"reference": sys.argv[2], "pullPolicy": "IfNotPresent"}, volume
container = spec["containers"][0]
mount = next(m for m in container["volumeMounts"] if m["name"] == "model")
assert mount == {"name": "model", "mountPath": "/models", "readOnly": True}, mount
assert container["startupProbe"]["failureThreshold"] == 120 and container["startupProbe"]["periodSeconds"] == 5
assert "initialDelaySeconds" not in container["livenessProbe"]
PY
  # Baked: no volume (the build would keep the model in the app image).
  run_gantry deploy -f sample/gantry.yaml --store "$SHARED/store" --dry-run --set modelDelivery=baked
  assert_eq "$RC" 0 "deploy baked ($ERR)"
  case "$OUT" in *"image:"*"reference:"*) fail "an image volume with modelDelivery=baked" ;; esac
  # A 1.34 cluster cannot mount it: a clear error; a 1.35 one gets it, as kubectl sends it.
  start_kube_api --server-version 1.34
  expect_failure 69 "image volumes need 1.35" deploy -f sample/gantry.yaml --store "$SHARED/store" --kubeconfig "$T/kubeconfig" --timeout 5
  start_kube_api --server-version 1.35
  run_gantry deploy "$REG/team/app:1" --model "$REG/models/classifier:1" -f sample/gantry.yaml --store "$SHARED/store" \
    --kubeconfig "$T/kubeconfig" --timeout 20
  assert_eq "$RC" 0 "deploy to 1.35 ($ERR)"
  assert_contains "$ERR" "model image $REG/models/classifier@$model_digest at /models"
  kube_requests PATCH /deployments/ > sent.json
  assert_contains "$(cat sent.json)" "$REG/models/classifier@$model_digest"
}

run_tests
