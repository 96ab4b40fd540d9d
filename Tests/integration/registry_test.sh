#!/usr/bin/env bash
# Pushing to and pulling from a real registry (Debian's docker-registry), checked
# with skopeo and the registry's own access log.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

make_app() {  # DIR [MiB of random data]
  mkdir -p "$1"
  printf 'print("hello")\n' > "$1/app.py"
  [ "${2:-0}" -gt 0 ] && head -c $(( $2 * 1048576 )) /dev/urandom > "$1/weights.bin"
  return 0
}

test_push_then_skopeo_sees_the_same_image() {
  start_registry reg
  make_app app 3
  run_gantry build --store "$(store)" --layer app:/app --push "$REG/team/app:v1" --push-tag latest
  assert_eq "$RC" 0 "build --push ($ERR)"
  local digest=$OUT
  assert_eq "$(inspect_digest --tls-verify=false "docker://$REG/team/app:v1")" "$digest" "skopeo sees the pushed tag"
  assert_eq "$(inspect_digest --tls-verify=false "docker://$REG/team/app:latest")" "$digest" "extra tag"
  skopeo copy -q --src-tls-verify=false "docker://$REG/team/app:v1" oci:copy:v1
  assert_eq "$(inspect_digest oci:copy:v1)" "$digest" "copied back with the same digest"
  # Pushing the same image again sends no blob and asks about none: the store
  # remembers what this repository accepted (the manifest PUT verifies it).
  local before; before=$(wc -l < "$T/reg.log")
  run_gantry push "$REG/team/app:v1" --store "$(store)" --json
  assert_eq "$RC" 0 "second push ($ERR)"
  tail -n +$((before + 1)) "$T/reg.log" > second.log
  assert_eq "$(count_requests second.log POST /blobs/uploads)" 0 "upload sessions on the second push"
  assert_eq "$(count_requests second.log PATCH /blobs/uploads)" 0 "PATCH on the second push"
  assert_eq "$(count_requests second.log HEAD /blobs/)" 0 "HEAD requests on the second push"
  echo "$OUT" > result.json
  assert_eq "$(json result.json 'sorted(set(b["action"] for b in d["blobs"]))')" "['present']" "--json blob actions"
  assert_eq "$(json result.json 'd["digest"]')" "$digest"
  # A blob the registry lost is noticed at the manifest PUT and sent again.
  local layer; layer=$(skopeo inspect --tls-verify=false --raw "docker://$REG/team/app:v1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])')
  curl -fsS -o /dev/null -X DELETE "http://$REG/v2/team/app/blobs/$layer" || fail "could not delete the layer from the registry"
  before=$(wc -l < "$T/reg.log")
  run_gantry push "$REG/team/app:v2" --store "$(store)"
  assert_eq "$RC" 0 "push after the registry lost a blob ($ERR)"
  tail -n +$((before + 1)) "$T/reg.log" > third.log
  grep -E '"PUT /v2/team/app/manifests/[^"]*" 400' third.log > /dev/null || fail "the first manifest PUT was not refused"
  assert_eq "$(count_requests third.log PUT "/v2/team/app/blobs/uploads/.*digest=$layer")" 1 "the lost layer sent again"
  skopeo copy -q --src-tls-verify=false "docker://$REG/team/app:v2" oci:copy:v2
  assert_eq "$(inspect_digest oci:copy:v2)" "$digest" "copied back after the repair"
}

test_big_layer_goes_up_in_chunks() {
  start_registry reg
  make_app app 100
  run_gantry build --store "$(store)" --layer app:/models --push "$REG/models/big:1" --chunk-size 16 --verbose
  assert_eq "$RC" 0 "build --push ($ERR)"
  local patches; patches=$(count_requests "$T/reg.log" PATCH /blobs/uploads)
  [ "$patches" -ge 6 ] || fail "100 MB in 16 MiB chunks took $patches PATCH requests"
  # Build and push overlap: chunks go up while the layer is written, and the push
  # after the build finds the layer there (one upload session for it, no second).
  echo "$ERR" | grep -E '^(http: PATCH|layer  /models)' | head -1 | grep -q '^http: PATCH' \
    || fail "no chunk went up before the layer was built: $ERR"
  assert_contains "$ERR" "already there"
  assert_eq "$(count_requests "$T/reg.log" POST /v2/models/big/blobs/uploads/)" 2 "upload sessions (the streamed layer, the config)"
  skopeo copy -q --src-tls-verify=false "docker://$REG/models/big:1" oci:copy:1
  assert_eq "$(inspect_digest oci:copy:1)" "$OUT" "digest after a chunked upload"
}

test_base_from_registry_is_mounted_not_uploaded() {
  start_registry reg
  make_app base 5 && make_app app
  run_gantry build --store "$T/base-store" --layer base:/base --env BASE=1 --push "$REG/base/python:1"
  assert_eq "$RC" 0 "base push ($ERR)"
  local base_layer; base_layer=$(skopeo inspect --tls-verify=false --raw "docker://$REG/base/python:1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])')
  run_gantry build --store "$(store)" --base "$REG/base/python:1" --layer app:/app --push "$REG/apps/web:1"
  assert_eq "$RC" 0 "app build on a registry base ($ERR)"
  assert_eq "$(count_requests "$T/reg.log" POST "/v2/apps/web/blobs/uploads/\\?mount=$base_layer&from=base/python")" 1 "mount request"
  grep -E "\"POST /v2/apps/web/blobs/uploads/\?mount=$base_layer[^\"]*\" 201" "$T/reg.log" > /dev/null || fail "the mount was not answered 201"
  assert_eq "$(count_requests "$T/reg.log" PUT "/v2/apps/web/blobs/uploads/.*digest=$base_layer")" 0 "base layer uploaded again"
  skopeo inspect --tls-verify=false --raw "docker://$REG/apps/web:1" > manifest.json
  assert_eq "$(json manifest.json 'd["annotations"]["org.opencontainers.image.base.name"]')" "$REG/base/python:1"
  assert_eq "$(json manifest.json 'd["layers"][0]["digest"]')" "$base_layer" "base layer reused"
  skopeo inspect --tls-verify=false --config "docker://$REG/apps/web:1" > config.json
  assert_eq "$(json config.json 'd["config"]["Env"]')" "['BASE=1']" "base config inherited"
  run_gantry inspect "$REG/apps/web:1" --store "$(store)"
  assert_eq "$RC" 0 "inspect ($ERR)"
  assert_contains "$OUT" "annotation: org.opencontainers.image.base.name=$REG/base/python:1"
  assert_contains "$OUT" "layers:     2"
  # The build never downloaded the base layer: only the manifest and config.
  assert_eq "$(count_requests "$T/reg.log" GET "/v2/base/python/blobs/$base_layer")" 0 "base layer downloaded by the build"
  run_gantry store ls --store "$(store)" --json
  echo "$OUT" > ls.json
  assert_eq "$(json ls.json '[i["inRegistry"] for i in d["images"] if i["tag"] == "gantry:last-build"][0]')" "['$base_layer']" "store ls: base layer in the registry"
  assert_eq "$(json ls.json '[i["missing"] for i in d["images"] if i["tag"] == "gantry:last-build"][0]')" "[]" "store ls: nothing missing"
  run_gantry store check --store "$(store)"
  assert_eq "$RC" 0 "store check with the base layer left in the registry ($ERR)"
  # What needs the bytes fetches them, verified: a push to another registry, an oci: output.
  local first=$REG; start_registry reg2; local other=$REG; REG=$first
  run_gantry push "$REG/apps/web:2" --store "$(store)" --quiet
  assert_eq "$RC" 0 "push to the same registry again ($ERR)"
  assert_eq "$(count_requests "$T/reg.log" GET "/v2/base/python/blobs/$base_layer")" 0 "base layer downloaded for a push to its own registry"
  run_gantry push "$other/copies/web:1" --store "$(store)" --quiet
  assert_eq "$RC" 0 "push to another registry ($ERR)"
  assert_eq "$(count_requests "$T/reg.log" GET "/v2/base/python/blobs/$base_layer")" 1 "base layer fetched once for another registry"
  skopeo copy -q --src-tls-verify=false "docker://$other/copies/web:1" oci:other:1
  python3 "$ORACLE" other > /dev/null || fail "oci_check refused the image pushed to the other registry"
  run_gantry build --store "$T/fresh-store" --base "$REG/base/python:1" --layer app:/app --output oci:out:1
  assert_eq "$RC" 0 "build to an oci: layout on a registry base ($ERR)"
  python3 "$ORACLE" out > /dev/null || fail "oci_check refused the layout built on a registry base"
}

test_cache_repo_lets_a_fresh_agent_skip_unchanged_layers() {
  start_registry reg
  mkdir -p root/models app && head -c 30000000 /dev/urandom > root/models/w.bin && echo 'print(1)' > app/app.py
  start_blob_server root
  local model="http://127.0.0.1:$BLOB_PORT/gantrydemo/models/w.bin" cache="$REG/cache/app"
  run_gantry build --store "$T/agent1" --layer app:/app --model "$model" --cache-repo "$cache" --push "$REG/apps/web:1"
  assert_eq "$RC" 0 "first agent ($ERR)"
  # A one-line change on a fresh agent: the model is neither downloaded nor uploaded.
  echo 'print(2)' > app/app.py
  : > "$BLOB_LOG"
  local before; before=$(wc -l < "$T/reg.log")
  run_gantry build --store "$T/agent2" --layer app:/app --model "$model" --cache-repo "$cache" --push "$REG/apps/web:2"
  assert_eq "$RC" 0 "fresh agent ($ERR)"
  local digest=$OUT
  assert_contains "$ERR" "(unchanged; its layer is in the registry cache, not downloaded)"
  echo "$ERR" | grep -E '^layer  /models/w.bin .*cached \(registry\)$' > /dev/null || fail "model layer not from the registry cache: $ERR"
  echo "$ERR" | grep -E '^layer  /app .*built' > /dev/null || fail "the changed app layer was not built: $ERR"
  grep -q '^GET ' "$BLOB_LOG" && fail "the model was downloaded: $(cat "$BLOB_LOG")"
  tail -n +$((before + 1)) "$T/reg.log" > agent2.log
  local model_layer; model_layer=$(skopeo inspect --tls-verify=false --raw "docker://$REG/apps/web:2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])')
  assert_eq "$(count_requests agent2.log PATCH /blobs/uploads)" 0 "chunks uploaded by the fresh agent"
  assert_eq "$(count_requests agent2.log PUT "/v2/apps/web/blobs/uploads/.*digest=$model_layer")" 0 "model layer uploaded again"
  # Rebuilt on that agent unchanged: one HEAD asks the source for its version, nothing more.
  : > "$BLOB_LOG"
  run_gantry build --store "$T/agent2" --layer app:/app --model "$model" --cache-repo "$cache" --push "$REG/apps/web:2"
  assert_eq "$RC" 0 "rebuild on the second agent ($ERR)"
  assert_eq "$(grep -c . "$BLOB_LOG")" 1 "requests to the model source on an unchanged rebuild: $(cat "$BLOB_LOG")"
  # The same image as a build that has everything locally.
  run_gantry build --store "$T/plain" --layer app:/app --model "$model" --quiet
  assert_eq "$OUT" "$digest" "digest with and without the registry cache"
  # Another repository mounts the cached layers; an oci: output fetches their bytes, verified.
  run_gantry build --store "$T/agent3" --layer app:/app --model "$model" --cache-repo "$cache" --push "$REG/apps/other:1" --output oci:out:1
  assert_eq "$RC" 0 "fresh agent pushing elsewhere ($ERR)"
  grep -E "\"POST /v2/apps/other/blobs/uploads/\?mount=$model_layer&from=cache/app[^\"]*\" 201" "$T/reg.log" > /dev/null || fail "the model layer was not mounted from the cache"
  python3 "$ORACLE" out > /dev/null || fail "oci_check refused the layout built from cached layers"
  # Agents writing at once lose no entry: each key is a tag of its own.
  mkdir app1 app2 && echo 'print("one")' > app1/app.py && echo 'print("two")' > app2/app.py
  "$GANTRY" build --store "$T/agent4" --layer app1:/app --cache-repo "$cache" --push "$REG/apps/one:1" --quiet > /dev/null 2>&1 &
  local first=$!
  "$GANTRY" build --store "$T/agent5" --layer app2:/app --cache-repo "$cache" --push "$REG/apps/two:1" --quiet > /dev/null 2>&1 &
  local second=$!
  wait "$first" || fail "concurrent agent 1 failed"
  wait "$second" || fail "concurrent agent 2 failed"
  local n
  for n in 1 2; do
    run_gantry build --store "$T/check$n" --layer "app$n:/app" --cache-repo "$cache"
    assert_eq "$RC" 0 "fresh agent $n ($ERR)"
    echo "$ERR" | grep -E '^layer  /app .*cached \(registry\)$' > /dev/null || fail "entry of concurrent agent $n lost: $ERR"
  done
  expect_failure 64 "must be REGISTRY/REPOSITORY without a tag" build --store "$T/x" --layer app:/app --cache-repo "$REG/cache/app:v1"
}

test_basic_auth_login_and_wrong_credentials() {
  htpasswd -Bbn builder 's3cret-Pa55' > htpasswd
  start_registry reg "auth: {htpasswd: {realm: gantry-test, path: $T/htpasswd}}"
  make_app app
  export DOCKER_CONFIG="$T/docker"
  expect_failure 77 "registry $REG needs a username and password" build --store "$(store)" --layer app:/app --push "$REG/a/b:1"
  set +e
  ERR=$(echo 'wrong-password' | "$GANTRY" login "$REG" -u builder --password-stdin 2>&1); RC=$?
  set -e
  assert_eq "$RC" 77 "login with a wrong password ($ERR)"
  assert_contains "$ERR" "registry $REG refused the credentials"
  assert_no_file "$DOCKER_CONFIG/config.json"
  echo 's3cret-Pa55' | "$GANTRY" login "$REG" -u builder --password-stdin > login.out 2>&1
  assert_eq "$(json "$DOCKER_CONFIG/config.json" "d['auths']['$REG']['auth']")" "$(printf 'builder:s3cret-Pa55' | base64)"
  assert_eq "$(stat -c %a "$DOCKER_CONFIG/config.json")" 600 "config.json mode"
  run_gantry build --store "$(store)" --layer app:/app --push "$REG/a/b:1" --verbose
  assert_eq "$RC" 0 "push with stored credentials ($ERR)"
  GANTRY_REGISTRY_USERNAME=builder GANTRY_REGISTRY_PASSWORD=nope run_gantry push "$REG/a/b:2" --store "$(store)"
  assert_eq "$RC" 77 "wrong credentials from the environment"
  assert_contains "$ERR" "registry $REG refused the credentials"
  for output in "$OUT" "$ERR" "$(cat login.out)"; do
    case "$output" in *s3cret-Pa55*|*YnVpbGRlcjpzM2NyZXQtUGE1NQ*) fail "a secret appeared in the output" ;; esac
  done
}

test_credential_helper_from_docker_config() {
  htpasswd -Bbn helper-user 'h3lper-Pass' > htpasswd
  start_registry reg "auth: {htpasswd: {realm: gantry-test, path: $T/htpasswd}}"
  make_app app
  mkdir -p bin docker
  # docker-credential-<name> protocol: `get`, server URL on stdin, JSON on stdout
  cat > bin/docker-credential-gantrytest <<SH
#!/bin/sh
[ "\$1" = get ] || exit 1
read server
[ "\$server" = "$REG" ] || { echo "credentials not found in native keychain"; exit 1; }
printf '{"ServerURL":"%s","Username":"helper-user","Secret":"h3lper-Pass"}' "\$server"
SH
  chmod +x bin/docker-credential-gantrytest
  printf '{"credHelpers": {"%s": "gantrytest"}}' "$REG" > docker/config.json
  DOCKER_CONFIG="$T/docker" PATH="$T/bin:$PATH" run_gantry build --store "$(store)" --layer app:/app --push "$REG/helper/app:1"
  assert_eq "$RC" 0 "push with a credential helper ($ERR)"
  case "$OUT$ERR" in *h3lper-Pass*) fail "the helper's secret appeared in the output" ;; esac
  # a helper that has nothing for this registry means anonymous, which this registry refuses
  printf '{"credsStore": "gantrytest"}' > docker/config.json
  sed -i "s|$REG|nowhere.invalid|" bin/docker-credential-gantrytest
  DOCKER_CONFIG="$T/docker" PATH="$T/bin:$PATH" run_gantry push "$REG/helper/app:2" --store "$(store)"
  assert_eq "$RC" 77 "no credentials from the store ($ERR)"
}

test_token_auth_reauthenticates_when_tokens_expire() {
  # Tokens last 2 s but claim 300: gantry keeps using one until the registry says 401.
  start_token_server --user ci:tok3n-Pass --ttl 2 --advertise-expires-in 300 --refresh-token refresh-R3fresh --aad-token aad-Acc3ss
  start_registry reg "$(token_auth_yaml)"
  make_app app 24
  export GANTRY_REGISTRY_USERNAME=ci GANTRY_REGISTRY_PASSWORD=tok3n-Pass
  run_gantry build --store "$(store)" --layer app:/app --push "$REG/secure/app:1" --chunk-size 1 --parallel 1 --verbose
  assert_eq "$RC" 0 "push with short-lived tokens ($ERR)"
  local pushed=$OUT
  sleep 2.5
  # the same client, a new push after its cached token died: must re-authenticate, not fail
  run_gantry push "$REG/secure/app:2" --store "$(store)" --verbose
  assert_eq "$RC" 0 "push after expiry ($ERR)"
  local issued; issued=$(grep -c "issued basic" "$TOKEN_LOG")
  [ "$issued" -ge 2 ] || fail "only $issued token(s) issued: no re-authentication happened"
  grep -q '401' <<<"$ERR" || fail "the registry never answered 401 to a stale token"
  for secret in tok3n-Pass refresh-R3fresh aad-Acc3ss; do
    case "$OUT$ERR" in *"$secret"*) fail "secret $secret appeared in the output" ;; esac
  done
  assert_eq "$(inspect_digest --creds ci:tok3n-Pass --tls-verify=false "docker://$REG/secure/app:1")" "$pushed"
  # an identity (refresh) token, as docker's identitytoken or `az acr login --expose-token`
  unset GANTRY_REGISTRY_USERNAME GANTRY_REGISTRY_PASSWORD
  GANTRY_REGISTRY_TOKEN=refresh-R3fresh run_gantry push "$REG/secure/app:3" --store "$(store)" --verbose
  assert_eq "$RC" 0 "push with a refresh token ($ERR)"
  grep -q "issued refresh_token" "$TOKEN_LOG" || fail "the refresh-token grant was not used"
  # an Entra ID token exchanged for a refresh token (ACR's /oauth2/exchange)
  GANTRY_AZURE_ACCESS_TOKEN=aad-Acc3ss run_gantry push "$REG/secure/app:4" --store "$(store)" --verbose
  assert_eq "$RC" 0 "push with an exchanged Entra ID token ($ERR)"
  case "$OUT$ERR" in *refresh-R3fresh*|*aad-Acc3ss*) fail "a token appeared in the output" ;; esac
  GANTRY_REGISTRY_TOKEN=not-valid run_gantry push "$REG/secure/app:5" --store "$(store)"
  assert_eq "$RC" 77 "an invalid refresh token ($ERR)"
  assert_contains "$ERR" "registry $REG refused the credentials"
}

test_mount_under_token_auth_asks_for_both_repositories() {
  start_token_server --user ci:tok3n-Pass
  start_registry reg "$(token_auth_yaml)"
  export GANTRY_REGISTRY_USERNAME=ci GANTRY_REGISTRY_PASSWORD=tok3n-Pass
  make_app base 2 && make_app app
  run_gantry build --store "$T/base-store" --layer base:/base --push "$REG/base/python:1"
  assert_eq "$RC" 0 "base push ($ERR)"
  run_gantry build --store "$(store)" --base "$REG/base/python:1" --layer app:/app --push "$REG/apps/web:1"
  assert_eq "$RC" 0 "app push ($ERR)"
  grep -E '"POST /v2/apps/web/blobs/uploads/\?mount=[^"]*" 201' "$T/reg.log" > /dev/null || fail "the base layer was not mounted under token auth"
  grep -q "repository:apps/web:pull,push repository:base/python:pull" "$TOKEN_LOG" || fail "the token did not cover both repositories: $(cat "$TOKEN_LOG")"
}

test_pushes_survive_resets_errors_and_delays() {
  start_registry reg
  start_fault_proxy "$REG" --seed 7 --reset 0.08 --error 0.12 --delay 0.1
  local i digest ok=0
  for i in $(seq 1 20); do
    mkdir -p "app$i" && head -c 3145728 /dev/urandom > "app$i/data.bin" && echo "$i" > "app$i/n.txt"
    run_gantry build --store "$(store)" --layer "app$i:/app" --push "$PROXY/faults/app$i:1" --chunk-size 1 --quiet
    [ "$RC" -eq 0 ] || fail "push $i failed through the proxy: $ERR"
    digest=$OUT
    # checked against the registry directly, not through the proxy
    skopeo copy -q --src-tls-verify=false "docker://$REG/faults/app$i:1" "oci:copies:app$i"
    assert_eq "$(inspect_digest "oci:copies:app$i")" "$digest" "push $i"
    ok=$((ok + 1))
  done
  assert_eq "$ok" 20 "pushes that ended with a correct image"
  local faults; faults=$(wc -l < "$PROXY_LOG")
  [ "$(grep -c 'fault reset PATCH' "$PROXY_LOG")" -ge 3 ] || fail "too few mid-chunk resets to mean anything ($(grep -c 'fault reset PATCH' "$PROXY_LOG"))"
  echo "    note: $faults faults injected over 20 pushes: $(cut -d' ' -f2 "$PROXY_LOG" | sort | uniq -c | tr -s ' \n' ' ')"
}

test_missing_image_and_unreachable_registry() {
  start_registry reg
  expect_failure 66 "has no manifest" build --store "$(store)" --base "$REG/nothing/here:1" --layer "$T:/x"
  local port; port=$(free_port)
  expect_failure 69 "127.0.0.1:$port" inspect "127.0.0.1:$port/a/b:1" --store "$(store)"
  expect_failure 64 "invalid image reference" push "UPPER/case:1" --store "$(store)"
}

# An index (two platforms) made from two gantry builds; pushed by gantry from an
# oci: layout, read back by skopeo, inspected, used as a base for one platform,
# and deployed (the config a multi-platform image is deployed with).
test_an_index_flows_through_push_inspect_base_and_deploy() {
  start_registry reg
  make_app app
  local arch
  for arch in amd64 arm64; do
    run_gantry build --store "$(store)" --layer app:/app --platform "linux/$arch" --port "$([ $arch = amd64 ] && echo 8080 || echo 9090)" --output "oci:single:$arch"
    assert_eq "$RC" 0 "build for $arch ($ERR)"
  done
  python3 - <<'EOF'
import hashlib, json
index = json.load(open("single/index.json"))
children = []
for entry in index["manifests"]:
    tag = entry["annotations"]["org.opencontainers.image.ref.name"]
    children.append({"mediaType": entry["mediaType"], "digest": entry["digest"], "size": entry["size"],
                     "platform": {"os": "linux", "architecture": tag}})
body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": children},
                  separators=(",", ":")).encode()
digest = hashlib.sha256(body).hexdigest()
open(f"single/blobs/sha256/{digest}", "wb").write(body)
index["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + digest,
                           "size": len(body), "annotations": {"org.opencontainers.image.ref.name": "multi"}})
json.dump(index, open("single/index.json", "w"))
open("index.digest", "w").write("sha256:" + digest)
EOF
  local index; index=$(cat index.digest)
  python3 "$ORACLE" single > /dev/null || fail "oci_check refused the hand-made layout"

  run_gantry push "$REG/team/multi:1" --store "$(store)" --image oci:single:multi
  assert_eq "$RC" 0 "push of an index ($ERR)"
  assert_eq "$OUT" "$REG/team/multi@$index" "pushed reference names the index digest"
  skopeo copy -q --all --src-tls-verify=false "docker://$REG/team/multi:1" oci:back:1
  assert_eq "$(skopeo inspect --raw oci:back:1 | sha256sum | cut -d' ' -f1)" "${index#sha256:}" "skopeo copies the same index back"
  python3 "$ORACLE" back > /dev/null || fail "oci_check refused the index copied back"

  run_gantry inspect "$REG/team/multi:1" --platform linux/arm64 --store "$(store)"
  assert_eq "$RC" 0 "inspect ($ERR)"
  assert_contains "$OUT" "platforms:  linux/amd64, linux/arm64"
  assert_contains "$OUT" "ports:      9090/tcp"

  run_gantry build --store "$T/other-store" --base "$REG/team/multi:1" --platform linux/arm64 --layer app:/more --output oci:onarm
  assert_eq "$RC" 0 "build on the index base ($ERR)"
  assert_eq "$(skopeo inspect --config oci:onarm | json /dev/stdin 'd["architecture"]')" "arm64" "the arm64 manifest was the base"
  expect_failure 66 "has no image for linux/s390x (it has: linux/amd64, linux/arm64)" \
    build --store "$T/other-store" --base "$REG/team/multi:1" --platform linux/s390x --layer app:/more

  run_gantry deploy "$REG/team/multi:1" --store "$(store)" --dry-run
  assert_eq "$RC" 0 "deploy --dry-run ($ERR)"
  assert_contains "$OUT" "image: \"$REG/team/multi@$index\""
  assert_contains "$OUT" "containerPort: 8080"
  run_gantry deploy "$REG/team/multi:1" --store "$(store)" --dry-run --platform linux/arm64
  assert_contains "$OUT" "containerPort: 9090"
}

# One build that pushes, signs and attaches an SBOM and provenance resolves the
# credentials once (a credential helper is a process per lookup) and asks the token
# service once per scope (issue 23; before: 13 helper runs and 15 tokens for 3 scopes).
test_one_credential_lookup_per_registry_and_one_token_per_scope() {
  start_token_server --user ci:tok3n-Pass
  start_registry reg "$(token_auth_yaml)"
  mkdir -p bin docker app; head -c 300000 /dev/urandom > app/data; echo x > app/a.txt
  cat > bin/docker-credential-counting <<SH
#!/bin/sh
[ "\$1" = get ] || exit 1
read server
echo run >> "$T/helper-runs"
printf '{"ServerURL":"%s","Username":"ci","Secret":"tok3n-Pass"}' "\$server"
SH
  chmod +x bin/docker-credential-counting
  printf '{"credHelpers": {"%s": "counting"}}' "$REG" > docker/config.json
  run_gantry key generate --output k
  assert_eq "$RC" 0 "key generate ($ERR)"
  : > "$T/helper-runs"; : > "$TOKEN_LOG"
  DOCKER_CONFIG="$T/docker" PATH="$T/bin:$PATH" run_gantry build --store "$(store)" --base scratch --layer app:/app \
    --push "$REG/team/app:1" --sign k.key --sbom --provenance
  assert_eq "$RC" 0 "build --push --sign --sbom --provenance ($ERR)"
  local runs tokens scopes
  runs=$(wc -l < "$T/helper-runs"); tokens=$(grep -c '^issued' "$TOKEN_LOG")
  scopes=$(sed 's/^issued [^ ]* //' "$TOKEN_LOG" | sort -u | wc -l)
  note "credential-helper runs: $runs; tokens issued: $tokens for $scopes distinct scope sets"
  note "$(sort "$TOKEN_LOG" | uniq -c | tr -s ' \n' ' ')"
  assert_eq "$runs" 1 "credential-helper runs for one registry"
  [ "$tokens" -le "$scopes" ] || fail "$tokens tokens for $scopes distinct scope sets"
}

# A user's layout is read in place: pushing it (and testing it) writes nothing into
# it, and one without write permission can be pushed by a user who does not own it
# (issue 23: cache/, ingest/ and index.json.lock used to appear in it).
test_push_from_a_read_only_layout_writes_nothing_into_it() {
  start_registry reg
  make_app app 2
  run_gantry build -q --store "$(store)" --layer app:/app --output oci:layout:v1
  assert_eq "$RC" 0 "build ($ERR)"
  find layout | sort > before.txt
  chmod -R a-w layout
  mkdir -p nobody-bin nobody-store && cp "$GANTRY" nobody-bin/gantry && chown nobody nobody-store && chmod 755 "$T" nobody-bin
  set +e
  OUT=$(cd "$T" && setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$T/nobody-store" nobody-bin/gantry push "$REG/ro/app:1" --image oci:layout:v1 --store "$T/nobody-store/s" 2>"$T/.stderr"); RC=$?
  set -e
  ERR=$(cat "$T/.stderr")
  assert_eq "$RC" 0 "push of a read-only layout as another user ($ERR)"
  run_gantry push "$REG/ro/app:2" --image oci:layout:v1 --store "$(store)"
  assert_eq "$RC" 0 "push of the layout as root ($ERR)"
  chmod -R u+w layout
  find layout | sort > after.txt
  diff before.txt after.txt > /dev/null || fail "the push wrote into the layout: $(diff before.txt after.txt)"
  assert_eq "$(inspect_digest --tls-verify=false "docker://$REG/ro/app:1")" "$(inspect_digest oci:layout:v1)" "pushed digest"
}

run_tests
