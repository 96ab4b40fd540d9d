#!/usr/bin/env bash
# make_debian_root.sh SUITE: makes (once, cached) a Debian SUITE root filesystem
# tarball with what gantry's release needs to build, test and push there
# (python3 and pip, runc, CA certificates, mount; nothing of gantry's build toolchain)
# and prints its path. release_test runs the release inside Debian 11 (bullseye)
# and 13 (trixie) roots made here. About a minute each the first time.
set -euo pipefail
suite=$1
cache="${GANTRY_BASE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gantry-bases}"
root="$cache/debian-root-$suite-v2.tar"
if [ ! -s "$root" ]; then
  mkdir -p "$cache"
  echo "make_debian_root: running mmdebstrap for $suite (once)" >&2
  mmdebstrap --quiet --variant=apt --include=python3,python3-pip,runc,ca-certificates,mount "$suite" "$cache/partial-$$.tar" >&2
  mv "$cache/partial-$$.tar" "$root"
fi
echo "$root"
