#!/usr/bin/env bash
# Installs the Debian packages dam needs to build, test and benchmark.
# Idempotent: only missing packages are installed, so `make run` stays fast.
set -euo pipefail

PKGS=(
  build-essential pkg-config meson ninja-build clang libclang-rt-14-dev
  libvips-dev libvips-tools liblcms2-dev libpoppler-glib-dev
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev ffmpeg
  libh2o-evloop-dev libssl-dev libjansson-dev libsqlite3-dev sqlite3 libpq-dev postgresql libroaring-dev
  libsodium-dev libmagic-dev libinih-dev libcurl4-openssl-dev libarchive-dev zlib1g-dev
  libcmocka-dev libimage-exiftool-perl imagemagick poppler-utils valgrind jq
  wrk nginx varnish chromium
  mate-backgrounds plasma-workspace-wallpapers librsvg2-bin espeak-ng
  # S3 tests (tests/s3, scripts/rgw.sh): a throwaway Ceph cluster with the RADOS Gateway
  ceph-mon ceph-osd radosgw ceph-common
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
