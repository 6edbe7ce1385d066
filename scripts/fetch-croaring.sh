#!/usr/bin/env bash
# Fetch Debian's CRoaring source (the orig tarball of the `croaring` source
# package) into .deps/, so the build compiles it for this CPU. Adds a deb-src
# entry for bookworm if apt has none. Needs root for the apt configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .deps
if ls .deps/croaring_*.orig.tar.* >/dev/null 2>&1; then
  exit 0
fi
if ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  cat > /etc/apt/sources.list.d/crowd-deb-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt-get update -qq
fi
# Only the orig tarball is needed; apt may fail on the Debian packaging
# tarball when the archive no longer carries that exact revision, so judge by
# what arrived, not by the exit code.
(cd .deps && apt-get source --download-only croaring >/dev/null 2>&1) || true
if ls .deps/croaring_*.orig.tar.* >/dev/null 2>&1; then
  echo "fetch-croaring: $(ls .deps/croaring_*.orig.tar.*)"
else
  echo "fetch-croaring: could not fetch Debian's croaring source; the build will fall back to the system libroaring" >&2
fi
