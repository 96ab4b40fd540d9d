#!/usr/bin/env bash
# gantry build produces images that skopeo and umoci read, with the files,
# modes, owners, links and config the inputs asked for.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

make_app() {
  mkdir -p app/pkg app/.git app/pkg/__pycache__ app/docs
  printf 'print("hello")\n' > app/main.py
  printf '#!/bin/sh\necho run\n' > app/run.sh; chmod 700 app/run.sh
  printf 'secret-ish\n' > app/pkg/data.txt; chmod 600 app/pkg/data.txt
  ln -s ../main.py app/pkg/main-link
  ln app/pkg/data.txt app/pkg/data-hardlink.txt
  echo ref > app/.git/HEAD
  echo bytecode > app/pkg/__pycache__/m.pyc
  echo notes > app/docs/notes.md
  printf 'docs/\n*.log\n' > app/.dockerignore
  echo noise > app/debug.log
}

test_umoci_unpack_matches_inputs() {
  make_app
  cat > gantry.yaml <<'YAML'
layers:
  - source: app
    destination: /srv/app
    ownership: "1000:1001"
YAML
  run_gantry build --store "$(store)" --output oci:layout:v1
  assert_eq "$RC" 0 "build exit code ($ERR)"
  skopeo inspect oci:layout:v1 >/dev/null
  umoci unpack --image layout:v1 bundle >/dev/null
  local r=bundle/rootfs
  cmp app/main.py $r/srv/app/main.py
  cmp app/pkg/data.txt $r/srv/app/pkg/data.txt
  assert_eq "$(stat -c %a $r/srv/app/main.py)" 644 "mode of main.py"
  assert_eq "$(stat -c %a $r/srv/app/run.sh)" 755 "mode of run.sh (exec bit kept)"
  assert_eq "$(stat -c %a $r/srv/app/pkg/data.txt)" 644 "mode of data.txt (normalized)"
  assert_eq "$(stat -c %a $r/srv/app/pkg)" 755 "mode of a directory"
  assert_eq "$(stat -c %u:%g $r/srv/app/main.py)" 1000:1001 "owner of a file"
  assert_eq "$(stat -c %u:%g $r/srv/app)" 1000:1001 "owner of the destination"
  assert_eq "$(stat -c %u:%g $r/srv)" 0:0 "owner of a parent directory"
  assert_eq "$(readlink $r/srv/app/pkg/main-link)" ../main.py "symlink target"
  assert_eq "$(stat -c %i $r/srv/app/pkg/data.txt)" "$(stat -c %i $r/srv/app/pkg/data-hardlink.txt)" "hard link shares an inode"
  assert_eq "$(stat -c %Y $r/srv/app/main.py)" 0 "mtime"
  assert_no_file $r/srv/app/.git
  assert_no_file $r/srv/app/pkg/__pycache__
  assert_no_file $r/srv/app/docs
  assert_no_file $r/srv/app/debug.log
  assert_file $r/srv/app/.dockerignore
  # stdout is the digest alone; stderr has a line per layer
  assert_eq "$OUT" "$(inspect_digest oci:layout:v1)" "printed digest"
  assert_contains "$ERR" "layer  /srv/app"
}

test_config_fields_are_set() {
  mkdir app && echo x > app/x
  cat > gantry.yaml <<'YAML'
layers: [{source: app, destination: /app}]
entrypoint: ["python3", "/app/app.py"]
cmd: ["--port", "8080"]
env: {PORT: "8080", PYTHONUNBUFFERED: "1"}
workdir: /app
user: "1000:1000"
ports: [8080, 9000/udp]
volumes: [/data]
labels: {team: ai}
stopSignal: SIGINT
YAML
  run_gantry build --store "$(store)" --output oci:l:t --env PORT=9090 --label team=ml --digest-file digest.txt
  assert_eq "$RC" 0 "build ($ERR)"
  skopeo inspect --config oci:l:t > config.json
  assert_eq "$(json config.json 'd["config"]["Entrypoint"]')" "['python3', '/app/app.py']"
  assert_eq "$(json config.json 'd["config"]["Cmd"]')" "['--port', '8080']"
  assert_eq "$(json config.json 'd["config"]["Env"]')" "['PORT=9090', 'PYTHONUNBUFFERED=1']" "flag wins over recipe"
  assert_eq "$(json config.json 'd["config"]["WorkingDir"]')" /app
  assert_eq "$(json config.json 'd["config"]["User"]')" 1000:1000
  assert_eq "$(json config.json 'sorted(d["config"]["ExposedPorts"])')" "['8080/tcp', '9000/udp']"
  assert_eq "$(json config.json 'list(d["config"]["Volumes"])')" "['/data']"
  assert_eq "$(json config.json 'd["config"]["Labels"]["team"]')" ml
  assert_eq "$(json config.json 'd["config"]["Labels"]["org.opencontainers.image.created"]')" 1970-01-01T00:00:00Z
  assert_eq "$(json config.json 'd["config"]["StopSignal"]')" SIGINT
  assert_eq "$(json config.json 'd["created"]')" 1970-01-01T00:00:00Z
  assert_eq "$(json config.json 'len(d["history"])')" 1
  assert_eq "$(cat digest.txt)" "$(inspect_digest oci:l:t)" "--digest-file"
}

test_archives_copy_with_same_digests() {
  make_app
  run_gantry build --store "$(store)" --layer app:/app --entrypoint '["/app/run.sh"]' \
    --output oci:layout:v1 --output oci-archive:image.tar --output docker-archive:docker.tar:example/app:1.0
  assert_eq "$RC" 0 "build ($ERR)"
  local digest; digest=$(inspect_digest oci:layout:v1)
  skopeo copy -q oci-archive:image.tar oci:copy:a
  assert_eq "$(inspect_digest oci:copy:a)" "$digest" "oci-archive round trip"
  # docker-archive: skopeo re-describes the config in Docker form, so compare layers and settings.
  skopeo copy -q docker-archive:docker.tar oci:copy:b
  skopeo inspect --config oci:layout:v1 > ours.json
  skopeo inspect --config oci:copy:b > theirs.json
  assert_eq "$(json theirs.json 'd["rootfs"]["diff_ids"]')" "$(json ours.json 'd["rootfs"]["diff_ids"]')" "diff_ids"
  assert_eq "$(json theirs.json 'd["config"]["Entrypoint"]')" "['/app/run.sh']"
  tar -xf docker.tar manifest.json repositories
  assert_eq "$(json manifest.json 'd[0]["RepoTags"]')" "['example/app:1.0']"
  assert_eq "$(json repositories 'list(d["example/app"])')" "['1.0']"
}

test_base_from_oci_layout_and_archive() {
  mkdir base app && echo base > base/b.txt && echo app > app/a.txt
  run_gantry build --store "$(store)" --layer base:/base --env LANG=C --env PATH=/usr/bin --output oci:layouts:base --output oci-archive:base.tar
  assert_eq "$RC" 0 "base build ($ERR)"
  run_gantry build --store "$(store)" --base oci:layouts:base --layer app:/app --env LANG=C.UTF-8 --output oci:layouts:app
  assert_eq "$RC" 0 "app build ($ERR)"
  skopeo inspect --raw oci:layouts:base > base-manifest.json
  skopeo inspect --raw oci:layouts:app > app-manifest.json
  assert_eq "$(json app-manifest.json 'len(d["layers"])')" 2
  assert_eq "$(json app-manifest.json 'd["layers"][0]["digest"]')" "$(json base-manifest.json 'd["layers"][0]["digest"]')" "base layer reused as is"
  skopeo inspect --config oci:layouts:app > config.json
  assert_eq "$(json config.json 'd["config"]["Env"]')" "['LANG=C.UTF-8', 'PATH=/usr/bin']" "env merged by name"
  assert_eq "$(json config.json 'len(d["history"])')" 2
  # the same from an OCI archive, in a fresh store
  run_gantry build --store "$T/store2" --base oci-archive:base.tar --layer app:/app --env LANG=C.UTF-8 --output oci:layouts:app2
  assert_eq "$RC" 0 "archive base build ($ERR)"
  assert_eq "$(inspect_digest oci:layouts:app2)" "$(inspect_digest oci:layouts:app)" "same image from either base form"
  umoci unpack --image layouts:app2 bundle >/dev/null
  assert_eq "$(cat bundle/rootfs/base/b.txt)" base
  assert_eq "$(cat bundle/rootfs/app/a.txt)" app
}

test_rootfs_base_drops_device_nodes() {
  mkdir -p rootfs/dev rootfs/etc rootfs/bin app
  echo debian > rootfs/etc/os-release
  printf '#!/bin/sh\n' > rootfs/bin/tool; chmod 755 rootfs/bin/tool
  mknod rootfs/dev/null c 1 3
  mkfifo rootfs/dev/pipe
  tar --numeric-owner -C rootfs -cf rootfs.tar .
  echo app > app/a.txt
  run_gantry build --store "$(store)" --base rootfs:rootfs.tar --layer app:/app --output oci:l:t
  assert_eq "$RC" 0 "build ($ERR)"
  assert_contains "$ERR" "dropped 1 device node"
  umoci unpack --image l:t bundle >/dev/null
  assert_eq "$(cat bundle/rootfs/etc/os-release)" debian
  assert_eq "$(stat -c %a bundle/rootfs/bin/tool)" 755
  assert_no_file bundle/rootfs/dev/null
  assert_eq "$(stat -c %F bundle/rootfs/dev/pipe)" fifo
  skopeo inspect --config oci:l:t > config.json
  assert_eq "$(json config.json 'len(d["rootfs"]["diff_ids"])')" 2
  assert_eq "$(json config.json 'len(d["history"])')" 2
}

test_init_writes_a_recipe_that_builds() {
  run_gantry init
  assert_eq "$RC" 0 "init ($ERR)"
  assert_file gantry.yaml
  mkdir app && echo hi > app/hello.txt
  run_gantry build --store "$(store)" --output oci:l:t
  assert_eq "$RC" 0 "build of the starter recipe ($ERR)"
  expect_failure 73 "already exists" init
}

test_local_model_is_read_in_place_and_known_by_its_stamp() {
  mkdir app && echo 'print(1)' > app/app.py
  head -c 3000000 /dev/urandom > weights.bin && touch -d 2020-01-01 weights.bin
  local first_sha; first_sha=$(sha256sum weights.bin | cut -d' ' -f1)
  sleep 2.1  # a stamp from the last second or two is not trusted (a same-tick write could follow)
  run_gantry build --store "$(store)" --layer app:/app --model weights.bin
  assert_eq "$RC" 0 "build ($ERR)"
  local first=$OUT
  assert_contains "$ERR" "model  weights.bin sha256:$first_sha (hashed)"
  assert_no_file "$(store)/blobs/sha256/$first_sha"
  run_gantry build --store "$(store)" --layer app:/app --model weights.bin
  assert_contains "$ERR" "sha256:$first_sha (unchanged)"
  # Same bytes, new mtime: hashed again, and the model layer is still a cache hit.
  touch weights.bin
  run_gantry build --store "$(store)" --layer app:/app --model weights.bin
  assert_eq "$OUT" "$first" "digest after a touch"
  assert_contains "$ERR" "sha256:$first_sha (hashed)"
  echo "$ERR" | grep -E '^layer  /models/weights.bin .*cached$' > /dev/null || fail "model layer rebuilt after a touch: $ERR"
  # New bytes, same size, the old mtime put back: the changed ctime still shows it.
  cp -p weights.bin old.bin
  printf Z | dd of=weights.bin bs=1 seek=100 conv=notrunc status=none
  touch -r old.bin weights.bin
  run_gantry build --store "$(store)" --layer app:/app --model weights.bin
  assert_ne "$OUT" "$first" "digest after the model changed"
  assert_contains "$ERR" "sha256:$(sha256sum weights.bin | cut -d' ' -f1) (hashed)"
  umoci unpack --rootless --image "$(store):gantry:last-build" bundle > /dev/null 2>&1 || fail "umoci could not unpack the image"
  cmp bundle/rootfs/models/weights.bin weights.bin || fail "the image holds other model bytes"
}

test_zstd_layers_are_opt_in_and_read_by_other_tools() {
  start_registry reg
  mkdir app && head -c 3000000 /dev/urandom > app/r.bin
  python3 -c "print('flask routes and model weights\n' * 100000, end='')" > app/t.txt
  run_gantry build --store "$(store)" --layer app:/app --compression zstd:5 --output oci:z:1 --push "$REG/z/app:1" --quiet
  assert_eq "$RC" 0 "zstd build ($ERR)"
  local digest=$OUT
  json z/blobs/sha256/"${digest#sha256:}" 'd["layers"][0]["mediaType"]' > media.txt
  assert_eq "$(cat media.txt)" "application/vnd.oci.image.layer.v1.tar+zstd"
  local layer diff_id
  layer=$(json z/blobs/sha256/"${digest#sha256:}" 'd["layers"][0]["digest"][7:]')
  diff_id=$(json z/blobs/sha256/"$(json z/blobs/sha256/"${digest#sha256:}" 'd["config"]["digest"][7:]')" 'd["rootfs"]["diff_ids"][0]')
  assert_eq "sha256:$(zstd -dc "z/blobs/sha256/$layer" | sha256sum | cut -d' ' -f1)" "$diff_id" "zstd -d of the layer against its diff_id"
  mkdir x && zstd -dc "z/blobs/sha256/$layer" | tar -xf - -C x
  cmp x/app/t.txt app/t.txt && cmp x/app/r.bin app/r.bin || fail "the zstd layer does not hold the app's files"
  skopeo copy -q --src-tls-verify=false "docker://$REG/z/app:1" oci:back:1
  assert_eq "$(inspect_digest oci:back:1)" "$digest" "skopeo copied the zstd image back unchanged"
  # The bytes do not depend on the number of threads.
  run_gantry build --store "$T/one-thread" --layer app:/app --compression zstd:5 --threads 1 --quiet
  assert_eq "$OUT" "$digest" "digest with one thread"
  # Docker's archive format has no zstd: refused before any work, nothing written.
  expect_failure 64 "Docker's archive format cannot hold zstd layers" build --store "$(store)" --layer app:/app --compression zstd --output docker-archive:d.tar
  assert_no_file d.tar
  expect_failure 64 "is zstd-compressed, which Docker's archive format cannot hold" build --store "$(store)" --base oci:z:1 --output docker-archive:d.tar
  assert_no_file d.tar
}

test_concurrent_builds_share_one_store_safely() {
  local i pids=""
  for i in 1 2 3 4; do
    mkdir -p "app$i" && head -c 2097152 /dev/urandom > "app$i/data.bin"
    ( "$GANTRY" build --quiet --store "$(store)" --layer "app$i:/app" --tag "image$i" > "digest$i" 2> "err$i" ) &
    pids="$pids $!"
  done
  for pid in $pids; do wait "$pid" || fail "a concurrent build failed: $(cat err*)"; done
  for i in 1 2 3 4; do
    assert_eq "$(inspect_digest "oci:$(store):image$i")" "$(cat "digest$i")" "image$i in the shared store"
  done
  assert_eq "$(find "$(store)/ingest" -type f | wc -l)" 0 "temp files left by concurrent builds"
}

run_tests
