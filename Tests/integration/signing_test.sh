#!/usr/bin/env bash
# Signatures as cosign stores them, checked without gantry: skopeo reads the
# sha256-<hex>.sig manifest and copies its payload, Python reads the payload, and
# the openssl command line checks the signature over it with the public key
# (Debian's skopeo has sigstore verification switched off and cosign is not
# packaged here; this is the check cosign's verifier makes, step by step).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# small_image REF [ARGS…]: a one-file image pushed to REF (a different file per content).
small_image() {
  local ref=$1; shift
  mkdir -p ctx && echo "${CONTENT:-hello}" > ctx/hello.txt
  run_gantry build -q --store "$(store)" --base scratch --layer ctx:/data --push "$ref" "$@"
}

# signature_check REF DIGEST PUB: prints "Verified OK" when the first signature of
# REF's .sig manifest is PUB's over its payload and the payload names DIGEST.
signature_check() {
  local ref=$1 digest=$2 pub=$3 tag
  tag="${digest/:/-}.sig"
  rm -rf sigcopy
  skopeo copy -q --src-tls-verify=false "docker://$ref:$tag" "oci:sigcopy:sig" > /dev/null
  python3 - sigcopy "$digest" "${ref}" <<'PY'
import base64, json, sys
layout, digest, repository = sys.argv[1:]
def blob(d): return open(f"{layout}/blobs/sha256/{d.split(':')[1]}", "rb").read()
index = json.load(open(f"{layout}/index.json"))
manifest = json.loads(blob(index["manifests"][0]["digest"]))
layer = manifest["layers"][-1]
assert layer["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json", layer
payload = blob(layer["digest"])
claims = json.loads(payload)
assert claims["critical"]["type"] == "cosign container image signature", claims
assert claims["critical"]["image"]["docker-manifest-digest"] == digest, claims
assert claims["critical"]["identity"]["docker-reference"] == repository, claims
open("payload.json", "wb").write(payload)
open("signature.der", "wb").write(base64.b64decode(layer["annotations"]["dev.cosignproject.cosign/signature"]))
PY
  openssl dgst -sha256 -verify "$pub" -signature signature.der payload.json 2>&1 || true
}

test_generated_keys_are_p256_pem_and_the_private_one_is_0600() {
  run_gantry key generate --output k
  assert_eq "$RC" 0 "key generate ($ERR)"
  assert_eq "$(stat -c %a k.key)" 600 "private key mode"
  assert_contains "$(openssl pkey -in k.key -noout -text 2>&1)" "prime256v1"
  assert_contains "$(head -1 k.pub)" "BEGIN PUBLIC KEY"
  assert_eq "$(openssl pkey -in k.key -pubout)" "$(cat k.pub)" "the public key matches"
  # Encrypted with the passphrase from the environment; openssl opens it with the same.
  GANTRY_KEY_PASSWORD='s3cret-Pass' run_gantry key generate --output enc
  assert_contains "$(head -1 enc.key)" "BEGIN ENCRYPTED PRIVATE KEY"
  GANTRY_KEY_PASSWORD='s3cret-Pass' openssl pkey -in enc.key -passin env:GANTRY_KEY_PASSWORD -noout || fail "openssl cannot open the encrypted key"
  expect_failure 73 "already exists" key generate --output k
  for text in "$OUT" "$ERR"; do case "$text" in *PRIVATE*|*s3cret*) fail "key material in output: $text" ;; esac; done
}

test_a_signed_push_is_verified_by_openssl_and_gantry_and_refused_with_another_key() {
  start_registry reg
  run_gantry key generate --output k; run_gantry key generate --output other
  small_image "$REG/app:1" --sign k.key
  assert_eq "$RC" 0 "build --push --sign ($ERR)"
  local digest=$OUT
  assert_eq "$(signature_check "$REG/app" "$digest" k.pub)" "Verified OK"
  assert_contains "$(signature_check "$REG/app" "$digest" other.pub)" "Verification failure"
  run_gantry verify "$REG/app:1" --key k.pub --store "$(store)"
  assert_eq "$RC" 0 "verify ($ERR)"
  assert_contains "$OUT" "verified $REG/app@$digest: 1 of 1 signature"
  expect_failure 1 "none of its 1 signature verifies with other.pub" verify "$REG/app:1" --key other.pub --store "$(store)"
  # The tag moved to an unsigned image: nothing verifies it.
  CONTENT=changed small_image "$REG/app:1"
  local unsigned=$OUT
  assert_ne "$unsigned" "$digest"
  expect_failure 1 "has no signature" verify "$REG/app:1" --key k.pub --store "$(store)"
  skopeo inspect --raw --tls-verify=false "docker://$REG/app:${unsigned/:/-}.sig" > /dev/null 2>&1 && fail "a signature exists for the unsigned image"
  return 0
}

test_signing_again_keeps_signatures_and_a_second_key_adds_one() {
  start_registry reg
  run_gantry key generate --output k; run_gantry key generate --output second
  small_image "$REG/app:1"
  local digest=$OUT
  run_gantry sign "$REG/app:1" --key k.key --store "$(store)"
  assert_eq "$RC" 0 "sign ($ERR)"
  assert_contains "$OUT" "signed $REG/app@$digest"
  run_gantry sign "$REG/app@$digest" --key k.key --store "$(store)"
  assert_contains "$OUT" "already signed"
  run_gantry sign "$REG/app:1" --key second.key --store "$(store)"
  skopeo inspect --raw --tls-verify=false "docker://$REG/app:${digest/:/-}.sig" > sig.json
  assert_eq "$(json sig.json 'len(d["layers"])')" 2 "signatures in the .sig manifest"
  assert_eq "$(signature_check "$REG/app" "$digest" second.pub)" "Verified OK"
  run_gantry verify "$REG/app:1" --key k.pub --store "$(store)"
  assert_contains "$OUT" "1 of 2 signatures"
}

test_an_index_and_each_platforms_manifest_are_signed() {
  start_registry reg
  run_gantry key generate --output k
  small_image "$REG/multi:1" --platform linux/amd64,linux/arm64 --sign k.key
  assert_eq "$RC" 0 "multi-platform build --sign ($ERR)"
  local index=$OUT
  skopeo inspect --raw --tls-verify=false "docker://$REG/multi:1" > index.json
  for digest in "$index" $(json index.json '" ".join(m["digest"] for m in d["manifests"])'); do
    assert_eq "$(signature_check "$REG/multi" "$digest" k.pub)" "Verified OK" "signature of $digest"
  done
  run_gantry verify "$REG/multi:1" --key k.pub --store "$(store)"
  assert_eq "$(printf '%s\n' "$OUT" | grep -c '^verified ')" 3 "verified lines: $OUT"
}

test_key_errors_are_clear_and_never_show_secrets() {
  start_registry reg
  GANTRY_KEY_PASSWORD='right-Pass-42' run_gantry key generate --output enc
  expect_failure 64 "is encrypted; set GANTRY_KEY_PASSWORD" sign "$REG/app:1" --key enc.key
  GANTRY_KEY_PASSWORD='wrong-Pass-17' expect_failure 77 "cannot be decrypted" sign "$REG/app:1" --key enc.key
  expect_failure 66 "does not exist" sign "$REG/app:1" --key missing.key
  openssl genpkey -algorithm ed25519 -out ed.key 2>/dev/null
  expect_failure 65 "is not an EC key" sign "$REG/app:1" --key ed.key
  expect_failure 64 "--sign needs --push" build --store "$(store)" --base scratch --sign enc.key
  # A bad key is refused before the build: nothing pushed.
  mkdir -p ctx && echo x > ctx/x
  expect_failure 64 "is encrypted" build --store "$(store)" --base scratch --layer ctx:/x --push "$REG/app:1" --sign enc.key
  assert_eq "$(count_requests "$T/reg.log" PUT /v2/)" 0 "PUTs after a refused key"
  for text in "$OUT" "$ERR"; do case "$text" in *Pass-*) fail "a passphrase in output: $text" ;; esac; done
  # An encrypted key with its passphrase signs.
  CONTENT=ok small_image "$REG/app:2"
  GANTRY_KEY_PASSWORD='right-Pass-42' run_gantry sign "$REG/app:2" --key enc.key --store "$(store)"
  assert_eq "$RC" 0 "sign with the encrypted key ($ERR)"
  openssl pkey -in enc.key -passin pass:right-Pass-42 -pubout > enc.pub
  assert_eq "$(signature_check "$REG/app" "$(inspect_digest --tls-verify=false "docker://$REG/app:2")" enc.pub)" "Verified OK"
}

run_tests
