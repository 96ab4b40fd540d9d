#!/usr/bin/env bash
# A file over 8 GiB (past ustar's 11-digit size field) is stored whole and
# correctly: GNU tar reads back its size and its last bytes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

test_file_over_8_gib() {
  mkdir m
  truncate -s 8589934597 m/huge.bin                 # 8 GiB + 5 bytes, sparse: costs no disk
  printf 'tail' | dd of=m/huge.bin bs=1 seek=8589934593 conv=notrunc status=none
  run_gantry build --store "$(store)" --layer m:/models --compression gzip:1 --output oci:l:t
  assert_eq "$RC" 0 "build ($ERR)"
  local layer
  layer=$(skopeo inspect --raw oci:l:t | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"][7:])')
  # one pass: list with sizes, and pipe the big file's content to tail
  gzip -dc "l/blobs/sha256/$layer" | tar -xvv --numeric-owner --to-command='tail -c 4' > listing.txt
  assert_contains "$(grep huge.bin listing.txt)" "8589934597" "size in the tar header"
  assert_contains "$(cat listing.txt)" "tail" "the last bytes of the file"
}

run_tests
