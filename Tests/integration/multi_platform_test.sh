#!/usr/bin/env bash
# Multi-platform images (linux/amd64 + linux/arm64) without emulation: a two-platform
# base index is made once for the file (Debian's Python root filesystems, the arm64
# one only extracted by mmdebstrap; the index written by helpers/make_index.py, not
# by gantry), and the sample is built on it. Results are read back by skopeo,
# oci_check.py, Python's tarfile (ELF headers) and runc, none of them gantry's.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

SHARED=$(mktemp -d /tmp/gantry-multi-shared.XXXXXX)
trap 'rm -rf "$SHARED"' EXIT
chmod 755 "$SHARED"
# The base: each platform's root filesystem as an image, then an index over both.
for arch in amd64 arm64; do
  "$GANTRY" build -q --store "$SHARED/store" --base "rootfs:$("$REPO_ROOT/scripts/make-python-base" "$arch")" \
    --platform "linux/$arch" --output "oci:$SHARED/base:$arch" > /dev/null 2> "$SHARED/base.err" \
    || { cat "$SHARED/base.err" >&2; exit 1; }
done
python3 "$HELPERS/make_index.py" "$SHARED/base" multi amd64 arm64 > /dev/null
BASE="oci:$SHARED/base:multi"
python3 "$REPO_ROOT/fixtures/flask-app/model/train.py" "$SHARED/classifier.json" > /dev/null

# sample_dir: a copy of the sample app in the test's directory.
sample_dir() { cp -r "$REPO_ROOT/fixtures/flask-app" sample; }

# build_multi ARGS...: the sample for both platforms on the shared base (and its caches).
build_multi() {
  run_gantry build -f sample/gantry.yaml --store "$SHARED/store" --base "$BASE" --model "$SHARED/classifier.json" \
    --platform linux/amd64,linux/arm64 "$@"
}

# layer_member LAYOUT_BLOB NAME_SUFFIX: prints "name e_machine" of the first file in the
# gzip layer whose name ends with NAME_SUFFIX (e_machine from its ELF header).
layer_elf() {
  python3 - "$1" "$2" <<'PY'
import struct, sys, tarfile
with tarfile.open(sys.argv[1], "r:*") as tar:
    for member in tar:
        if member.isfile() and member.name.endswith(sys.argv[2]):
            head = tar.extractfile(member).read(20)
            assert head[:4] == b"\x7fELF", member.name
            print(member.name, struct.unpack("<H", head[18:20])[0])
            break
PY
}

test_two_platforms_push_as_one_index_whose_shared_layers_go_up_once() {
  sample_dir
  # numpy: native code whose wheels say manylinux_2_17 (what a single manylinux_2_28 tag refused).
  echo "numpy==2.1.3" >> sample/requirements.txt
  start_registry reg
  build_multi --push "$REG/app:1" --digest-ref-file ref.txt
  assert_eq "$RC" 0 "two-platform build ($ERR)"
  local index=$OUT
  assert_contains "$ERR" "image  linux/amd64"
  assert_contains "$ERR" "image  linux/arm64"
  assert_contains "$ERR" "index  $index"
  assert_eq "$(cat ref.txt)" "$REG/app@$index"
  # The registry's index, as skopeo reads it: two manifests, one per platform.
  skopeo inspect --raw --tls-verify=false "docker://$REG/app:1" > index.json
  assert_eq "$(json index.json 'd["mediaType"]')" "application/vnd.oci.image.index.v1+json"
  assert_eq "$(json index.json '",".join(m["platform"]["architecture"] for m in d["manifests"])')" "amd64,arm64"
  assert_eq "sha256:$(sha256sum < index.json | cut -d' ' -f1)" "$index" "the index's digest"
  local amd arm
  amd=$(json index.json 'd["manifests"][0]["digest"]'); arm=$(json index.json 'd["manifests"][1]["digest"]')
  skopeo inspect --raw --tls-verify=false "docker://$REG/app@$amd" > amd.json
  skopeo inspect --raw --tls-verify=false "docker://$REG/app@$arm" > arm.json
  # Base and dependencies differ per platform; the model and app layers are the same blobs.
  assert_ne "$(json amd.json 'd["layers"][0]["digest"]')" "$(json arm.json 'd["layers"][0]["digest"]')" "base layers"
  assert_ne "$(json amd.json 'd["layers"][1]["digest"]')" "$(json arm.json 'd["layers"][1]["digest"]')" "dependencies layers"
  assert_eq "$(json amd.json '[l["digest"] for l in d["layers"][2:]]')" "$(json arm.json '[l["digest"] for l in d["layers"][2:]]')" "model and app layers"
  skopeo inspect --config --tls-verify=false "docker://$REG/app@$arm" > arm-config.json
  assert_eq "$(json arm-config.json 'd["architecture"]')" arm64
  # The dependencies were chosen for the base's own glibc (2.36 in bookworm), not a fixed tag.
  assert_contains "$(json arm-config.json 'd["history"][1]["created_by"]')" "for manylinux_2_36_aarch64"
  # Every blob uploaded once: a shared layer is not sent twice (the registry's access log).
  local blobs uploads
  blobs=$(json index.json 'len({l["digest"] for m in [__import__("json").load(open(f)) for f in ["amd.json","arm.json"]] for l in m["layers"] + [m["config"]]})')
  uploads=$(grep -cE '"PUT /v2/app/blobs/uploads/[^ ]*digest=sha256' "$T/reg.log" || true)
  assert_eq "$uploads" "$blobs" "blob uploads (completed PUTs) for $blobs distinct blobs"
  # skopeo copies the whole index; the copy is a valid OCI layout.
  skopeo copy -q --all --src-tls-verify=false "docker://$REG/app:1" "oci:$T/copy:app"
  python3 "$REPO_ROOT/../shared/tools/oci_check.py" "$T/copy" > check.txt || fail "oci_check: $(cat check.txt)"
  assert_contains "$(cat check.txt)" "2 manifests"
  # Native files match their platform: MarkupSafe's and numpy's are AArch64 (183) and x86-64 (62).
  local arm_deps amd_deps
  arm_deps=$(json arm.json 'd["layers"][1]["digest"].split(":")[1]'); amd_deps=$(json amd.json 'd["layers"][1]["digest"].split(":")[1]')
  assert_contains "$(layer_elf "$T/copy/blobs/sha256/$arm_deps" "_speedups.cpython-311-aarch64-linux-gnu.so")" " 183"
  assert_contains "$(layer_elf "$T/copy/blobs/sha256/$amd_deps" "_speedups.cpython-311-x86_64-linux-gnu.so")" " 62"
  assert_contains "$(layer_elf "$T/copy/blobs/sha256/$arm_deps" "_multiarray_umath.cpython-311-aarch64-linux-gnu.so")" " 183"
  assert_contains "$(layer_elf "$T/copy/blobs/sha256/$amd_deps" "_multiarray_umath.cpython-311-x86_64-linux-gnu.so")" " 62"
  # gantry inspect lists both; the amd64 image runs (runc picks nothing: skopeo takes this machine's).
  run_gantry inspect --store "$(store)" "$REG/app:1"
  assert_contains "$OUT" "platforms:  linux/amd64, linux/arm64"
  run_image "$REG/app:1" app
  assert_contains "$(curl -fsS -X POST -H 'Content-Type: application/json' -d '{"features":[5.1,3.5,1.4,0.2]}' "http://127.0.0.1:$APP_PORT/score")" setosa
  if [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    note "qemu-aarch64 is registered with binfmt_misc, but this test runs only the amd64 image"
  else
    note "arm64 image not run: no qemu-user binfmt_misc handler for aarch64 on this machine (checked /proc/sys/fs/binfmt_misc)"
  fi
}

test_the_index_is_the_deployed_digest_and_the_tested_image_is_this_machines() {
  sample_dir
  start_registry reg
  build_multi --push "$REG/app:2" --test
  assert_eq "$RC" 0 "build --test --push ($ERR)"
  local index=$OUT
  assert_contains "$ERR" "test   linux/arm64: skipped: runc runs images natively"
  assert_contains "$ERR" "6 of 6 checks passed"
  run_gantry deploy --store "$(store)" -f sample/gantry.yaml "$REG/app:2" --dry-run
  assert_eq "$RC" 0 "deploy --dry-run ($ERR)"
  assert_contains "$OUT" "image: \"$REG/app@$index\""
}

test_a_platform_the_base_lacks_is_an_error_naming_those_it_has() {
  sample_dir
  expect_failure 66 "has no image for linux/s390x (it has: linux/amd64, linux/arm64)" \
    build -f sample/gantry.yaml --store "$(store)" --base "$BASE" --model "$SHARED/classifier.json" --platform linux/amd64,linux/s390x
  # A single image as the base of a two-platform build: named, with its one platform.
  expect_failure 66 "has no image for linux/arm64 (it has: linux/amd64)" \
    build -f sample/gantry.yaml --store "$(store)" --base "oci:$SHARED/base:amd64" --model "$SHARED/classifier.json" --platform linux/amd64,linux/arm64
  expect_failure 64 "platform linux/amd64 is listed twice" \
    build -f sample/gantry.yaml --store "$(store)" --base "$BASE" --platform linux/amd64,linux/amd64
  expect_failure 64 "is a root filesystem for one platform" \
    build -f sample/gantry.yaml --store "$(store)" --base "rootfs:$("$REPO_ROOT/scripts/make-python-base")" --platform linux/amd64,linux/arm64
}

test_one_platforms_dependencies_failing_fails_the_build_before_anything_is_pushed() {
  sample_dir
  # A wheel for x86-64 only, offered through requirements.txt's own --find-links.
  mkdir wheels
  python3 - wheels <<'PY'
import sys, zipfile
name = "onlyamd-1.0"
with zipfile.ZipFile(f"{sys.argv[1]}/onlyamd-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "w") as wheel:
    wheel.writestr("onlyamd/__init__.py", "")
    wheel.writestr(f"{name}.dist-info/METADATA", "Metadata-Version: 2.1\nName: onlyamd\nVersion: 1.0\n")
    wheel.writestr(f"{name}.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: cp311-cp311-manylinux_2_17_x86_64\n")
    wheel.writestr(f"{name}.dist-info/RECORD", "")
PY
  printf -- '--find-links %s\nonlyamd==1.0\nflask==3.1.3\n' "$PWD/wheels" > sample/requirements.txt
  start_registry reg
  expect_failure 65 "cannot be installed for linux/arm64 (manylinux_2_36_aarch64" \
    build -f sample/gantry.yaml --store "$(store)" --base "$BASE" --model "$SHARED/classifier.json" \
    --platform linux/amd64,linux/arm64 --push "$REG/app:bad"
  assert_eq "$(count_requests "$T/reg.log" PUT /v2/)" 0 "PUT requests to the registry"
  assert_eq "$(count_requests "$T/reg.log" POST /v2/)" 0 "uploads started"
}

test_a_pure_python_source_package_is_built_once_and_installed_for_both_platforms() {
  sample_dir
  # docopt 0.6.2 is published only as source: pip refuses it with --platform.
  printf 'flask==3.1.3\ndocopt==0.6.2\n' > sample/requirements.txt
  build_multi --output "oci:$T/out:app"
  assert_eq "$RC" 0 "build ($ERR)"
  skopeo inspect --raw "oci:$T/out:app" > index.json
  for i in 0 1; do
    local manifest deps
    manifest=$(json index.json "d['manifests'][$i]['digest'].split(':')[1]")
    deps=$(json "$T/out/blobs/sha256/$manifest" 'd["layers"][1]["digest"].split(":")[1]')
    tar tzf "$T/out/blobs/sha256/$deps" > files.txt
    grep -q 'opt/gantry/python/docopt.py$' files.txt || fail "docopt.py missing from platform $i's dependencies"
  done
  assert_eq "$(ls -d "$SHARED/store/cache/python/"wheel-* | wc -l)" 1 "host-built wheels in the store"
}

test_archives_hold_the_index_and_a_docker_archive_takes_the_platform_it_is_given() {
  sample_dir
  expect_failure 64 "Docker's archive format holds one platform, and this build makes 2 (linux/amd64, linux/arm64); add --archive-platform" \
    build -f sample/gantry.yaml --store "$(store)" --base "$BASE" --platform linux/amd64,linux/arm64 --output "docker-archive:$T/app.tar"
  assert_no_file "$T/app.tar"
  build_multi --output "oci-archive:$T/all.tar" --output "docker-archive:$T/arm.tar:app:arm" --archive-platform linux/arm64
  assert_eq "$RC" 0 "build ($ERR)"
  skopeo inspect --raw "oci-archive:$T/all.tar" > index.json
  assert_eq "$(json index.json 'len(d["manifests"])')" 2
  assert_eq "$(skopeo inspect --config "docker-archive:$T/arm.tar" | python3 -c 'import json,sys; print(json.load(sys.stdin)["architecture"])')" arm64
}

run_tests
