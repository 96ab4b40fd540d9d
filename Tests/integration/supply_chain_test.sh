#!/usr/bin/env bash
# SBOM and provenance attached as OCI 1.1 referrers, checked with tools gantry did
# not write: spdx-tools (pyspdxtools) and cyclonedx-python-lib validate the SBOMs,
# securesystemslib and the openssl command line verify the DSSE envelope, skopeo
# reads the registry. docker-registry 2.8 has no referrers API: there the tag
# schema's index is used. helpers/referrers_front.py, a small front that adds the
# referrers API to it, covers registries that have one (ACR).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

SHARED=$(mktemp -d /tmp/gantry-supply-shared.XXXXXX)
trap 'rm -rf "$SHARED"' EXIT
chmod 755 "$SHARED"
BASE="rootfs:$("$REPO_ROOT/scripts/make-python-base")"
python3 "$REPO_ROOT/fixtures/flask-app/model/train.py" "$SHARED/classifier.json" > /dev/null
MODEL_SHA=$(sha256sum "$SHARED/classifier.json" | cut -d' ' -f1)

# sample: the sample app with a model license, in ./sample.
sample() {
  cp -r "$REPO_ROOT/fixtures/flask-app" sample
  sed -i 's|^  destination: /models/iris|  destination: /models/iris\n  license: Apache-2.0|' sample/gantry.yaml
}

# build_sample REF ARGS…: builds and pushes the sample (the shared store keeps it quick).
build_sample() {
  local ref=$1; shift
  SOURCE_DATE_EPOCH=1700000000 run_gantry build -f sample/gantry.yaml --store "$SHARED/store" --base "$BASE" \
    --model "${MODEL:-$SHARED/classifier.json}" --push "$ref" "$@"
}

# start_referrers_front: the referrers API in front of $REG; sets FRONT and FRONT_LOG.
start_referrers_front() {
  local port; port=$(free_port); FRONT_LOG="$T/front.log"; : > "$FRONT_LOG"
  python3 "$HELPERS/referrers_front.py" --port "$port" --upstream "$REG" --log "$FRONT_LOG" > "$T/front.out" 2>&1 &
  SERVICE_PIDS="$SERVICE_PIDS $!"
  wait_for_port "$port"
  FRONT="127.0.0.1:$port"
}

test_spdx_sbom_validates_and_names_every_input() {
  sample
  start_registry reg
  build_sample "$REG/app:1" --sbom
  assert_eq "$RC" 0 "build --sbom ($ERR)"
  local digest=$OUT
  assert_contains "$ERR" "sbom   linux/amd64"
  assert_contains "$ERR" "(tag schema)"
  run_gantry sbom "$REG/app:1" --store "$(store)"
  assert_eq "$RC" 0 "gantry sbom ($ERR)"
  printf '%s\n' "$OUT" > sbom.spdx.json
  pyspdxtools -i sbom.spdx.json > validate.txt 2>&1 || fail "pyspdxtools rejected the SBOM: $(tail -20 validate.txt)"
  python3 - sbom.spdx.json "$digest" "$MODEL_SHA" <<'PY' || fail "SBOM content"
import json, sys
doc = json.load(open(sys.argv[1])); digest, model = sys.argv[2], sys.argv[3]
packages = {p["SPDXID"]: p for p in doc["packages"]}
purls = [r["referenceLocator"] for p in doc["packages"] for r in p.get("externalRefs", [])]
assert packages["SPDXRef-Image"]["checksums"][0]["checksumValue"] == digest.split(":")[1]
assert "pkg:pypi/flask@3.1.3" in purls and "pkg:pypi/gunicorn@23.0.0" in purls, purls
assert any(p.startswith("pkg:deb/debian/python3.11@") for p in purls), "no python3.11 deb"
assert any(p.startswith("pkg:deb/debian/libc6@") for p in purls), "no libc6 deb"
flask = next(p for p in doc["packages"] if p["name"] == "Flask")
assert flask.get("licenseDeclared") == "BSD-3-Clause" or "licenseComments" in flask, flask
model_package = packages["SPDXRef-Model"]
assert model_package["checksums"][0]["checksumValue"] == model, model_package
assert model_package["licenseDeclared"] == "Apache-2.0", model_package
layers = [p for p in doc["packages"] if p["SPDXID"].startswith("SPDXRef-Layer-")]
assert len(layers) == 4, [l["name"] for l in layers]
assert doc["creationInfo"]["created"] == "2023-11-14T22:13:20Z", doc["creationInfo"]
PY
  # The tag schema's index lists it, with its artifact type and subject.
  skopeo inspect --raw --tls-verify=false "docker://$REG/app:${digest/:/-}" > referrers.json
  assert_eq "$(json referrers.json '[m["artifactType"] for m in d["manifests"]]')" "['application/spdx+json']"
  skopeo inspect --raw --tls-verify=false "docker://$REG/app@$(json referrers.json 'd["manifests"][0]["digest"]')" > artifact.json
  assert_eq "$(json artifact.json 'd["subject"]["digest"]')" "$digest"
  assert_eq "$(json artifact.json 'd["config"]["mediaType"]')" "application/vnd.oci.empty.v1+json"
  # Same inputs, same bytes: a second push of the same build attaches the same SBOM.
  build_sample "$REG/app:again" --sbom
  assert_eq "$(json referrers.json 'd["manifests"][0]["digest"]')" \
    "$(skopeo inspect --raw --tls-verify=false "docker://$REG/app:${digest/:/-}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifests"][0]["digest"])')" "the SBOM's digest"
}

test_cyclonedx_sbom_validates_against_its_schema() {
  sample
  start_registry reg
  build_sample "$REG/app:1" --sbom --sbom-format cyclonedx
  assert_eq "$RC" 0 "build ($ERR)"
  run_gantry sbom "$REG/app:1" --format cyclonedx --store "$(store)"
  printf '%s\n' "$OUT" > sbom.cdx.json
  python3 - sbom.cdx.json "$MODEL_SHA" <<'PY' || fail "CycloneDX"
import json, sys
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
text = open(sys.argv[1]).read()
error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
assert error is None, error
doc = json.loads(text)
model = next(c for c in doc["components"] if c["type"] == "machine-learning-model")
assert model["hashes"][0]["content"] == sys.argv[2], model
assert any(c.get("purl") == "pkg:pypi/flask@3.1.3" for c in doc["components"])
PY
  expect_failure 66 "has no SPDX 2.3 attached" sbom "$REG/app:1" --format spdx --store "$(store)"
}

test_provenance_is_a_signed_dsse_envelope_verified_by_securesystemslib_and_openssl() {
  sample
  start_registry reg
  run_gantry key generate --output k
  # The model comes over HTTP with a secret in its query: it must appear nowhere.
  mkdir models && cp "$SHARED/classifier.json" models/model.json
  local port; port=$(free_port)
  (cd models && exec python3 -m http.server "$port" --bind 127.0.0.1 > /dev/null 2>&1) &
  SERVICE_PIDS="$SERVICE_PIDS $!"; wait_for_port "$port"
  MODEL="http://127.0.0.1:$port/model.json?sv=2024-01-01&sig=TOPSECRETSIG" build_sample "$REG/app:1" --sbom --provenance --sign k.key
  assert_eq "$RC" 0 "build ($ERR)"
  local digest=$OUT
  assert_contains "$ERR" "SLSA v1, signed"
  skopeo inspect --raw --tls-verify=false "docker://$REG/app:${digest/:/-}" > referrers.json
  local provenance
  provenance=$(json referrers.json '[m["digest"] for m in d["manifests"] if m["artifactType"] == "application/vnd.in-toto+json"][0]')
  skopeo copy -q --src-tls-verify=false "docker://$REG/app@$provenance" "oci:prov:p" 2>/dev/null \
    || fail "skopeo cannot copy the provenance artifact"
  python3 - prov k.pub "$digest" "$MODEL_SHA" <<'PY' || fail "provenance"
import base64, json, sys
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
layout, pub, digest, model = sys.argv[1:]
def blob(d): return open(f"{layout}/blobs/sha256/{d.split(':')[1]}", "rb").read()
manifest = json.loads(blob(json.load(open(f"{layout}/index.json"))["manifests"][0]["digest"]))
envelope_bytes = blob(manifest["layers"][0]["digest"])
envelope = Envelope.from_dict(json.loads(envelope_bytes))
signatures = envelope.signatures
keyid = next(iter(signatures)) if isinstance(signatures, dict) else signatures[0].keyid
key = SSlibKey.from_crypto(load_pem_public_key(open(pub, "rb").read()), keyid=keyid, scheme="ecdsa-sha2-nistp256")
envelope.verify([key], 1)
statement = json.loads(envelope.payload)
assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
assert statement["subject"][0]["digest"]["sha256"] == digest.split(":")[1]
deps = {d["name"]: d for d in statement["predicate"]["buildDefinition"]["resolvedDependencies"]}
assert deps["model"]["digest"]["sha256"] == model, deps
# The model's source is named, its SAS signature is not.
assert deps["model"]["uri"].startswith("http://127.0.0.1:") and "/model.json" in deps["model"]["uri"], deps["model"]
assert "TOPSECRETSIG" not in deps["model"]["uri"], deps["model"]
assert "python requirements" in deps, deps
open("pae.bin", "wb").write(envelope.pae())
open("sig.der", "wb").write(base64.b64decode(json.loads(envelope_bytes)["signatures"][0]["sig"]))
PY
  assert_eq "$(openssl dgst -sha256 -verify k.pub -signature sig.der pae.bin)" "Verified OK"
  # No secret anywhere: the SBOM, the provenance, the output.
  run_gantry sbom "$REG/app:1" --store "$(store)"
  assert_contains "$OUT" "machine-learning model from http://127.0.0.1:$port/model.json"
  for text in "$OUT" "$ERR" "$(cat prov/blobs/sha256/*)"; do
    case "$text" in *TOPSECRETSIG*) fail "the model's SAS signature leaked" ;; esac
  done
  run_gantry inspect "$REG/app:1" --referrers --store "$(store)"
  assert_contains "$OUT" "referrers of ${digest:0:19}: 2, 1 cosign signature"
  assert_contains "$OUT" "application/vnd.in-toto+json (https://slsa.dev/provenance/v1)"
}

test_a_registry_with_the_referrers_api_lists_attachments_without_the_tag() {
  sample
  start_registry reg
  start_referrers_front
  build_sample "$FRONT/app:1" --sbom --provenance
  assert_eq "$RC" 0 "build ($ERR)"
  local digest=$OUT
  assert_contains "$ERR" "(referrers API)"
  assert_eq "$(grep -c "PUT /v2/app/manifests/${digest/:/-} " "$FRONT_LOG" || true)" 0 "tag-schema index PUTs"
  [ "$(grep -c "GET /v2/app/referrers/$digest" "$FRONT_LOG")" -ge 1 ] || fail "the referrers API was not asked"
  run_gantry sbom "$FRONT/app:1" --store "$(store)"
  assert_eq "$RC" 0 "gantry sbom through the referrers API ($ERR)"
  printf '%s\n' "$OUT" > sbom.json
  pyspdxtools -i sbom.json > /dev/null 2>&1 || fail "pyspdxtools"
  skopeo inspect --raw --tls-verify=false "docker://$REG/app:${digest/:/-}" > /dev/null 2>&1 && fail "a tag-schema index exists"
  return 0
}

test_an_oci_layout_output_holds_the_attachments_as_referrers() {
  sample
  SOURCE_DATE_EPOCH=1700000000 run_gantry build -f sample/gantry.yaml --store "$SHARED/store" --base "$BASE" \
    --model "$SHARED/classifier.json" --output "oci:$T/out:app" --sbom --provenance
  assert_eq "$RC" 0 "build ($ERR)"
  local digest=$OUT
  assert_contains "$ERR" "(in oci:$T/out:app)"
  # The image is still what the tag names; skopeo reads it as before.
  assert_eq "$(inspect_digest "oci:$T/out:app")" "$digest"
  python3 - "$T/out" "$digest" "$REPO_ROOT/../shared/tools" <<'PY' || fail "referrers in the layout"
import json, sys
layout, digest, tools = sys.argv[1:]
sys.path.insert(0, tools)
from oci_check import load_validators
manifest_schema = load_validators()["manifest"]
def blob(d): return open(f"{layout}/blobs/sha256/{d.split(':')[1]}", "rb").read()
index = json.load(open(f"{layout}/index.json"))
artifacts = [m for m in index["manifests"] if m.get("artifactType")]
assert sorted(m["artifactType"] for m in artifacts) == ["application/spdx+json", "application/vnd.in-toto+json"], artifacts
for descriptor in artifacts:
    manifest = json.loads(blob(descriptor["digest"]))
    errors = list(manifest_schema.iter_errors(manifest))
    assert not errors, errors[0].message
    assert manifest["subject"]["digest"] == digest and manifest["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    if descriptor["artifactType"] == "application/spdx+json":
        open("layout-sbom.json", "wb").write(blob(manifest["layers"][0]["digest"]))
PY
  pyspdxtools -i layout-sbom.json > /dev/null 2>&1 || fail "pyspdxtools rejected the layout's SBOM"
}

test_attachments_need_a_push_or_a_layout() {
  sample
  expect_failure 64 "--sbom needs --push or an --output oci:DIR" build -f sample/gantry.yaml --store "$(store)" --base scratch --sbom
  expect_failure 64 "--provenance needs --push or an --output oci:DIR" build -f sample/gantry.yaml --store "$(store)" --base scratch \
    --provenance --output "oci-archive:$T/x.tar"
}

run_tests
