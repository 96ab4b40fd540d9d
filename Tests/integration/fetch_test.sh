#!/usr/bin/env bash
# gantry model fetch against a blob-storage-like endpoint that checks Shared Key
# signatures with the Azure SDK's own signer, against moto's S3 server, and
# against servers that drop connections mid-file.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KEY=$(head -c 32 /dev/urandom | base64)

azure_env() {  # the account key, the endpoint and the account, as CI would set them
  export AZURE_STORAGE_BLOB_ENDPOINT="http://127.0.0.1:$BLOB_PORT/gantrydemo" AZURE_STORAGE_ACCOUNT=gantrydemo AZURE_STORAGE_KEY="$KEY"
}

test_azure_shared_key_parallel_ranges_resume_after_drops() {
  mkdir -p root/models && head -c 52428800 /dev/urandom > root/models/weights.bin
  start_blob_server root --key "$KEY" --drop-after 3000000 --drops 3
  azure_env
  run_gantry model fetch az://gantrydemo/models/weights.bin --store "$(store)"
  assert_eq "$RC" 0 "fetch ($ERR)"
  assert_eq "$OUT" "sha256:$(sha256sum root/models/weights.bin | cut -d' ' -f1)" "digest of the downloaded model"
  [ "$(grep -c '^GET .* 206$' "$BLOB_LOG")" -ge 6 ] || fail "expected ≥ 6 ranged GETs (4 parts + resumes): $(cat "$BLOB_LOG")"
  grep -q '^GET .* 403$' "$BLOB_LOG" && fail "the SDK's signer disagreed with gantry's Shared Key signature"
  cmp root/models/weights.bin "$(store)/blobs/sha256/${OUT#sha256:}"
  # unchanged: only a HEAD, no download
  : > "$BLOB_LOG"
  run_gantry model fetch az://gantrydemo/models/weights.bin --store "$(store)" --output copy.bin
  assert_eq "$RC" 0 "second fetch ($ERR)"
  assert_eq "$(grep -c '^GET' "$BLOB_LOG")" 0 "GETs for an unchanged model"
  assert_contains "$ERR" "unchanged"
  cmp copy.bin root/models/weights.bin
  # a new version of the blob (new ETag) is fetched again: "the latest model"
  head -c 1000 /dev/urandom >> root/models/weights.bin
  run_gantry model fetch az://gantrydemo/models/weights.bin --store "$(store)"
  assert_eq "$OUT" "sha256:$(sha256sum root/models/weights.bin | cut -d' ' -f1)" "digest of the new version"
  case "$OUT$ERR" in *"$KEY"*) fail "the account key appeared in the output" ;; esac
}

test_wrong_key_missing_blob_unreachable_and_pin_mismatch() {
  mkdir -p root/models && echo '{"weights": [1, 2]}' > root/models/m.json
  start_blob_server root --key "$KEY"
  azure_env
  AZURE_STORAGE_KEY=$(head -c 32 /dev/urandom | base64) run_gantry model fetch az://gantrydemo/models/m.json --store "$(store)"
  assert_eq "$RC" 77 "wrong key ($ERR)"
  assert_contains "$ERR" "model source az://gantrydemo/models/m.json refused access (403)"
  expect_failure 66 "model source az://gantrydemo/models/nope.json does not exist (404)" model fetch az://gantrydemo/models/nope.json --store "$(store)"
  local port; port=$(free_port)
  expect_failure 69 "cannot reach model source http://127.0.0.1:$port/m.json?sig=REDACTED" model fetch "http://127.0.0.1:$port/m.json?sig=S3CRETSIG" --store "$(store)"
  case "$ERR" in *S3CRETSIG*) fail "the SAS signature appeared in the error" ;; esac
  expect_failure 65 "but the recipe pins sha256:$(printf 'a%.0s' $(seq 64))" model fetch az://gantrydemo/models/m.json --store "$(store)" --sha256 "$(printf 'a%.0s' $(seq 64))"
  assert_contains "$ERR" "it was not used"
  assert_eq "$(find "$(store)/ingest" -type f | wc -l)" 0 "temp files left in the store"
  assert_eq "$(ls "$(store)/blobs/sha256" | wc -l)" 0 "blobs kept after a pin mismatch"
}

test_truncated_download_without_ranges_fails_cleanly() {
  mkdir -p root/models && head -c 5000000 /dev/urandom > root/models/m.bin
  start_blob_server root --no-ranges --drop-after 1000000 --drops -1
  expect_failure 69 "was cut off at" model fetch "http://127.0.0.1:$BLOB_PORT/gantrydemo/models/m.bin" --store "$(store)"
  assert_eq "$(find "$(store)/ingest" -type f | wc -l)" 0 "partial download left in the store"
  assert_eq "$(ls "$(store)/blobs/sha256" | wc -l)" 0 "a truncated blob entered the store"
}

test_stream_download_resumes_with_ranges() {
  mkdir -p root/models && head -c 6000000 /dev/urandom > root/models/m.bin
  start_blob_server root --drop-after 1500000 --drops 2
  run_gantry model fetch "http://127.0.0.1:$BLOB_PORT/gantrydemo/models/m.bin?sv=2022&sig=S3CRET" --store "$(store)"
  assert_eq "$RC" 0 "fetch ($ERR)"
  assert_eq "$OUT" "sha256:$(sha256sum root/models/m.bin | cut -d' ' -f1)"
  # a reset loses bytes in flight, so the resume point is whatever had arrived (> 0)
  grep -qE "^GET .* bytes=[1-9][0-9]*- 206$" "$BLOB_LOG" || fail "the download did not resume from the bytes it had: $(cat "$BLOB_LOG")"
  assert_eq "$(grep -c '^GET .* - 200$' "$BLOB_LOG")" 1 "whole-file GETs (resumes must be ranged)"
}

test_s3_with_sigv4_and_presigned_urls_against_moto() {
  local port; port=$(free_port)
  moto_server -H 127.0.0.1 -p "$port" > moto.log 2>&1 &
  SERVICE_PIDS="$SERVICE_PIDS $!"
  wait_for_port "$port"
  head -c 40000000 /dev/urandom > model.bin
  export AWS_ACCESS_KEY_ID=AKIDGANTRYTEST AWS_SECRET_ACCESS_KEY=gantry-s3cret-key AWS_REGION=us-east-1 AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  python3 - "$port" <<'PY' > presigned.txt
import boto3, sys
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}")
s3.create_bucket(Bucket="models")
s3.upload_file("model.bin", "models", "team/classifier.bin")
print(s3.generate_presigned_url("get_object", Params={"Bucket": "models", "Key": "team/classifier.bin"}, ExpiresIn=600))
PY
  local expected; expected="sha256:$(sha256sum model.bin | cut -d' ' -f1)"
  run_gantry model fetch s3://models/team/classifier.bin --store "$(store)"
  assert_eq "$RC" 0 "s3:// fetch ($ERR)"
  assert_eq "$OUT" "$expected" "digest from S3"
  # a presigned URL: no credentials needed, and its signature never printed
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  run_gantry model fetch "$(cat presigned.txt)" --store "$T/store2"
  assert_eq "$RC" 0 "presigned fetch ($ERR)"
  assert_eq "$OUT" "$expected" "digest from a presigned URL"
  case "$OUT$ERR" in *gantry-s3cret-key*|*X-Amz-Signature=[0-9a-f]*) fail "a secret appeared in the output" ;; esac
  expect_failure 66 "s3://models/missing.bin does not exist" model fetch s3://models/missing.bin --store "$(store)"
}

test_requirements_that_do_not_resolve() {
  mkdir app && echo x > app/a
  printf 'gantry-no-such-package-xyz==9.9.9\n' > requirements.txt
  expect_failure 65 "python requirements $T/requirements.txt cannot be installed for linux/amd64" build --store "$(store)" --requirements "$T/requirements.txt" --layer app:/app
  assert_eq "$(ls "$(store)/cache/python" 2>/dev/null | wc -l)" 0 "a failed pip run left a cache entry"
}

# A wheel for another architecture (a python.platform tag that does not match the
# image) is refused before it enters the cache, naming the package and the file:
# MarkupSafe's AArch64 wheel from PyPI, its _speedups extension checked by its ELF header.
test_native_files_for_another_architecture_are_refused() {
  mkdir app && echo x > app/a
  printf 'MarkupSafe==2.1.5\n' > requirements.txt
  cat > gantry.yaml <<'YAML'
base: scratch
platform: linux/amd64
python: {requirements: requirements.txt, platform: manylinux_2_17_aarch64}
layers: [{source: app, destination: /app}]
YAML
  expect_failure 65 "python package MarkupSafe 2.1.5: markupsafe/_speedups.cpython-311-aarch64-linux-gnu.so is built for AArch64, but the image is linux/amd64 (x86-64)" \
    build -f gantry.yaml --store "$(store)"
  assert_eq "$(ls "$(store)/cache/python" 2>/dev/null | wc -l)" 0 "a wrong-architecture install left a cache entry"
}

run_tests
