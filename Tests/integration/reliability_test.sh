#!/usr/bin/env bash
# Reliability round 3 (issue 22): hostile layers, silent peers, writers racing on
# a shared tag, names other tools cannot read. Each test is what failed in the
# held-out trial against 4e8c22c; results are read with skopeo, umoci and the
# registry itself, not with gantry.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# A one-layer image from scratch in the layout DIR under TAG (its entrypoint does not exist).
small_layout() {
  mkdir -p files; echo "${3:-hi}" > files/x
  run_gantry build -q --base scratch --layer files:/files --entrypoint '["/files/missing"]' --store "${2:-$(store)}" --output "oci:$1"
  assert_eq "$RC" 0 "build of $1 ($ERR)"
}

# tar_with FILE NAME...: a tar (written by Python, not gantry) holding empty files NAME...
tar_with() {
  python3 - "$@" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as tar:
    for name in sys.argv[2:]:
        tar.addfile(tarfile.TarInfo(name), io.BytesIO(b""))
PY
}

start_peer() {  # MODE: a misbehaving peer; sets PEER (host:port)
  local port; port=$(free_port)
  python3 "$HELPERS/misbehaving_peer.py" --port "$port" --mode "$1" > "$T/peer-$1.out" 2>&1 &
  SERVICE_PIDS="$SERVICE_PIDS $!"
  wait_for_port "$port"
  PEER="127.0.0.1:$port"
}

test_a_whiteout_that_climbs_is_refused_and_removes_nothing() {
  small_layout base:v1
  # gantry test unpacks each layer into the store's cache: a '.wh...' there removed
  # the cache of every image. A canary beside the unpacked layers must survive.
  mkdir -p "$(store)/cache/rootfs"; echo keep > "$(store)/cache/rootfs/canary"
  for name in '.wh...' 'files/.wh...' '.wh..'; do
    tar_with evil.tar "$name"
    umoci raw add-layer --image base:v1 --tag evil evil.tar
    mkdir -p "$T/tmp"; TMPDIR="$T/tmp" run_gantry test --store "$(store)" oci:base:evil --port 8080 --get /
    assert_eq "$RC" 65 "gantry test of a layer with '$name' ($ERR)"
    assert_contains "$ERR" "is a whiteout of" "error for '$name'"
    assert_file "$(store)/cache/rootfs/canary"
    # ...and as a base, it is refused before anything is written onward.
    expect_failure 65 "whiteout" build --store "$(store)" --base oci:base:evil --layer files:/more --output oci:out:v1
    assert_contains "$ERR" "base layer sha256:"
    assert_no_file out/index.json
    # ...and as a root filesystem tarball.
    expect_failure 65 "whiteout" build --store "$(store)" --base rootfs:evil.tar --layer files:/more
  done
}

test_prune_keeps_a_warm_build_warm() {
  mkdir -p app; head -c 100000 /dev/urandom > app/data; echo one > app/a.txt
  run_gantry build --store "$(store)" --base scratch --layer app:/app --tag warm:1
  assert_eq "$RC" 0 "first build ($ERR)"
  run_gantry store prune --store "$(store)"
  assert_eq "$RC" 0 "prune ($ERR)"
  ls "$(store)"/cache/layers/*.json > /dev/null 2>&1 || fail "prune removed the layer-cache records: $(ls -R "$(store)/cache")"
  run_gantry build --store "$(store)" --base scratch --layer app:/app --tag warm:1
  assert_eq "$RC" 0 "second build ($ERR)"
  assert_contains "$ERR" "cached" "second build after prune"
  case "$ERR" in *"built in"*) fail "a layer was rebuilt after prune: $ERR" ;; esac
  # Pruning with nothing tagged still keeps records whose blobs are there.
  run_gantry store prune --store "$(store)" --older-than 1000d
  [ "$RC" -eq 0 ] || note "prune --older-than not available: $ERR"
}

test_a_peer_that_never_answers_fails_within_the_limits() {
  start_peer silent
  local start=$SECONDS
  expect_failure 69 "$PEER" inspect "$PEER/team/app:1" --store "$(store)" --stall-timeout 2 --retry-timeout 5
  assert_contains "$ERR" "timed out"
  [ $((SECONDS - start)) -le 30 ] || fail "inspect took $((SECONDS - start)) s against a silent peer"
  mkdir -p app; echo x > app/a
  start=$SECONDS
  GANTRY_STALL_TIMEOUT=2 GANTRY_RETRY_TIMEOUT=5 run_gantry build -q --store "$(store)" --base scratch --layer app:/app --push "$PEER/team/app:1"
  assert_eq "$RC" 69 "push to a silent registry ($ERR)"
  assert_contains "$ERR" "$PEER"
  [ $((SECONDS - start)) -le 30 ] || fail "the push took $((SECONDS - start)) s against a silent peer"
  # The defaults are documented where users look.
  run_gantry push --help
  assert_contains "$OUT" "default 30"
  assert_contains "$OUT" "default 60"
}

test_a_stopped_token_service_fails_naming_it() {
  start_token_server
  start_registry reg "$(token_auth_yaml)"
  kill -STOP "$TOKEN_PID"
  local start=$SECONDS
  set +e
  OUT=$("$GANTRY" inspect "$REG/team/app:1" --store "$(store)" --stall-timeout 2 --retry-timeout 5 2>"$T/.stderr"); RC=$?
  set -e
  ERR=$(cat "$T/.stderr")
  kill -CONT "$TOKEN_PID"
  assert_eq "$RC" 69 "inspect with a stopped token service ($ERR)"
  assert_contains "$ERR" "token service"
  [ $((SECONDS - start)) -le 30 ] || fail "took $((SECONDS - start)) s"
}

test_a_token_service_that_answers_html_and_a_registry_5xx_say_what_they_are() {
  start_token_server   # for the certificate the registry trusts
  start_peer html
  start_registry reg "auth: {token: {realm: 'http://$PEER/token', service: s, issuer: gantry-test-issuer, rootcertbundle: $TOKEN_CERT}}"
  expect_failure 69 "not a token" inspect "$REG/team/app:1" --store "$(store)"
  assert_contains "$ERR" "text/html"
  case "$ERR" in *credentials*) fail "blamed the credentials: $ERR" ;; esac
  start_peer error
  expect_failure 69 "registry in maintenance until 10:00" inspect "$PEER/team/app:1" --store "$(store)" --retry-timeout 2
  assert_contains "$ERR" "UNAVAILABLE"
}

# Two pushes of one image at once, one with an SPDX SBOM, one with CycloneDX: the
# registry's referrers tag index must list both (it kept one in 4 of 4 tries).
test_concurrent_sbom_attachments_are_both_kept() {
  start_registry reg
  local round
  for round in 1 2; do
    mkdir -p "app$round"; echo "$round" > "app$round/a"
    run_gantry build -q --store s1 --base scratch --layer "app$round:/app"
    assert_eq "$RC" 0 "build ($ERR)"
    cp -a s1 s2
    "$GANTRY" build -q --store s1 --base scratch --layer "app$round:/app" --push "$REG/team/app:$round" --sbom --sbom-format spdx > one.out 2> one.err & local first=$!
    "$GANTRY" build -q --store s2 --base scratch --layer "app$round:/app" --push "$REG/team/app:$round" --sbom --sbom-format cyclonedx > two.out 2> two.err & local second=$!
    wait "$first" || fail "spdx push: $(cat one.err)"
    wait "$second" || fail "cyclonedx push: $(cat two.err)"
    local digest; digest=$(cat one.out)
    skopeo inspect --raw --tls-verify=false "docker://$REG/team/app:sha256-${digest#sha256:}" > referrers.json
    local types; types=$(json referrers.json '" ".join(sorted(m.get("artifactType", "") for m in d["manifests"]))')
    assert_eq "$types" "application/spdx+json application/vnd.cyclonedx+json" "round $round: artifacts in the referrers index"
    rm -rf s2
  done
}

# Under heavier faults (20 % resets, 20 % 5xx, 2 MiB chunks) every push gets
# through: the budget is time without progress, not failures in a row (which
# gave up on 2 of 10 pushes).
test_pushes_through_heavy_faults_all_succeed() {
  start_registry reg
  start_fault_proxy "$REG" --seed 22 --reset 0.2 --error 0.2 --delay 0
  local i ok=0
  for i in $(seq 1 10); do
    mkdir -p "app$i" && head -c 6291456 /dev/urandom > "app$i/data.bin"
    run_gantry build --store "$(store)" --base scratch --layer "app$i:/app" --push "$PROXY/heavy/app$i:1" --chunk-size 2 --quiet
    [ "$RC" -eq 0 ] || fail "push $i failed through the proxy: $ERR"
    skopeo copy -q --src-tls-verify=false "docker://$REG/heavy/app$i:1" "oci:copies:app$i"
    assert_eq "$(inspect_digest "oci:copies:app$i")" "$OUT" "push $i"
    ok=$((ok + 1))
  done
  assert_eq "$ok" 10 "pushes that ended with a correct image"
  note "$(wc -l < "$PROXY_LOG") faults over 10 pushes: $(cut -d' ' -f2 "$PROXY_LOG" | sort | uniq -c | tr -s ' \n' ' ')"
}

test_a_model_image_and_the_app_on_one_tag_are_refused_before_work() {
  start_registry reg
  mkdir -p app; echo x > app/a; head -c 1000 /dev/urandom > model.bin
  expect_failure 64 "would both be tagged team/app:1" build --store "$(store)" --base scratch --layer app:/app \
    --model model.bin --model-image team/app:1 --push "$REG/team/app:1"
  assert_no_file "$(store)/blobs/sha256/$(sha256sum model.bin | cut -d' ' -f1)"
  expect_failure 64 "would both be tagged team/app:v2" build --store "$(store)" --base scratch --layer app:/app \
    --model model.bin --model-image team/app:v2 --push "$REG/team/app:1" --push-tag v2
}

test_a_foreign_image_at_a_cache_tag_is_left_alone() {
  start_registry reg
  mkdir -p app; head -c 50000 /dev/urandom > app/data
  run_gantry build -q --store first --base scratch --layer app:/app --push "$REG/team/app:1" --cache-repo "$REG/team/cache"
  assert_eq "$RC" 0 "first build ($ERR)"
  local tag; tag=$(skopeo list-tags --tls-verify=false "docker://$REG/team/cache" | python3 -c 'import json,sys; print([t for t in json.load(sys.stdin)["Tags"] if t.startswith("layer-")][0])')
  # Another tool puts a plain image at that cache tag.
  small_layout foreign:v1 other-store
  skopeo copy -q --dest-tls-verify=false oci:foreign:v1 "docker://$REG/team/cache:$tag"
  local foreign; foreign=$(inspect_digest --tls-verify=false "docker://$REG/team/cache:$tag")
  run_gantry build --store second --base scratch --layer app:/app --push "$REG/team/app:2" --cache-repo "$REG/team/cache"
  assert_eq "$RC" 0 "second build ($ERR)"
  assert_contains "$ERR" "is not a gantry layer-cache entry"
  assert_eq "$(inspect_digest --tls-verify=false "docker://$REG/team/cache:$tag")" "$foreign" "the foreign image at $tag"
}

test_a_base_of_another_platform_is_refused_on_every_path() {
  small_layout base:amd64
  expect_failure 66 "has no image for linux/arm64 (it has: linux/amd64)" build --store "$(store)" --base oci:base:amd64 --layer files:/f --platform linux/arm64
  # A root filesystem says nothing of its platform: its C library does.
  tar -C / -cf rootfs.tar usr/lib/x86_64-linux-gnu/libc.so.6
  expect_failure 66 "holds x86-64 binaries" build --store "$(store)" --base rootfs:rootfs.tar --layer files:/f --platform linux/arm64
  run_gantry build -q --store "$(store)" --base rootfs:rootfs.tar --layer files:/f --platform linux/amd64
  assert_eq "$RC" 0 "the rootfs on its own platform ($ERR)"
  # An index that nests another index: followed, and named when it lacks the platform.
  python3 "$HELPERS/make_index.py" base inner amd64 > /dev/null
  python3 - base <<'PY'
import hashlib, json, os, sys
layout = sys.argv[1]
index = json.load(open(os.path.join(layout, "index.json")))
inner = next(d for d in index["manifests"] if d.get("annotations", {}).get("org.opencontainers.image.ref.name") == "inner")
outer = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": [{"mediaType": inner["mediaType"], "digest": inner["digest"], "size": inner["size"]}]}).encode()
digest = hashlib.sha256(outer).hexdigest()
open(os.path.join(layout, "blobs", "sha256", digest), "wb").write(outer)
index["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + digest, "size": len(outer),
                           "annotations": {"org.opencontainers.image.ref.name": "outer"}})
json.dump(index, open(os.path.join(layout, "index.json"), "w"))
PY
  run_gantry build -q --store "$(store)" --base oci:base:outer --layer files:/f --platform linux/amd64
  assert_eq "$RC" 0 "a base index nesting an index ($ERR)"
  expect_failure 66 "it has: linux/amd64, in 1 nested index" build --store "$(store)" --base oci:base:outer --layer files:/f --platform linux/arm64
}

test_names_stores_and_recipe_errors() {
  mkdir -p app; echo x > app/a
  # A store under a missing parent is made, as the default one is.
  run_gantry build -q --store "$T/not/yet/there/store" --base scratch --layer app:/app
  assert_eq "$RC" 0 "build with a store under a missing parent ($ERR)"
  run_gantry store ls --store "$T/also/missing/store"
  assert_eq "$RC" 0 "store ls under a missing parent ($ERR)"
  # Names other tools could not read are refused where they are written.
  expect_failure 64 "image name 'bad tag!'" build --store "$(store)" --base scratch --layer app:/app --tag "bad tag!"
  expect_failure 64 "image name 'UPPER/case'" build --store "$(store)" --base scratch --layer app:/app --tag UPPER/case
  expect_failure 64 "must be 1-128" build --store "$(store)" --base scratch --layer app:/app --output "oci:out:bad!tag"
  assert_no_file out
  printf 'base: scratch\ntag: ":x"\nlayers:\n  - {source: app, destination: /app}\n' > gantry.yaml
  expect_failure 64 "gantry.yaml:2:" build --store "$(store)" -f gantry.yaml
  printf 'layers:\n  - {source: app, destination: /app}\nbase: "docker-archive:x.tar"\n' > gantry.yaml
  run_gantry build --store "$(store)" -f gantry.yaml
  [ "$RC" -ne 0 ] || fail "a docker-archive base was accepted"
  printf 'base: "oci:"\n' > gantry.yaml
  expect_failure 64 "gantry.yaml:1:" build --store "$(store)" -f gantry.yaml
  rm gantry.yaml
  # A tagged build is readable by skopeo under its name.
  run_gantry build -q --store "$(store)" --base scratch --layer app:/app --tag team/app:1.0
  assert_eq "$RC" 0 "build --tag team/app:1.0 ($ERR)"
  skopeo inspect "oci:$(store):team/app:1.0" > /dev/null || fail "skopeo cannot read the tag team/app:1.0"
  # A large recipe and a non-UTF-8 one are called what they are.
  python3 -c 'v = "v" * 60; print("labels:"); [print(f"  k{i}: {v}") for i in range(80000)]' > big.yaml
  expect_failure 64 "larger than the 1 MiB a recipe may be" build --store "$(store)" -f big.yaml
  printf 'base: scratch\nlabels: {a: "\xff"}\n' > latin.yaml
  expect_failure 64 "latin.yaml:2: byte" build --store "$(store)" -f latin.yaml
  python3 -c 'print("labels: " + "[" * 50000 + "]" * 50000)' > deep.yaml
  expect_failure 64 "nest more than 64 levels" build --store "$(store)" -f deep.yaml
}

test_outputs_hold_only_what_the_layout_spec_names_and_dead_ingest_is_cleaned() {
  mkdir -p app; head -c 300000 /dev/urandom > app/data
  run_gantry build -q --store "$(store)" --base scratch --layer app:/app --output oci:out:v1
  assert_eq "$RC" 0 "build ($ERR)"
  assert_eq "$(ls -A out | sort | tr '\n' ' ')" "blobs index.json oci-layout " "entries of the output layout"
  python3 "$ORACLE" out > /dev/null || fail "oci_check.py refused the output"
  # kill -9 mid-build leaves an ingest file; the next command alone with the store removes it.
  head -c 64000000 /dev/urandom > app/big
  "$GANTRY" build -q --store "$(store)" --base scratch --layer app:/app --compression gzip:9 > /dev/null 2>&1 & local pid=$!
  for _ in $(seq 1 100); do [ -n "$(ls -A "$(store)/ingest" 2>/dev/null)" ] && break; sleep 0.05; done
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true
  [ -n "$(ls -A "$(store)/ingest")" ] || fail "no ingest file to clean up (the build finished too soon)"
  # store ls only looks: it shows the file and leaves it.
  run_gantry store ls --store "$(store)"
  assert_contains "$OUT" "abandoned ingest"
  mkdir -p small; echo s > small/s
  run_gantry build -q --store "$(store)" --base scratch --layer small:/s
  assert_eq "$RC" 0 "the next build ($ERR)"
  assert_eq "$(ls -A "$(store)/ingest")" "" "ingest after the next build"
}

test_a_container_that_cannot_start_is_a_failed_check() {
  small_layout img:v1
  mkdir -p "$T/tmp"; TMPDIR="$T/tmp" run_gantry test --store "$(store)" oci:img:v1 --port 8080 --get /
  assert_eq "$RC" 1 "exit code of gantry test ($ERR)"
  assert_contains "$ERR" "/files/missing"
}

run_tests
