#!/usr/bin/env bash
# The release (issue 26): scripts/release makes gantry-VERSION-linux-amd64.tar.gz
# (the binary with every C library it loads, glibc included), a .deb of the same
# tree, SHA256SUMS, an SPDX SBOM and cosign-format signatures made by gantry. They
# are checked with tools gantry did not write (sha256sum, openssl, pyspdxtools,
# dpkg-deb, apt), and the tarball's gantry builds, tests (runc) and pushes the
# sample inside Debian 13 (trixie) and Debian 11 (bullseye) roots made with
# mmdebstrap (helpers/make_debian_root.sh), where the .deb installs with apt.
# Each root is entered with unshare + pivot_root (runc's exec needs the root to be
# its mount namespace's, which chroot alone does not give); it shares the host's
# network, so the loopback registry and PyPI are reachable, and gets the host's CA
# bundle, as an agent's image would carry its own.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

DIST=$(release_dist)
VERSION=$(sed -n 's/.*static let number = "\(.*\)"/\1/p' "$REPO_ROOT/Sources/SystemSupport/GantryVersion.swift")
TARBALL="gantry-$VERSION-linux-amd64.tar.gz"
DEB="gantry_${VERSION}_amd64.deb"
BASE_TAR=$("$REPO_ROOT/scripts/make-python-base")

# openssl_verifies FILE: the cosign-format signature FILE.sig checked by openssl with release.pub.
openssl_verifies() {
  base64 -d "$DIST/$1.sig" > "$T/signature.der"
  openssl dgst -sha256 -verify "$DIST/release.pub" -signature "$T/signature.der" "$2" > /dev/null 2>&1
}

test_the_artifacts_check_out_with_tools_gantry_did_not_write() {
  (cd "$DIST" && sha256sum --quiet -c SHA256SUMS) || fail "sha256sum -c SHA256SUMS"
  local file
  for file in "$TARBALL" "$DEB" SHA256SUMS; do
    openssl_verifies "$file" "$DIST/$file" || fail "openssl does not verify $file.sig"
  done
  # A changed byte: openssl and gantry verify-blob both refuse it.
  cp "$DIST/$DEB" tampered.deb
  printf '\x00' | dd of=tampered.deb bs=1 seek=1000 conv=notrunc 2> /dev/null
  openssl_verifies "$DEB" tampered.deb && fail "openssl verified a changed .deb"
  expect_failure 1 "does not verify" verify-blob tampered.deb --key "$DIST/release.pub" --signature "$DIST/$DEB.sig"
  run_gantry verify-blob "$DIST/$DEB" --key "$DIST/release.pub" --signature "$DIST/$DEB.sig"
  assert_eq "$RC" 0 "verify-blob of the .deb ($ERR)"
  # The SBOM: valid SPDX, naming each bundled library's Debian package and version.
  pyspdxtools -i "$DIST/gantry-$VERSION.spdx.json" > spdx.log 2>&1 || fail "pyspdxtools: $(tail -5 spdx.log)"
  python3 - "$DIST/gantry-$VERSION.spdx.json" "$(dpkg-query -W -f='${Version}' libcurl4)" "$(dpkg-query -W -f='${Version}' libc6)" <<'PY' > /dev/null || fail "SBOM contents"
import json, sys
document, curl, libc = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
packages = {p["name"]: p for p in document["packages"]}
assert packages["gantry"]["primaryPackagePurpose"] == "APPLICATION"
assert packages["libcurl4"]["versionInfo"] == curl, packages["libcurl4"]
assert packages["libc6"]["versionInfo"] == libc
assert packages["libcurl4"]["externalRefs"][0]["referenceLocator"] == f"pkg:deb/debian/libcurl4@{curl}?arch=amd64"
files = {f["fileName"]: f for f in document["files"]}
assert "./lib/gantry/lib/libc.so.6" in files and "./lib/gantry/lib/libcurl.so.4" in files, sorted(files)
contains = {(r["spdxElementId"], r["relatedSpdxElement"]) for r in document["relationships"] if r["relationshipType"] == "CONTAINS"}
assert (packages["libcurl4"]["SPDXID"], files["./lib/gantry/lib/libcurl.so.4"]["SPDXID"]) in contains
print(len(files))
PY
  # Every library in the tarball is in the SBOM, with the checksum of the file shipped.
  local listed; listed=$(tar -tzf "$DIST/$TARBALL" | grep -c '/lib/gantry/lib/.')
  python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['files']))" "$DIST/gantry-$VERSION.spdx.json" > files.count
  assert_eq "$(cat files.count)" "$listed" "files in the SBOM"
  # The .deb: what it is and what it depends on; every library it ships is in the SBOM's list.
  assert_eq "$(dpkg-deb -f "$DIST/$DEB" Package Version Depends | tr '\n' ' ')" "Package: gantry Version: $VERSION Depends: ca-certificates " "control fields"
  dpkg-deb -c "$DIST/$DEB" > contents.txt
  grep -q ' ./usr/bin/gantry$' contents.txt || fail "no /usr/bin/gantry in the .deb"
  grep -q ' ./usr/lib/gantry/lib/libc.so.6$' contents.txt || fail "glibc is not bundled"
  grep -q ' ./usr/share/gantry/templates/gantry.yaml$' contents.txt || fail "no templates in the .deb"
  # The tarball: one top directory, root-owned entries, no absolute or .. names.
  tar -tvzf "$DIST/$TARBALL" > listing.txt
  [ "$(awk '{print $6}' listing.txt | cut -d/ -f1 | sort -u)" = "gantry-$VERSION-linux-amd64" ] || fail "top directories: $(awk '{print $6}' listing.txt | cut -d/ -f1 | sort -u)"
  [ "$(awk '{print $2}' listing.txt | sort -u)" = "0/0" ] || fail "owners: $(awk '{print $2}' listing.txt | sort -u)"
}

# release_in_root SUITE: the tarball's gantry builds, tests and pushes the sample inside
# a SUITE root, and the .deb installs there with apt and runs.
release_in_root() {
  local suite=$1
  start_registry reg
  local root="$T/root"
  mkdir -p "$root"
  tar -xf "$("$REPO_ROOT/Tests/integration/helpers/make_debian_root.sh" "$suite")" -C "$root" --numeric-owner
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mkdir -p "$root/opt" "$root/work"
  tar -xzf "$DIST/$TARBALL" -C "$root/opt"
  cp "$DIST/$DEB" "$BASE_TAR" "$root/work/"
  cp -r "$REPO_ROOT/fixtures/flask-app" "$root/work/sample"
  python3 "$root/work/sample/model/train.py" "$root/work/sample/model/iris/" > /dev/null
  cat > "$root/work/inside.sh" <<SH
set -euo pipefail
cd /work
gantry=/opt/gantry-$VERSION-linux-amd64/bin/gantry
"\$gantry" --version | head -1
"\$gantry" build -f sample/gantry.yaml --base rootfs:/work/$(basename "$BASE_TAR") --model sample/model/iris/ \
  --test --push $REG/release/sample:$suite --digest-file /work/digest 2>&1 | grep -E '^(ok|FAIL|gantry: error)|checks passed|pushed' || true
# The .deb: installed by apt (its Depends are there already: no download), run from /usr/bin.
apt-get install -y --no-install-recommends ./$(basename "$DEB") > /work/apt.log 2>&1 || { tail -5 /work/apt.log; exit 1; }
dpkg-query -W -f='installed \${Package} \${Version}\n' gantry
mkdir -p empty && (cd empty && gantry init > /dev/null && head -1 gantry.yaml)
SH
  unshare --mount --fork sh -c '
    set -e; r=$1
    mount --rbind "$r" "$r"
    mount -t proc proc "$r/proc"; mount --rbind /sys "$r/sys"; mount --rbind /dev "$r/dev"
    mount -t tmpfs tmpfs "$r/run"; mount -t tmpfs tmpfs "$r/tmp"
    mkdir -p "$r/.host"; cd "$r"; pivot_root . .host
    exec chroot . /bin/bash -c "umount -l /.host && rmdir /.host && HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin bash /work/inside.sh"
  ' sh "$root" > inside.log 2>&1 || fail "inside $suite: $(cat inside.log)"
  local log; log=$(cat inside.log)
  assert_contains "$log" "gantry $VERSION (revision"
  assert_contains "$log" "6 of 6 checks passed"
  assert_contains "$log" "installed gantry $VERSION"
  assert_contains "$log" "# gantry.yaml"
  # What it pushed, read back by skopeo on the host.
  assert_eq "$(inspect_digest --tls-verify=false "docker://$REG/release/sample:$suite")" "$(cat "$root/work/digest")" "pushed digest"
  rm -rf "$root"
}

test_the_tarball_builds_tests_and_pushes_the_sample_in_debian_13() { release_in_root trixie; }

test_the_tarball_builds_tests_and_pushes_the_sample_in_debian_11() { release_in_root bullseye; }

run_tests
