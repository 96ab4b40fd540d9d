#!/usr/bin/env bash
# gantry deploy and resolve: manifests validated by kubernetes-validate and pinned
# by golden files; the real kubectl pointed at a fake API server that records what
# it is asked; failures (no kubectl, unreachable cluster, rollout timeout,
# unresolvable image); and the CI templates' own gantry lines against local services.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
GOLDEN="$REPO_ROOT/Tests/integration/golden/k8s"

push_sample_image() {  # a small image with a fixed digest, pushed to $REG/team/flask-app:1
  mkdir -p img && printf 'print("hi")\n' > img/app.py
  run_gantry build --store "$(store)" --layer img:/app --user 1000:1000 --port 8080 --push "$REG/team/flask-app:1" --quiet
  assert_eq "$RC" 0 "push ($ERR)"
  DIGEST=$OUT
}

test_manifests_validate_and_match_golden_files() {
  start_registry reg
  push_sample_image
  run_gantry deploy "$REG/team/flask-app:1" -f "$REPO_ROOT/fixtures/flask-app/gantry.yaml" --store "$(store)" --output out --set env.LOG_LEVEL=info
  assert_eq "$RC" 0 "render ($ERR)"
  for version in 1.30.0 1.32.0 1.35.0 1.36.0 1.37.0; do
    kubernetes-validate -k "$version" --strict --quiet out/*.yaml || fail "kubernetes-validate $version rejected the manifests"
  done
  grep -q "image: \"$REG/team/flask-app@$DIGEST\"" out/deployment.yaml || fail "the image is not pinned by digest"
  for file in deployment.yaml service.yaml hpa.yaml; do
    sed "s/$REG/REGISTRY/g" "out/$file" > "normalized-$file"
    if [ "${UPDATE_GOLDEN:-}" = 1 ]; then cp "normalized-$file" "$GOLDEN/$file"; fi
    diff -u "$GOLDEN/$file" "normalized-$file" || fail "$file differs from its golden file (UPDATE_GOLDEN=1 to accept)"
  done
  # --dry-run prints the same documents and touches no cluster
  run_gantry deploy "$REG/team/flask-app:1" -f "$REPO_ROOT/fixtures/flask-app/gantry.yaml" --store "$(store)" --dry-run --set env.LOG_LEVEL=info --kubeconfig /nonexistent
  assert_eq "$RC" 0 "dry run ($ERR)"
  assert_contains "$OUT" "$(head -5 out/deployment.yaml | tail -1)"
  assert_eq "$(printf '%s\n' "$OUT" | grep -c '^kind: ')" 3 "documents printed"
}

test_kubectl_applies_server_side_and_waits_for_the_rollout() {
  start_registry reg
  push_sample_image
  start_kube_api --rollout ready
  export GANTRY_REGISTRY_USERNAME=puller GANTRY_REGISTRY_PASSWORD='pu11-Secret'
  run_gantry deploy --store "$(store)" --kubeconfig "$T/kubeconfig" --name web --namespace prod --replicas 3 --create-pull-secret regcred
  assert_eq "$RC" 0 "deploy ($ERR)"
  assert_eq "$OUT" "$REG/team/flask-app@$DIGEST" "deploys the last push, pinned"
  kube_requests PATCH /apis/apps/v1/namespaces/prod/deployments/web > deployment.json
  assert_eq "$(wc -l < deployment.json)" 1 "server-side apply of the Deployment"
  python3 - "$REG/team/flask-app@$DIGEST" <<'PY' || fail "the applied Deployment is not what gantry rendered"
import json, sys
d = json.loads(open("deployment.json").readline())
assert d["query"]["fieldManager"] == ["gantry"], d["query"]
assert d["content_type"].startswith("application/apply-patch+yaml"), d["content_type"]
body = json.loads(d["body"])
container = body["spec"]["template"]["spec"]["containers"][0]
assert container["image"] == sys.argv[1], container["image"]
assert body["spec"]["replicas"] == 3
assert body["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": "regcred"}]
PY
  [ "$(kube_requests PATCH /api/v1/namespaces/prod/services/web | wc -l)" -eq 1 ] || fail "the Service was not applied"
  kube_requests PATCH /api/v1/namespaces/prod/secrets/regcred > secret.json
  python3 - "$REG" <<'PY' || fail "the pull secret does not carry gantry's registry credentials"
import base64, json, sys
d = json.loads(open("secret.json").readline())
body = json.loads(d["body"])
assert body["type"] == "kubernetes.io/dockerconfigjson"
config = json.loads(base64.b64decode(body["data"][".dockerconfigjson"]))
entry = config["auths"][sys.argv[1]]
assert (entry["username"], entry["password"]) == ("puller", "pu11-Secret"), entry
PY
  [ "$(kube_requests GET /apis/apps/v1/namespaces/prod/deployments | wc -l)" -ge 1 ] || fail "kubectl rollout status never read the Deployment"
  assert_contains "$ERR" "successfully rolled out"
  case "$OUT$ERR" in *pu11-Secret*|*cHVsbGVyOnB1MTEtU2VjcmV0*) fail "the registry password appeared in the output" ;; esac
}

test_rollout_timeout_shows_the_pods_events() {
  start_registry reg
  push_sample_image
  start_kube_api --rollout stuck
  expect_failure 75 "did not roll out within 3s" deploy --store "$(store)" --kubeconfig "$T/kubeconfig" --timeout 3
  assert_contains "$ERR" "Failed to pull image: not found" "the failing pod's event"
  assert_contains "$ERR" "ImagePullBackOff"
}

test_missing_kubectl_unreachable_cluster_and_unresolvable_image() {
  start_registry reg
  push_sample_image
  mkdir emptybin
  set +e
  ERR=$(env PATH="$T/emptybin" "$GANTRY" deploy --store "$(store)" 2>&1 >/dev/null); RC=$?
  set -e
  assert_eq "$RC" 69 "no kubectl ($ERR)"
  assert_contains "$ERR" "kubectl not found on PATH"
  local port; port=$(free_port)
  printf 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:%s"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n' "$port" > dead.kubeconfig
  expect_failure 69 "kubectl apply failed" deploy --store "$(store)" --kubeconfig "$T/dead.kubeconfig" --timeout 5
  assert_contains "$ERR" "check --kubeconfig/--context"
  expect_failure 66 "image $REG/team/nothing:1 does not resolve to a digest" deploy "$REG/team/nothing:1" --store "$(store)" --dry-run
  expect_failure 64 "unknown deploy key 'replica'" deploy --store "$(store)" --dry-run --set replica=3
}

test_resolve_pins_image_references_in_yaml() {
  start_registry reg
  push_sample_image
  cat > app.yaml <<YAML
# keep me
apiVersion: v1
kind: Pod
spec:
  containers:
    - name: a
      image: $REG/team/flask-app:1   # the app
    - name: b
      image: "$REG/team/flask-app:1"
    - name: c
      image: $REG/team/flask-app@$DIGEST
YAML
  run_gantry resolve -f app.yaml --store "$(store)"
  assert_eq "$RC" 0 "resolve ($ERR)"
  assert_eq "$(printf '%s\n' "$OUT" | grep -c "image: \"\?$REG/team/flask-app@$DIGEST")" 3 "pinned references"
  assert_contains "$OUT" "# the app"
  assert_contains "$OUT" "# keep me"
  printf 'spec:\n  image: %s/team/missing:2\n' "$REG" > bad.yaml
  expect_failure 66 "bad.yaml:2: image $REG/team/missing:2 cannot be resolved" resolve -f bad.yaml --store "$(store)"
}

test_ci_templates_commands_run_against_local_services() {
  local base; base=$("$REPO_ROOT/scripts/make-python-base")
  start_registry reg
  mkdir -p blobs/models staging agent-temp
  python3 "$REPO_ROOT/fixtures/flask-app/model/train.py" blobs/models/classifier.json > /dev/null
  local key; key=$(head -c 32 /dev/urandom | base64)
  start_blob_server blobs --key "$key"
  start_kube_api --rollout ready
  run_gantry build --store "$T/base-store" --base "rootfs:$base" --push "$REG/base/python:3.11" --quiet
  assert_eq "$RC" 0 "base push ($ERR)"
  cp "$T/kubeconfig" agent-temp/kubeconfig
  # The release, served as the team's GANTRY_RELEASE_URL would serve it.
  local dist; dist=$(release_dist) || fail "scripts/release failed"
  local version; version=$(sed -n 's/.*static let number = "\(.*\)"/\1/p' "$REPO_ROOT/Sources/SystemSupport/GantryVersion.swift")
  mkdir -p "releases/v$version" && cp "$dist/gantry-$version-linux-amd64.tar.gz" "releases/v$version/"
  local sha; sha=$(awk -v f="gantry-$version-linux-amd64.tar.gz" '$2 == f {print $1}' "$dist/SHA256SUMS")
  local release_port; release_port=$(free_port)
  python3 -m http.server -b 127.0.0.1 "$release_port" -d releases > release-server.log 2>&1 &
  SERVICE_PIDS="$SERVICE_PIDS $!"
  wait_for_port "$release_port"
  # what the CI agent checks out: the paths in the templates are relative to it
  mkdir checkout && cp -r "$REPO_ROOT/fixtures" checkout/
  for template in azure-pipelines.yml github-actions.yml; do
    grep -q "GANTRY_VERSION: \"$version\"" "$REPO_ROOT/templates/ci/$template" || fail "$template does not pin gantry $version"
    # The template's install step, run as the agent would: download, checksum, unpack.
    sed -n '/# gantry-install: begin/,/# gantry-install: end/p' "$REPO_ROOT/templates/ci/$template" \
      | sed 's/^ *//; s|$(Agent.TempDirectory)|$RUNNER_TEMP|g' > "install-$template.sh"
    rm -rf "$T/home-$template" && mkdir -p "$T/home-$template" "$T/runner-temp"
    HOME="$T/home-$template" RUNNER_TEMP="$T/runner-temp" GANTRY_VERSION="$version" GANTRY_SHA256="$sha" \
      GANTRY_RELEASE_URL="http://127.0.0.1:$release_port" bash -euo pipefail "install-$template.sh" > install.log 2>&1 \
      || fail "$template's install step: $(tail -5 install.log)"
    # A checksum that is not the tarball's stops the install.
    HOME="$T/home-bad" RUNNER_TEMP="$T/runner-temp" GANTRY_VERSION="$version" GANTRY_SHA256="$(printf '0%.0s' $(seq 64))" \
      GANTRY_RELEASE_URL="http://127.0.0.1:$release_port" bash -euo pipefail "install-$template.sh" > bad-install.log 2>&1 \
      && fail "$template's install step accepted a wrong checksum"
    local installed="$T/home-$template/.local/bin"
    "$installed/gantry" --version | grep -q "gantry $version" || fail "the installed gantry does not run: $("$installed/gantry" --version 2>&1 | head -3)"
    # The gantry lines of the template, with the CI system's macros mapped to local paths.
    python3 - "$REPO_ROOT/templates/ci/$template" "$T" > "$template.sh" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
lines = [l.strip() for l in text.splitlines() if re.match(r"^\s+gantry ", l)]
for line in lines:
    line = line.replace("$(Build.ArtifactStagingDirectory)", sys.argv[2] + "/staging")
    line = line.replace("$(Agent.TempDirectory)", sys.argv[2] + "/agent-temp")
    line = line.replace("$(Common.TestResultsDirectory)", sys.argv[2] + "/staging")
    print(line)
    if "--digest-ref-file" in line:
        ref_file = re.search(r'--digest-ref-file "?([^" ]+)', line).group(1)
        print(f'IMAGE_REF="$(cat {ref_file})"')
PY
    [ "$(grep -c '^gantry ' "$template.sh")" -eq 3 ] || fail "$template: expected lock --check, build+push and deploy lines: $(cat "$template.sh")"
    grep -q -- '^gantry build --locked' "$template.sh" || fail "$template: the build does not use the lock"
    grep -q -- '--cache-repo' "$template.sh" || fail "$template: the build does not use the registry layer cache"
    grep -q -- '--test --junit' "$template.sh" || fail "$template: the build does not test the image before pushing it"
    (
      cd "$T/checkout"
      export PATH="$installed:$PATH" GANTRY_STORE="$T/ci-store-$template" MODEL_SOURCE=az://gantrydemo/models/classifier.json \
        AZURE_STORAGE_BLOB_ENDPOINT="http://127.0.0.1:$BLOB_PORT/gantrydemo" AZURE_STORAGE_ACCOUNT=gantrydemo AZURE_STORAGE_KEY="$key" \
        BASE_IMAGE="$REG/base/python:3.11" REGISTRY="$REG" GANTRY_REGISTRY="$REG" IMAGE_TAG="ci-1" NAMESPACE=default \
        GANTRY_RECIPE=fixtures/flask-app/gantry.yaml APP_NAME=flask-app \
        KUBECONFIG="$T/kubeconfig" GANTRY_REGISTRY_USERNAME=ci GANTRY_REGISTRY_PASSWORD=ci-Pass
      [ "$(command -v gantry)" = "$installed/gantry" ] || fail "the installed gantry is not the one on PATH"
      # The team's committed lock, made as a developer would (the template checks it, then builds it).
      gantry lock -f "$GANTRY_RECIPE" --base "$BASE_IMAGE" --model "$MODEL_SOURCE" --store "$GANTRY_STORE" > "$T/$template.lock.out" 2>&1
      bash -euo pipefail "$T/$template.sh" > "$T/$template.out" 2>&1
    ) || fail "$template's gantry commands failed: $(tail -5 "$T/$template.out")"
    grep -q "checks passed" "$T/$template.out" || fail "$template: gantry test did not run: $(tail -5 "$T/$template.out")"
    python3 -c "from junitparser import JUnitXml; import sys; x = JUnitXml.fromfile(sys.argv[1]); assert x.tests >= 6 and x.failures == 0, (x.tests, x.failures)" \
      "$(ls "$T/staging/gantry-test.xml" "$T/checkout/gantry-test.xml" 2>/dev/null | head -1)" || fail "$template: no passing JUnit report"
    rm -f "$T/staging/gantry-test.xml" "$T/checkout/gantry-test.xml"
    skopeo list-tags --tls-verify=false --creds ci:ci-Pass "docker://$REG/cache/flask-app" | grep -q '"layer-' \
      || fail "$template's build recorded nothing in the layer cache"
    kube_requests PATCH /deployments/flask-app | tail -1 > "$template.deploy.json"
    grep -q "$REG/flask-app@sha256:" "$template.deploy.json" || fail "$template did not deploy the pushed image by digest"
  done
}

run_tests
