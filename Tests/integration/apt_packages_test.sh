#!/usr/bin/env bash
# OS packages without running anything (issue 25): a loopback Debian repository
# of real bookworm packages (helpers/make_debian_repo.sh: dpkg-scanpackages,
# apt-ftparchive, a gpg-clearsigned InRelease), served by python3 -m http.server.
# What gantry chooses is compared with apt-get install --simulate on the same
# base against the same repository; the images are checked by oci_check, unpacked
# by GNU tar and run by runc (gantry test).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

DEBS=$("$REPO_ROOT/Tests/integration/helpers/make_debian_repo.sh")
BASE_TAR=$("$REPO_ROOT/scripts/make-python-base")
SHARED=$(mktemp -d /tmp/gantry-apt-shared.XXXXXX)
trap 'rm -rf "$SHARED"' EXIT

# serve_repo DIR: a static HTTP server of DIR on a free loopback port; sets REPO_URL, REPO_LOG.
serve_repo() {
  local port; port=$(free_port)
  REPO_LOG="$T/repo.log"
  python3 -m http.server -b 127.0.0.1 "$port" -d "$1" > "$REPO_LOG" 2>&1 &
  SERVICE_PIDS="$SERVICE_PIDS $!"
  wait_for_port "$port"
  REPO_URL="http://127.0.0.1:$port"
}

# recipe PACKAGES... : gantry.yaml on the python3 base, installing PACKAGES from the test repository.
recipe() {
  local list; list=$(printf '%s, ' "$@"); list=${list%, }
  cat > gantry.yaml <<YAML
base: rootfs:$BASE_TAR
packages:
  install: [$list]
  repositories:
    - url: $REPO_URL
      suite: bookworm
      key: ${KEY:-$DEBS/key.asc}
YAML
}

test_gantry_installs_what_apt_chooses_for_ten_package_sets() {
  serve_repo "$DEBS"
  # apt on a copy of the same base, its sources replaced by the same repository.
  mkdir -p root lists/partial archives/partial
  tar -xf "$BASE_TAR" -C root --exclude='./dev/*'
  rm -f root/etc/apt/sources.list root/etc/apt/sources.list.d/*
  printf 'Types: deb\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: %s\n' "$REPO_URL" "$DEBS/key.gpg" > root/etc/apt/sources.list.d/test.sources
  local apt=(-q -o "Dir=$T/root" -o "Dir::State::Lists=$T/lists" -o "Dir::Cache::Archives=$T/archives"
             -o "Dir::State::status=$T/root/var/lib/dpkg/status" -o APT::Sandbox::User=root -o APT::Install-Recommends=false)
  apt-get "${apt[@]}" update > apt-update.log 2>&1 || fail "apt-get update: $(cat apt-update.log)"
  local sets=0 differing=0
  while read -r set; do
    # shellcheck disable=SC2086
    recipe $set
    run_gantry packages --store "$SHARED/store"
    assert_eq "$RC" 0 "gantry packages for [$set] ($ERR)"
    echo "$OUT" | awk '{print $1"="$2}' | sort > gantry.txt
    # shellcheck disable=SC2086
    apt-get "${apt[@]}" -s install $set 2>&1 | awk '/^Inst /{gsub(/\(/, "", $3); print $2"="$3}' | sort > apt.txt
    [ -s apt.txt ] || fail "apt chose nothing for [$set]"
    sets=$((sets + 1))
    if ! diff -u apt.txt gantry.txt > difference.txt; then
      differing=$((differing + 1))
      echo "    [$set]: apt chose $(wc -l < apt.txt) packages, gantry $(wc -l < gantry.txt):"
      sed 's/^/      /' difference.txt | head -20
    else
      note "[$set]: the same $(wc -l < apt.txt) packages as apt"
    fi
  done < <("$REPO_ROOT/Tests/integration/helpers/make_debian_repo.sh" --sets)
  assert_eq "$sets" 10 "package sets compared"
  assert_eq "$differing" 0 "sets where gantry and apt chose differently"
}

test_an_image_with_os_packages_runs_them_and_a_rebuild_downloads_nothing() {
  serve_repo "$DEBS"
  recipe curl tini libgomp1 libgl1 libblas3
  cat >> gantry.yaml <<'YAML'
entrypoint: [/usr/bin/tini, --]
cmd: [python3, -m, http.server, "8080"]
ports: ["8080"]
test:
  ready: {path: /, timeout: 30}
  checks:
    - name: curl runs
      exec: [curl, --version]
      expect: {output: "curl 7.88.1"}
    - name: the libraries load (their dependencies are in the layer)
      exec: [python3, -c, "import ctypes; [ctypes.CDLL(n) for n in ('libgomp.so.1', 'libGL.so.1', 'libblas.so.3')]; print('loaded')"]
      expect: {output: loaded}
YAML
  export SOURCE_DATE_EPOCH=1700000000
  run_gantry build --store "$(store)" --output oci:out:x --test --sbom
  assert_eq "$RC" 0 "build --test with OS packages ($ERR)"
  local digest=$OUT
  assert_contains "$ERR" "os packages ("
  python3 "$REPO_ROOT/../shared/tools/oci_check.py" out > check.txt || fail "oci_check: $(cat check.txt)"
  # The layer as GNU tar reads it: the packages' files, their records as distroless
  # writes them, the alternatives libblas3's postinst would have made, nothing under
  # the merged-/usr symlinks (lib/, bin/) that would replace them.
  local layer
  layer=$(python3 -c "import json; m=json.load(open('out/blobs/sha256/${digest#sha256:}')); print(m['layers'][1]['digest'].split(':')[1])")
  tar -tvzf "out/blobs/sha256/$layer" > layer.txt
  grep -q ' usr/bin/curl$' layer.txt || fail "no usr/bin/curl in the packages layer"
  grep -q ' var/lib/dpkg/status.d/curl$' layer.txt || fail "no status.d/curl record"
  grep -q ' var/lib/dpkg/status.d/libcurl4.md5sums$' layer.txt || fail "no md5sums record"
  grep -q 'usr/lib/x86_64-linux-gnu/libblas.so.3 -> /etc/alternatives/libblas.so.3-x86_64-linux-gnu' layer.txt \
    || fail "libblas3's alternative link is missing: $(grep libblas layer.txt)"
  grep -qE ' (lib|bin|sbin|lib64)(/|$)' layer.txt && fail "entries under a merged-/usr symlink: $(grep -E ' (lib|bin|sbin|lib64)(/|$)' layer.txt | head -3)"
  tar -xOzf "out/blobs/sha256/$layer" var/lib/dpkg/status.d/curl | grep -q '^Version: 7.88.1' || fail "status.d/curl is not curl's control stanza"

  # The SBOM (attached in the layout) lists the new packages beside the base's, as Debian packages.
  python3 - out <<'PY' || fail "the SPDX SBOM does not list curl and the base's libc6 as deb packages"
import glob, json, sys
for path in glob.glob(sys.argv[1] + "/blobs/sha256/*"):
    try: document = json.load(open(path))
    except Exception: continue
    if isinstance(document, dict) and "spdxVersion" in document:
        purls = [ref["referenceLocator"] for package in document["packages"] for ref in package.get("externalRefs", [])]
        assert any(p.startswith("pkg:deb/debian/curl@7.88.1") for p in purls), purls[:5]
        assert any(p.startswith("pkg:deb/debian/libc6@") for p in purls), purls[:5]
        sys.exit(0)
sys.exit(1)
PY

  # Unchanged: the InRelease is asked again, no index and no .deb.
  : > "$REPO_LOG"
  run_gantry build --store "$(store)"
  assert_eq "$OUT" "$digest" "digest of the unchanged rebuild"
  assert_contains "$ERR" "cached"
  grep -q '\.deb' "$REPO_LOG" && fail "a rebuild downloaded packages: $(grep '\.deb' "$REPO_LOG" | head -3)"
  grep -q 'Packages' "$REPO_LOG" && fail "a rebuild downloaded an index again"
  # A fresh store makes the same image.
  run_gantry build --store "$T/fresh-store"
  assert_eq "$OUT" "$digest" "digest from a fresh store"
}

test_the_bases_own_repositories_are_used_by_default() {
  serve_repo "$DEBS"
  sources_naming "$DEBS" "$REPO_URL"
  run_gantry build --store "$(store)" --base "rootfs:$BASE_TAR" --layer "over:/" --output oci:base:1
  assert_eq "$RC" 0 "making the base ($ERR)"
  printf 'base: oci:base:1\npackages:\n  install: [tini]\n' > gantry.yaml
  run_gantry packages --store "$(store)"
  assert_eq "$RC" 0 "packages from the base's sources ($ERR)"
  assert_eq "$OUT" "tini 0.19.0-1+b3 amd64" "what tini resolves to"
  grep -q 'GET /dists/bookworm/InRelease' "$REPO_LOG" || fail "the base's repository was not asked: $(cat "$REPO_LOG")"
}

test_a_fresh_agent_with_cache_repo_downloads_no_package() {
  serve_repo "$DEBS"
  start_registry reg
  recipe tini curl
  run_gantry build --store "$T/agent1" --cache-repo "$REG/cache/apt" --push "$REG/apps/tools:1"
  assert_eq "$RC" 0 "first agent's build and push ($ERR)"
  local digest=$OUT
  : > "$REPO_LOG"
  run_gantry build --store "$T/agent2" --cache-repo "$REG/cache/apt" --push "$REG/apps/tools:2"
  assert_eq "$RC" 0 "second agent's build ($ERR)"
  assert_eq "$OUT" "$digest" "digest on a fresh agent"
  assert_contains "$ERR" "cached (registry)"
  grep -q '\.deb' "$REPO_LOG" && fail "a fresh agent with the layer cache downloaded packages: $(grep '\.deb' "$REPO_LOG" | head -3)"
  return 0
}

test_each_platform_resolves_against_its_own_base() {
  serve_repo "$DEBS"
  # A two-platform base: Debian's python3 root filesystems (arm64's only extracted:
  # an empty dpkg database), each an image, an index over both (make_index.py).
  for arch in amd64 arm64; do
    run_gantry build -q --store "$(store)" --base "rootfs:$("$REPO_ROOT/scripts/make-python-base" "$arch")" --platform "linux/$arch" --output "oci:base:$arch"
    assert_eq "$RC" 0 "the $arch base ($ERR)"
  done
  python3 "$HELPERS/make_index.py" base multi amd64 arm64 > /dev/null
  recipe tini
  sed -i "s|^base: .*|base: oci:base:multi\nplatforms: [linux/amd64, linux/arm64]|" gantry.yaml
  run_gantry packages --store "$(store)"
  assert_eq "$RC" 0 "packages for two platforms ($ERR)"
  assert_eq "$(echo "$OUT" | grep -c ' linux/amd64$')" 1 "amd64 packages (libc6 is in its base): $OUT"
  echo "$OUT" | awk '$4 == "linux/arm64" {print $1"="$2}' | sort > gantry-arm64.txt
  # apt on the arm64 root filesystem, for arm64, against the same repository.
  mkdir -p root lists/partial archives/partial
  tar -xf "$("$REPO_ROOT/scripts/make-python-base" arm64)" -C root --exclude='./dev/*'
  rm -f root/etc/apt/sources.list root/etc/apt/sources.list.d/*
  printf 'Types: deb\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: %s\n' "$REPO_URL" "$DEBS/key.gpg" > root/etc/apt/sources.list.d/test.sources
  local apt=(-q -o "Dir=$T/root" -o "Dir::State::Lists=$T/lists" -o "Dir::Cache::Archives=$T/archives" -o "Dir::State::status=$T/root/var/lib/dpkg/status"
             -o APT::Sandbox::User=root -o APT::Install-Recommends=false -o APT::Architecture=arm64 -o APT::Architectures=arm64)
  apt-get "${apt[@]}" update > apt-update.log 2>&1 || fail "apt-get update: $(cat apt-update.log)"
  apt-get "${apt[@]}" -s install tini 2>&1 | awk '/^Inst /{gsub(/\(/, "", $3); print $2"="$3}' | sort > apt-arm64.txt
  diff -u apt-arm64.txt gantry-arm64.txt || fail "arm64: gantry and apt chose differently"
  assert_eq "$(wc -l < apt-arm64.txt | tr -d ' ')" 4 "packages apt installs for tini on an empty arm64 database"

  # The arm64 image's packages layer holds arm64's tini (ELF machine 183, AArch64).
  run_gantry build --store "$(store)" --output oci:out:x
  assert_eq "$RC" 0 "two-platform build ($ERR)"
  python3 - out <<'PY' || fail "the arm64 packages layer does not hold an AArch64 tini"
import json, struct, sys, tarfile
layout = sys.argv[1]
def blob(d): return f"{layout}/blobs/sha256/{d.split(':')[1]}"
index = json.load(open(blob(json.load(open(f"{layout}/index.json"))["manifests"][0]["digest"])))
machines = {}
for entry in index["manifests"]:
    manifest = json.load(open(blob(entry["digest"])))
    with tarfile.open(blob(manifest["layers"][1]["digest"]), "r:*") as tar:
        header = tar.extractfile("usr/bin/tini").read(20)
        machines[entry["platform"]["architecture"]] = struct.unpack("<H", header[18:20])[0]
assert machines == {"amd64": 62, "arm64": 183}, machines
PY
}

test_bad_signatures_hashes_and_names_stop_with_one_line() {
  # A tampered copy: the pool shared, dists copied so each file can be broken.
  mkdir -p bad && ln -s "$DEBS/pool" bad/pool && cp -r "$DEBS/dists" bad/dists
  serve_repo bad
  # Another key signed the InRelease.
  export GNUPGHOME="$T/gnupg" && mkdir -m 700 "$GNUPGHOME"
  gpg --batch --quiet --passphrase '' --quick-gen-key "someone else <x@gantry.invalid>" ed25519 sign never 2>/dev/null
  cp bad/dists/bookworm/InRelease good-InRelease
  gpg --batch --quiet --yes --clearsign -o bad/dists/bookworm/InRelease bad/dists/bookworm/Release
  recipe tini
  expect_failure 65 "$REPO_URL/dists/bookworm/InRelease is not signed by a key it must be signed with" packages --store "$(store)"
  assert_eq "$(ls "$(store)/ingest" 2>/dev/null)" "" "scratch left in the store"
  cp good-InRelease bad/dists/bookworm/InRelease

  # An index that is not the one the signed Release lists.
  printf '\n' | xz >> bad/dists/bookworm/main/binary-amd64/Packages.xz
  expect_failure 65 "binary-amd64/Packages.xz does not match the SHA-256 its signed Release lists" packages --store "$(store)"
  cp "$DEBS/dists/bookworm/main/binary-amd64/Packages.xz" bad/dists/bookworm/main/binary-amd64/

  # A .deb that is not the one the index lists: refused, not kept.
  rm bad/pool && mkdir -p bad/pool/main && cp "$DEBS"/pool/main/tini_*.deb bad/pool/main/
  printf 'x' >> bad/pool/main/tini_*.deb
  expect_failure 65 "tini_0.19.0-1+b3_amd64.deb does not match the SHA-256 its index lists" build --store "$(store)"
  local bad_sha; bad_sha=$(sha256sum bad/pool/main/tini_*.deb | cut -d' ' -f1)
  assert_no_file "$(store)/blobs/sha256/$bad_sha"
  assert_eq "$(ls "$(store)/ingest" 2>/dev/null)" "" "scratch left in the store"

  # Names that are not there, and a version not offered.
  recipe no-such-package
  expect_failure 66 "package no-such-package is in no repository gantry reads for amd64" packages --store "$(store)"
  recipe "tini=9.9"
  expect_failure 66 "package tini=9.9 is not offered; the repositories have 0.19.0-1+b3" packages --store "$(store)"
  printf 'base: rootfs:%s\npackages:\n  install: [Bad_Name]\n' "$BASE_TAR" > gantry.yaml
  expect_failure 64 "gantry.yaml:3" packages --store "$(store)"
  printf 'base: scratch\npackages:\n  install: [tini]\n  repositories: [{url: %s, suite: bookworm, key: %s}]\n' "$REPO_URL" "$DEBS/key.asc" > gantry.yaml
  expect_failure 64 "OS packages go on a Debian or Ubuntu base" packages --store "$(store)"
}

run_tests
