#!/usr/bin/env bash
# make_debian_repo.sh: makes (once, cached) a small signed Debian repository for
# the OS-packages tests and prints its directory. It holds the real bookworm
# packages that the package sets below need on scripts/make-python-base's base,
# every alternative and provider included (apt-cache depends --recurse), so the
# resolver has real choices to make, and arm64's tini with what it needs on an
# empty dpkg database (the multi-platform test); indexed by dpkg-scanpackages, released by
# apt-ftparchive and clearsigned with a key made for it (key.gpg, key.asc).
# Downloading takes a minute or two the first time (~150 MB from Debian's mirror).
#
# The sets: what AI apps install with apt (the issue's list, and the reference
# sample's nginx + supervisor). One set per line.
set -euo pipefail
SETS=(
  "libgomp1"
  "libgl1 libglib2.0-0"
  "ffmpeg"
  "poppler-utils"
  "tesseract-ocr"
  "curl"
  "tini"
  "nginx"
  "supervisor"
  "nginx supervisor curl ca-certificates tini"
)
if [ "${1:-}" = "--sets" ]; then printf '%s\n' "${SETS[@]}"; exit 0; fi

here=$(cd "$(dirname "$0")" && pwd)
cache="${GANTRY_BASE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gantry-bases}"
repo="$cache/debian-repo-v2"
if [ -f "$repo/ready" ]; then echo "$repo"; exit 0; fi

base=$("$here/../../../scripts/make-python-base")
work="$cache/debian-repo-work-$$"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root" "$work/lists/partial" "$work/archives/partial" "$work/debs"
tar -xf "$base" -C "$work/root" --exclude='./dev/*'
# apt on the base's own sources and dpkg status, its lists and downloads kept here.
apt_options=(-q -o "Dir=$work/root" -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/archives"
             -o "Dir::State::status=$work/root/var/lib/dpkg/status" -o APT::Sandbox::User=root)
echo "make_debian_repo: apt-get update against the base's sources" >&2
apt-get "${apt_options[@]}" update >&2
all=$(printf '%s ' "${SETS[@]}")
# Every package a set could need: dependencies with all their alternatives and
# every provider of a virtual name, recursively (recommends and suggests not).
names=$(apt-cache "${apt_options[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
          --no-replaces --no-enhances $all | grep -v '^ ' | grep -v '^<' | sed 's/:.*//' | sort -u)
echo "make_debian_repo: downloading $(echo "$names" | wc -w) packages" >&2
(cd "$work/debs" && apt-get "${apt_options[@]}" download $names >&2)

# arm64: tini and what it needs where nothing is installed (apt's lists for arm64 alone).
mkdir -p "$work/lists-arm64/partial" "$work/debs-arm64"
arm64_options=("${apt_options[@]}" -o "Dir::State::Lists=$work/lists-arm64" -o APT::Architecture=arm64 -o APT::Architectures=arm64
               -o Dir::State::status=/dev/null)
apt-get "${arm64_options[@]}" update >&2
arm64_names=$(apt-cache "${arm64_options[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
                --no-replaces --no-enhances tini | grep -v '^ ' | grep -v '^<' | sed 's/:.*//' | sort -u)
(cd "$work/debs-arm64" && apt-get "${arm64_options[@]}" download $arm64_names >&2)

rm -rf "$repo.partial" && mkdir -p "$repo.partial/pool/main" "$repo.partial/pool/arm64"
mv "$work"/debs/*.deb "$repo.partial/pool/main/"
mv "$work"/debs-arm64/*.deb "$repo.partial/pool/arm64/"
for arch in amd64 arm64; do
  mkdir -p "$repo.partial/dists/bookworm/main/binary-$arch"
  (cd "$repo.partial" && dpkg-scanpackages -m -a "$arch" pool /dev/null 2>/dev/null > "dists/bookworm/main/binary-$arch/Packages")
  xz -k "$repo.partial/dists/bookworm/main/binary-$arch/Packages"
  gzip -k "$repo.partial/dists/bookworm/main/binary-$arch/Packages"
done
(cd "$repo.partial" && apt-ftparchive -o APT::FTPArchive::Release::Origin=gantry-tests -o APT::FTPArchive::Release::Suite=bookworm \
   -o APT::FTPArchive::Release::Codename=bookworm -o "APT::FTPArchive::Release::Architectures=amd64 arm64" \
   -o APT::FTPArchive::Release::Components=main release dists/bookworm > "$work/Release")
mv "$work/Release" "$repo.partial/dists/bookworm/Release"
export GNUPGHOME="$work/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key "gantry tests <tests@gantry.invalid>" ed25519 sign never 2>/dev/null
gpg --batch --quiet --export > "$repo.partial/key.gpg"
gpg --batch --quiet --armor --export > "$repo.partial/key.asc"
gpg --batch --quiet --clearsign -o "$repo.partial/dists/bookworm/InRelease" "$repo.partial/dists/bookworm/Release"
gpg --batch --quiet --detach-sign -o "$repo.partial/dists/bookworm/Release.gpg" "$repo.partial/dists/bookworm/Release"
touch "$repo.partial/ready"
rm -rf "$repo" && mv "$repo.partial" "$repo"
echo "$repo"
