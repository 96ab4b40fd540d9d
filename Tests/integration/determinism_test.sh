#!/usr/bin/env bash
# The same inputs give the same image digest whatever the directory, the file
# mtimes and the thread count; SOURCE_DATE_EPOCH changes it as documented.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

make_inputs() {  # DIR: an app with text, an executable, a link and 3 MiB of random data (several gzip blocks)
  mkdir -p "$1/app/pkg" "$1/model"
  printf 'from flask import Flask\napp = Flask(__name__)\n' > "$1/app/app.py"
  printf '#!/bin/sh\n' > "$1/app/start.sh"; chmod 755 "$1/app/start.sh"
  ln -s ../app.py "$1/app/pkg/link.py"
  cp "$T/random.bin" "$1/model/weights.bin"
  cat > "$1/gantry.yaml" <<'YAML'
layers:
  - {source: model, destination: /models}
  - {source: app, destination: /app, ownership: "1000:1000"}
entrypoint: ["/app/start.sh"]
YAML
}

build_digest() {  # DIR THREADS [env...]: builds with a fresh store and no cache, prints the digest
  local dir=$1 threads=$2; shift 2
  (cd "$dir" && env "$@" "$GANTRY" build --quiet --no-cache --threads "$threads" --store "$T/store-$RANDOM$RANDOM")
}

test_same_inputs_same_digest_anywhere() {
  head -c 3145728 /dev/urandom > random.bin
  make_inputs one
  make_inputs elsewhere/two
  touch -d '2001-02-03 04:05:06' elsewhere/two/app/app.py elsewhere/two/model/weights.bin
  local a b c
  a=$(build_digest one 1)
  b=$(build_digest elsewhere/two 2)
  c=$(build_digest elsewhere/two 4)
  assert_eq "$b" "$a" "other directory, other mtimes, 2 threads"
  assert_eq "$c" "$a" "4 threads"
  # compression level changes the bytes, so it is part of the identity
  assert_ne "$(cd one && "$GANTRY" build --quiet --no-cache --compression gzip:1 --store "$T/s9")" "$a" "gzip:1 vs auto"
}

test_source_date_epoch_sets_times_and_digest() {
  head -c 1024 /dev/urandom > random.bin
  make_inputs src
  local zero epoch again
  zero=$(build_digest src 1)
  epoch=$(build_digest src 1 SOURCE_DATE_EPOCH=1700000000)
  again=$(build_digest src 2 SOURCE_DATE_EPOCH=1700000000)
  assert_ne "$epoch" "$zero" "SOURCE_DATE_EPOCH changes the digest"
  assert_eq "$again" "$epoch" "the same epoch gives the same digest"
  (cd src && SOURCE_DATE_EPOCH=1700000000 "$GANTRY" build --quiet --store "$T/s" --output "oci:$T/l:t" >/dev/null)
  skopeo inspect --config oci:l:t > config.json
  assert_eq "$(json config.json 'd["created"]')" 2023-11-14T22:13:20Z
  assert_eq "$(json config.json 'd["history"][0]["created"]')" 2023-11-14T22:13:20Z
  umoci unpack --image l:t bundle >/dev/null
  assert_eq "$(stat -c %Y bundle/rootfs/app/app.py)" 1700000000 "file mtime"
  SOURCE_DATE_EPOCH=yesterday run_gantry build --store "$T/s" --layer src/app:/app
  assert_eq "$RC" 64 "a malformed SOURCE_DATE_EPOCH is refused"
  assert_contains "$ERR" "SOURCE_DATE_EPOCH='yesterday'"
}

test_cache_reuses_unchanged_layers() {
  head -c 1024 /dev/urandom > random.bin
  make_inputs src
  cd src
  run_gantry build --store "$T/s"
  local first=$OUT
  run_gantry build --store "$T/s"
  assert_eq "$OUT" "$first" "cached rebuild digest"
  assert_eq "$(printf '%s\n' "$ERR" | grep -c 'cached')" 2 "both layers come from the cache"
  echo "# changed" >> app/app.py
  run_gantry build --store "$T/s"
  assert_ne "$OUT" "$first" "a changed file changes the image"
  assert_contains "$(printf '%s\n' "$ERR" | grep '/models')" cached "the model layer stays cached"
  assert_contains "$(printf '%s\n' "$ERR" | grep '/app')" built "the app layer is rebuilt"
}

run_tests
