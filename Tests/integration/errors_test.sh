#!/usr/bin/env bash
# Bad input gives one clear error line naming the path or field, a documented
# non-zero exit code (docs/errors.md "Exit codes"), and no partial output.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# No blob or temp file may be left behind by a failed build.
assert_store_clean() {
  local leftovers
  leftovers=$(find "$1/ingest" -type f 2>/dev/null | wc -l)
  assert_eq "$leftovers" 0 "temp files left in the store's ingest area"
}

test_missing_source_directory() {
  expect_failure 66 "$T/nope" build --store "$(store)" --layer "$T/nope:/app" --output oci:out
  assert_no_file out
}

test_unreadable_file() {
  # root reads everything, so run gantry as nobody with a copy it can execute
  mkdir -p app bin && echo ok > app/ok.txt && echo secret > app/locked.txt && chmod 000 app/locked.txt
  cp "$GANTRY" bin/gantry
  chmod -R a+rX "$T" && chmod 000 app/locked.txt && chmod 777 "$T"
  set +e
  ERR=$(cd "$T" && setpriv --reuid=65534 --regid=65534 --clear-groups bin/gantry build --store "$T/nobody-store" --layer app:/app --output oci:out 2>&1 >/dev/null); RC=$?
  set -e
  assert_eq "$RC" 66 "exit code ($ERR)"
  assert_contains "$ERR" "app/locked.txt"
  assert_contains "$ERR" "Permission denied"
  assert_no_file out
}

test_symlink_escaping_the_source() {
  mkdir app && echo x > app/a && ln -s ../../etc/passwd app/escape
  expect_failure 65 "app/escape" build --store "$(store)" --layer app:/app --output oci:out
  assert_contains "$ERR" "allowExternalSymlinks"
  assert_no_file out
  assert_store_clean "$(store)"
  printf 'layers:\n  - {source: app, destination: /app, allowExternalSymlinks: true}\n' > gantry.yaml
  run_gantry build --store "$(store)"
  assert_eq "$RC" 0 "allowed explicitly ($ERR)"
}

test_file_name_that_is_not_utf8() {
  mkdir app && python3 -c "open(b'app/caf\xe9.txt', 'wb').write(b'x')"
  expect_failure 65 'app/caf\xe9.txt: the file name is not valid UTF-8' build --store "$(store)" --layer app:/app --output oci:out
  assert_no_file out
}

test_invalid_references() {
  mkdir app && echo x > app/a
  expect_failure 64 "invalid image reference 'Bad/Name:1'" build --store "$(store)" --layer app:/app --output docker-archive:img.tar:Bad/Name:1
  assert_no_file img.tar
  expect_failure 64 "not a known location" build --store "$(store)" --layer app:/app --output docker:img
  expect_failure 64 "invalid platform" build --store "$(store)" --layer app:/app --platform linux
}

test_unknown_recipe_key_and_wrong_type() {
  mkdir app && echo x > app/a
  printf 'layers:\n  - source: app\n    destination: /app\nentrypont: ["x"]\n' > gantry.yaml
  expect_failure 64 "gantry.yaml:4: unknown key 'entrypont'" build --store "$(store)"
  printf 'layers:\n  - source: app\n    destination: /app\nports: 8080\n' > gantry.yaml
  expect_failure 64 "gantry.yaml:4: 'ports' must be a list" build --store "$(store)"
  printf 'layers: [\n' > gantry.yaml
  expect_failure 64 "gantry.yaml: not valid YAML" build --store "$(store)"
  assert_no_file "$(store)/blobs/sha256/"*
}

test_output_in_missing_directory() {
  mkdir app && echo x > app/a
  expect_failure 73 "directory $T/missing does not exist" build --store "$(store)" --layer app:/app --output "oci-archive:$T/missing/img.tar"
  expect_failure 73 "does not exist" build --store "$(store)" --layer app:/app --digest-file "$T/missing/digest"
  assert_no_file missing
  # checked before any work: no layer was built
  assert_eq "$(ls "$(store)/blobs/sha256" | wc -l)" 0 "blobs written before the output check"
}

test_base_layout_without_the_tag() {
  mkdir app && echo x > app/a
  run_gantry build --store "$(store)" --layer app:/app --output oci:layout:v1
  assert_eq "$RC" 0 "base build ($ERR)"
  expect_failure 66 "has no tag 'v2' (its tags: v1)" build --store "$(store)" --base oci:layout:v2 --layer app:/app --output oci:out
  expect_failure 66 "not an OCI image layout" build --store "$(store)" --base oci:nowhere:v1 --layer app:/app
  expect_failure 66 "does not exist" build --store "$(store)" --base rootfs:nowhere.tar --layer app:/app
  assert_no_file out
}

test_corrupt_base_blob_is_refused() {
  mkdir app && echo x > app/a
  run_gantry build --store "$(store)" --layer app:/app --output oci:layout:v1
  local layer; layer=$(skopeo inspect --raw oci:layout:v1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"][7:])')
  chmod u+w "layout/blobs/sha256/$layer"; echo tampered >> "layout/blobs/sha256/$layer"
  expect_failure 65 "does not match its descriptor" build --store "$T/fresh" --base oci:layout:v1 --layer app:/app
  assert_no_file "$T/fresh/blobs/sha256/$layer"
  assert_store_clean "$T/fresh"
}

test_disk_full_leaves_nothing_half_written() {
  mkdir small app
  mount -t tmpfs -o size=2m tmpfs small || fail "cannot mount a tmpfs (needs root)"
  trap 'umount "$T/small"' EXIT
  head -c 6291456 /dev/urandom > app/big.bin
  expect_failure 74 "No space left on device" build --store small/store --layer app:/models
  assert_contains "$ERR" "free space"
  assert_store_clean small/store
  assert_eq "$(ls small/store/blobs/sha256 | wc -l)" 0 "blobs left in a full store"
  # an archive output on a full disk: the store is elsewhere, the archive must not appear
  expect_failure 74 "No space left on device" build --store "$(store)" --layer app:/models --output oci-archive:small/img.tar
  assert_eq "$(ls -A small | grep -v store | wc -l)" 0 "partial archive left behind"
}

run_tests
