#!/usr/bin/env bash
# Models published as folders in blob storage (issue 24): an Azure prefix listed
# page by page against helpers/blob_server.py (Shared Key checked by the Azure
# SDK's own signer; SAS permissions checked as Azure does), an S3 prefix against
# moto's ListObjectsV2; images checked by oci_check and read back by umoci.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KEY=$(head -c 32 /dev/urandom | base64)
SIG=s3cretSASsig

azure_key_env() {
  export AZURE_STORAGE_BLOB_ENDPOINT="http://127.0.0.1:$BLOB_PORT/gantrydemo" AZURE_STORAGE_ACCOUNT=gantrydemo AZURE_STORAGE_KEY="$KEY"
}

azure_sas_env() {  # PERMISSIONS
  export AZURE_STORAGE_BLOB_ENDPOINT="http://127.0.0.1:$BLOB_PORT/gantrydemo" AZURE_STORAGE_SAS_TOKEN="sv=2022-11-02&sp=$1&sig=$SIG"
}

# A model as data scientists publish it: two shards, config, a tokenizer folder,
# a hidden file, and a sibling that shares the prefix's text but not its folder.
publish_model() {
  mkdir -p root/models/resnet/tokenizer
  head -c $((17 << 20)) /dev/urandom > root/models/resnet/model-00001-of-00002.safetensors
  head -c $((17 << 20)) /dev/urandom > root/models/resnet/model-00002-of-00002.safetensors
  echo '{"architectures": ["ResNet50"]}' > root/models/resnet/config.json
  printf 'tench\ngoldfish\n' > root/models/resnet/tokenizer/synset.txt
  echo junk > root/models/resnet/.DS_Store
  echo old > root/models/resnet-old.bin
}

# The blob server with a SAS allowed to list, and a one-file app; gantry.yaml's
# head (a scratch base and the app layer), to which a test appends its models.
serve_models_for_an_app() {
  start_blob_server root --sas "$SIG"
  azure_sas_env rl
  mkdir app && echo 'print("hi")' > app/main.py
  printf 'base: scratch\nlayers:\n  - source: app\n    destination: /app\n' > gantry.yaml
}

blob_gets() { grep -E "^GET /gantrydemo/models/" "$BLOB_LOG" || true; }

test_an_azure_prefix_is_fetched_file_by_file_and_only_what_changed_moves() {
  publish_model
  start_blob_server root --key "$KEY" --page-size 2
  azure_key_env
  run_gantry model fetch az://gantrydemo/models/resnet/ --store "$(store)" --output copy
  assert_eq "$RC" 0 "fetch of the prefix ($ERR)"
  local digest=$OUT
  assert_contains "$ERR" "4 files, 4 downloaded"
  # The set's digest is the one the same files have as a local directory model.
  run_gantry model fetch root/models/resnet --store "$T/local-store"
  assert_eq "$OUT" "$digest" "digest of the set against the same files as a directory"
  diff -r --exclude .DS_Store copy root/models/resnet || fail "the copied set differs from the published files"
  assert_no_file copy/.DS_Store
  [ "$(grep -c '^GET /gantrydemo/models - 200' "$BLOB_LOG")" -ge 3 ] || fail "expected ≥ 3 listing pages of 2 names: $(cat "$BLOB_LOG")"
  grep -q ' 403$' "$BLOB_LOG" && fail "the SDK's signer disagreed with gantry's Shared Key signature of a listing"
  assert_eq "$(blob_gets | grep -c resnet-old || true)" 0 "requests for a blob outside the prefix"

  # Unchanged: the listing alone, not one request for a file.
  : > "$BLOB_LOG"
  run_gantry model fetch az://gantrydemo/models/resnet/ --store "$(store)"
  assert_eq "$OUT" "$digest" "digest of the unchanged set"
  assert_eq "$(blob_gets | wc -l)" 0 "file requests for an unchanged set"
  assert_contains "$ERR" "all unchanged"

  # One shard replaced: that shard alone is downloaded.
  head -c $((17 << 20)) /dev/urandom > root/models/resnet/model-00002-of-00002.safetensors
  : > "$BLOB_LOG"
  run_gantry model fetch az://gantrydemo/models/resnet/ --store "$(store)"
  assert_eq "$RC" 0 "fetch after one shard changed ($ERR)"
  [ "$OUT" != "$digest" ] || fail "the set's digest did not change with a shard"
  assert_contains "$ERR" "4 files, 1 downloaded"
  assert_eq "$(blob_gets | grep -vc model-00002 || true)" 0 "requests for files that did not change: $(blob_gets)"
  case "$OUT$ERR" in *"$KEY"*) fail "the account key appeared in the output" ;; esac
  assert_eq "$(ls -A "$(store)/ingest")" "" "scratch left in the store"
}

test_a_set_builds_into_shard_layers_that_other_tools_read() {
  publish_model
  serve_models_for_an_app
  cat >> gantry.yaml <<'EOF'
model:
  source: az://gantrydemo/models/resnet/
  destination: /models/resnet
  include: ["*.safetensors", "config.json", "tokenizer/**"]
  exclude: ["model-00002-*"]
EOF
  run_gantry build -f gantry.yaml --store "$(store)" --output oci:img:v1
  assert_eq "$RC" 0 "build ($ERR)"
  python3 "$ORACLE" img > /dev/null || fail "oci_check refused the image"
  local manifest; manifest=$(json img/index.json 'd["manifests"][0]["digest"].split(":")[1]')
  assert_eq "$(json "img/blobs/sha256/$manifest" 'len(d["layers"])')" 3 "layers: the shard, the small files, the app"
  umoci unpack --rootless --image img:v1 unpacked > /dev/null
  cmp unpacked/rootfs/models/resnet/model-00001-of-00002.safetensors root/models/resnet/model-00001-of-00002.safetensors
  cmp unpacked/rootfs/models/resnet/tokenizer/synset.txt root/models/resnet/tokenizer/synset.txt
  cmp unpacked/rootfs/models/resnet/config.json root/models/resnet/config.json
  assert_no_file unpacked/rootfs/models/resnet/model-00002-of-00002.safetensors
  assert_no_file unpacked/rootfs/models/resnet/.DS_Store
  # The label names the set as gantry fetched it (the same selection, the same digest).
  run_gantry model fetch az://gantrydemo/models/resnet/ --store "$(store)" --include '*.safetensors' --include config.json \
    --include 'tokenizer/**' --exclude 'model-00002-*'
  local config; config=$(json "img/blobs/sha256/$manifest" 'd["config"]["digest"].split(":")[1]')
  assert_eq "$(json "img/blobs/sha256/$config" 'd["config"]["Labels"]["io.gantry.model.digest"]')" "$OUT" "model digest label"
  # Nothing changed: every layer from the cache, no file downloaded again.
  : > "$BLOB_LOG"
  run_gantry build -f gantry.yaml --store "$(store)" --output oci:img2:v1
  assert_eq "$RC" 0 "rebuild ($ERR)"
  assert_eq "$(blob_gets | wc -l)" 0 "file requests for an unchanged set"
  assert_eq "$(json img2/index.json 'd["manifests"][0]["digest"].split(":")[1]')" "$manifest" "digest of the unchanged rebuild"
  case "$OUT$ERR" in *"$SIG"*) fail "the SAS signature appeared in the output" ;; esac

  # Pushed with SBOMs: every file of the set listed with its own digest, as validators accept.
  start_registry reg
  run_gantry build -f gantry.yaml --store "$(store)" --push "$REG/app:1" --sbom
  assert_eq "$RC" 0 "build --push --sbom ($ERR)"
  run_gantry sbom "$REG/app:1" --store "$(store)"
  printf '%s\n' "$OUT" > sbom.spdx.json
  pyspdxtools -i sbom.spdx.json > validate.txt 2>&1 || fail "pyspdxtools rejected the SBOM: $(tail -20 validate.txt)"
  run_gantry build -f gantry.yaml --store "$(store)" --push "$REG/app:cdx" --sbom --sbom-format cyclonedx
  assert_eq "$RC" 0 "build --sbom-format cyclonedx ($ERR)"
  run_gantry sbom "$REG/app:cdx" --format cyclonedx --store "$(store)"
  printf '%s\n' "$OUT" > sbom.cdx.json
  python3 - sbom.spdx.json sbom.cdx.json root/models/resnet <<'PY' || fail "the SBOMs do not list the set's files"
import hashlib, json, sys
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
spdx, cdx_text, root = json.load(open(sys.argv[1])), open(sys.argv[2]).read(), sys.argv[3]
assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(cdx_text) is None
want = {f"/models/resnet/{n}": hashlib.sha256(open(f"{root}/{n}", "rb").read()).hexdigest()
        for n in ["config.json", "model-00001-of-00002.safetensors", "tokenizer/synset.txt"]}
files = {p["name"]: p["checksums"][0]["checksumValue"] for p in spdx["packages"] if p["SPDXID"].startswith("SPDXRef-Model-File-")}
assert files == want, files
model = next(c for c in json.loads(cdx_text)["components"] if c["type"] == "machine-learning-model")
assert {c["name"]: c["hashes"][0]["content"] for c in model["components"]} == want, model
PY
}

test_a_fresh_agent_with_cache_repo_downloads_no_unchanged_file() {
  publish_model
  start_blob_server root --key "$KEY"
  azure_key_env
  start_registry reg
  mkdir app && echo 'print(1)' > app/app.py
  local model=az://gantrydemo/models/resnet/ cache="$REG/cache/app"
  run_gantry build --store "$T/agent1" --layer app:/app --model "$model" --model-destination /models/resnet --cache-repo "$cache" --push "$REG/apps/web:1"
  assert_eq "$RC" 0 "first agent ($ERR)"
  local first=$OUT
  # A fresh agent, nothing changed: the listing, and not one file request.
  : > "$BLOB_LOG"
  run_gantry build --store "$T/agent2" --layer app:/app --model "$model" --model-destination /models/resnet --cache-repo "$cache" --push "$REG/apps/web:2"
  assert_eq "$RC" 0 "fresh agent ($ERR)"
  assert_eq "$OUT" "$first" "image digest on a fresh agent"
  assert_eq "$(blob_gets | wc -l)" 0 "file requests on a fresh agent: $(blob_gets)"
  [ "$(echo "$ERR" | grep -cE '^layer  /models/resnet.*cached \(registry\)$')" -eq 3 ] || fail "model layers not all from the registry cache: $ERR"
  # One shard replaced, another fresh agent: that shard alone is downloaded and built.
  head -c $((17 << 20)) /dev/urandom > root/models/resnet/model-00002-of-00002.safetensors
  : > "$BLOB_LOG"
  run_gantry build --store "$T/agent3" --layer app:/app --model "$model" --model-destination /models/resnet --cache-repo "$cache" --push "$REG/apps/web:3"
  assert_eq "$RC" 0 "fresh agent after one shard changed ($ERR)"
  [ "$OUT" != "$first" ] || fail "a new shard left the image digest as it was"
  assert_eq "$(blob_gets | grep -vc model-00002 || true)" 0 "requests for unchanged files: $(blob_gets)"
  echo "$ERR" | grep -E '^layer  /models/resnet/model-00002-of-00002.safetensors .*built' > /dev/null || fail "the new shard was not built: $ERR"
  # The same image as an agent with no cache at all.
  run_gantry build --store "$T/plain" --layer app:/app --model "$model" --model-destination /models/resnet --quiet
  local plain=$OUT
  run_gantry build --store "$T/agent4" --layer app:/app --model "$model" --model-destination /models/resnet --cache-repo "$cache" --quiet
  assert_eq "$OUT" "$plain" "digest with and without the registry cache"
}

test_a_set_becomes_a_model_image_and_a_modelpack_that_oras_pulls() {
  publish_model
  start_blob_server root --key "$KEY"
  azure_key_env
  start_registry reg
  mkdir app && echo 'print(1)' > app/app.py
  run_gantry build --store "$(store)" --layer app:/app --model az://gantrydemo/models/resnet/ --model-destination /models/resnet \
    --model-image models/resnet:1 --push "$REG/team/app:1"
  assert_eq "$RC" 0 "build with a model image ($ERR)"
  skopeo inspect --tls-verify=false "docker://$REG/models/resnet:1" > model.json
  assert_eq "$(json model.json 'len(d["Layers"])')" 3 "model image layers: two shards and the small files"
  assert_eq "$(json model.json 'd["Labels"]["io.gantry.model.source"]')" "az://gantrydemo/models/resnet/"
  # Straight to a registry as a ModelPack artifact; oras (PyPI's OCI client) pulls the files back.
  run_gantry model push az://gantrydemo/models/resnet/ "$REG/models/pack:1" --exclude 'tokenizer/**' --store "$(store)"
  assert_eq "$RC" 0 "model push of a set ($ERR)"
  python3 -c "import oras.client, sys; oras.client.OrasClient(insecure=True).pull(target=sys.argv[1], outdir='pulled')" "$REG/models/pack:1" \
    > /dev/null || fail "oras pull of the set's ModelPack"
  for f in model-00001-of-00002.safetensors model-00002-of-00002.safetensors config.json; do
    cmp "pulled/$f" "root/models/resnet/$f" || fail "$f differs after model push and oras pull"
  done
  assert_no_file pulled/tokenizer/synset.txt
}

test_several_models_in_one_image_are_each_cached_and_recorded() {
  publish_model
  mkdir -p root/labels local-tokenizer
  printf 'tench\ngoldfish\n' > root/labels/synset.txt
  echo '{"vocab": 3}' > local-tokenizer/vocab.json
  serve_models_for_an_app
  cat >> gantry.yaml <<'EOF'
models:
  - source: az://gantrydemo/models/resnet/
    destination: /models/resnet
    include: ["*.safetensors", "config.json"]
    license: Apache-2.0
  - source: az://gantrydemo/labels/synset.txt
    destination: /models/synset.txt
  - source: local-tokenizer
    destination: /models/tokenizer
EOF
  run_gantry build -f gantry.yaml --store "$(store)" --output oci:img:v1 --json
  assert_eq "$RC" 0 "build ($ERR)"
  printf '%s\n' "$OUT" > build.json
  assert_eq "$(json build.json '" ".join(m["name"] + "=" + m["path"] for m in d["models"])')" \
    "resnet=/models/resnet synset.txt=/models/synset.txt tokenizer=/models/tokenizer" "models in --json"
  python3 "$ORACLE" img > /dev/null || fail "oci_check refused the image"
  umoci unpack --rootless --image img:v1 unpacked > /dev/null
  cmp unpacked/rootfs/models/resnet/model-00002-of-00002.safetensors root/models/resnet/model-00002-of-00002.safetensors
  cmp unpacked/rootfs/models/synset.txt root/labels/synset.txt
  cmp unpacked/rootfs/models/tokenizer/vocab.json local-tokenizer/vocab.json
  assert_no_file unpacked/rootfs/models/resnet/tokenizer/synset.txt
  # Each model's label holds the digest gantry model fetch gives the same source.
  local manifest config
  manifest=$(json img/index.json 'd["manifests"][0]["digest"].split(":")[1]')
  config=$(json "img/blobs/sha256/$manifest" 'd["config"]["digest"].split(":")[1]')
  run_gantry model fetch az://gantrydemo/models/resnet/ --include '*.safetensors' --include config.json --store "$(store)"
  assert_eq "$(json "img/blobs/sha256/$config" 'd["config"]["Labels"]["io.gantry.model.resnet.digest"]')" "$OUT" "resnet label"
  assert_eq "$(json "img/blobs/sha256/$config" 'd["config"]["Labels"]["io.gantry.model.synset.txt.digest"]')" \
    "sha256:$(sha256sum root/labels/synset.txt | cut -d' ' -f1)" "synset.txt label"
  assert_eq "$(json "img/blobs/sha256/$config" '"io.gantry.model.digest" in d["config"]["Labels"]')" "False" "a single-model label"

  # The label file changes: it alone is downloaded, and the other models' layers stay.
  printf 'tench\ngoldfish\nshark\n' > root/labels/synset.txt
  : > "$BLOB_LOG"
  run_gantry build -f gantry.yaml --store "$(store)" --output oci:img2:v1
  assert_eq "$RC" 0 "rebuild after the label file changed ($ERR)"
  assert_eq "$(grep -E '^GET /gantrydemo/(models|labels)/' "$BLOB_LOG" | grep -vc 'labels/synset.txt' || true)" 0 \
    "requests for files that did not change: $(cat "$BLOB_LOG")"
  local manifest2; manifest2=$(json img2/index.json 'd["manifests"][0]["digest"].split(":")[1]')
  python3 - "img/blobs/sha256/$manifest" "img2/blobs/sha256/$manifest2" <<'PY' || fail "layers other than the label file's changed"
import json, sys
old, new = ([l["digest"] for l in json.load(open(p))["layers"]] for p in sys.argv[1:])
assert len(old) == len(new) == 6, (old, new)   # 2 shards, resnet's small files, synset, tokenizer, app
changed = [i for i in range(6) if old[i] != new[i]]
assert changed == [3], changed
PY

  # Pushed with an SBOM that validators accept: every model, each set's files.
  start_registry reg
  run_gantry build -f gantry.yaml --store "$(store)" --push "$REG/app:1" --sbom --provenance
  assert_eq "$RC" 0 "build --push --sbom --provenance ($ERR)"
  assert_contains "$ERR" "3 models"
  run_gantry sbom "$REG/app:1" --store "$(store)"
  printf '%s\n' "$OUT" > sbom.spdx.json
  pyspdxtools -i sbom.spdx.json > validate.txt 2>&1 || fail "pyspdxtools rejected the SBOM: $(tail -20 validate.txt)"
  assert_eq "$(json sbom.spdx.json '" ".join(sorted(p["name"] for p in d["packages"] if p["primaryPackagePurpose"] == "OTHER"))')" \
    "resnet synset.txt tokenizer" "models in the SBOM"

  # What takes one model refuses several, with one line each.
  expect_failure 64 "--model acts on one model, and the recipe lists 3" build -f gantry.yaml --model other.bin --store "$(store)"
  expect_failure 64 "a ModelPack artifact holds one model" build -f gantry.yaml --output modelpack:oci:mp --store "$(store)"
  printf 'base: scratch\nmodels:\n  - source: local-tokenizer\n  - source: app\n    destination: /srv/local-tokenizer\n' > clash.yaml
  expect_failure 64 "would both be named 'local-tokenizer'" build -f clash.yaml --store "$(store)"
  assert_no_file mp
}

# The fake stands in for Azure's List Blobs only as far as the real client reads
# it: the azure-storage-blob SDK lists the same prefix page by page (its own
# maxresults, its own Shared Key signature) and must see every published name
# with its size, ETag, date and type, and download each by that ETag.
test_the_azure_sdk_reads_the_fakes_listing_as_gantry_does() {
  publish_model
  start_blob_server root --key "$KEY" --page-size 3
  azure_key_env
  run_gantry model fetch az://gantrydemo/models/resnet/ --store "$(store)"
  assert_eq "$RC" 0 "gantry fetch of the prefix ($ERR)"
  python3 - "http://127.0.0.1:$BLOB_PORT/gantrydemo" "$KEY" root/models > "$T/sdk.out" <<'PY' || fail "the SDK could not list the fake: $(cat "$T/sdk.out")"
import hashlib, os, sys
from azure.storage.blob import ContainerClient
url, key, root = sys.argv[1:]
client = ContainerClient(account_url=url, container_name="models",
                         credential={"account_name": "gantrydemo", "account_key": key})
pages = list(client.list_blobs(name_starts_with="resnet/", results_per_page=2).by_page())
listed = [blob for page in pages for blob in page]
expected = sorted(os.path.relpath(os.path.join(top, f), root)
                  for top, _, files in os.walk(os.path.join(root, "resnet")) for f in files)
assert [b.name for b in listed] == expected, ([b.name for b in listed], expected)
for blob in listed:
    path = os.path.join(root, blob.name)
    assert blob.size == os.path.getsize(path), (blob.name, blob.size)
    assert blob.etag and blob.last_modified is not None and blob.blob_type == "BlockBlob", blob
    assert client.download_blob(blob.name, etag=blob.etag, match_condition=__import__("azure.core").core.MatchConditions.IfNotModified).readall() == open(path, "rb").read()
print(len(pages), len(listed))
PY
  read -r pages blobs < "$T/sdk.out"
  assert_eq "$blobs" 5 "blobs the SDK listed under resnet/ (four files and .DS_Store)"
  [ "$pages" -ge 3 ] || fail "the SDK's results_per_page=2 gave $pages pages of 5 names"
  grep -q ' 403$' "$BLOB_LOG" && fail "the fake refused the SDK's own signature: $(grep ' 403$' "$BLOB_LOG")"
  return 0
}

test_bad_sets_get_one_clear_line_each() {
  publish_model
  mkdir -p root/empty
  start_blob_server root --sas "$SIG"
  azure_sas_env r
  expect_failure 77 "the credentials need List permission on the container" model fetch az://gantrydemo/models/resnet/ --store "$(store)"
  case "$ERR" in *"$SIG"*) fail "the SAS signature appeared in the error" ;; esac
  azure_sas_env rl
  expect_failure 66 "az://gantrydemo/models/nothing/ holds no blobs" model fetch az://gantrydemo/models/nothing/ --store "$(store)"
  expect_failure 66 "none selected by include/exclude" model fetch az://gantrydemo/models/resnet/ --include '*.onnx' --store "$(store)"
  expect_failure 66 "the container does not exist" model fetch az://gantrydemo/missing/resnet/ --store "$(store)"
  expect_failure 65 "but the recipe pins sha256:$(printf '0%.0s' $(seq 64))" model fetch az://gantrydemo/models/resnet/ \
    --sha256 "$(printf '0%.0s' $(seq 64))" --store "$(store)"
  expect_failure 64 "must look like az://ACCOUNT/CONTAINER/PREFIX/" model fetch az://gantrydemo/models/a/../ --store "$(store)"
  assert_eq "$(ls -A "$(store)/ingest")" "" "scratch left in the store after failures"
}

test_an_s3_prefix_of_a_thousand_files_pages_through_moto() {
  local port; port=$(free_port)
  moto_server -H 127.0.0.1 -p "$port" > moto.log 2>&1 &
  SERVICE_PIDS="$SERVICE_PIDS $!"
  wait_for_port "$port"
  export AWS_ACCESS_KEY_ID=AKIDGANTRYTEST AWS_SECRET_ACCESS_KEY=gantry-s3cret-key AWS_REGION=us-east-1 AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  mkdir -p labels && for i in $(seq -w 1 1003); do echo "label $i" > "labels/l$i.txt"; done
  python3 - "$port" <<'PY'
import boto3, os, sys
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}")
s3.create_bucket(Bucket="models")
s3.put_object(Bucket="models", Key="team/labels/", Body=b"")  # a console "folder" marker
for name in sorted(os.listdir("labels")):
    s3.put_object(Bucket="models", Key=f"team/labels/{name}", Body=open(f"labels/{name}", "rb").read())
s3.put_object(Bucket="models", Key="team/other.bin", Body=b"not in the set")
PY
  run_gantry model fetch s3://models/team/labels/ --store "$(store)" --output copy
  assert_eq "$RC" 0 "fetch of the S3 prefix ($ERR)"
  assert_contains "$ERR" "1003 files"
  diff -r copy labels || fail "the fetched set differs from the uploaded files"
  run_gantry model fetch "$T/labels" --store "$T/local-store"
  local local_digest=$OUT
  run_gantry model fetch s3://models/team/labels/ --store "$(store)"
  assert_eq "$OUT" "$local_digest" "digest of the S3 set against the same files as a directory"
  assert_contains "$ERR" "all unchanged"
  case "$OUT$ERR" in *gantry-s3cret-key*) fail "the secret key appeared in the output" ;; esac
}

run_tests
