#!/usr/bin/env bash
# What `make test` needs from the machine besides Python packages (`make test` runs this first):
# PostgreSQL's server binaries (tests/support/pg.py starts a throwaway server) and Debian's Chromium
# (the console's browser tests drive /usr/bin/chromium, never a downloaded browser; the CJK
# font makes the zh-CN screenshots legible). Present: returns at once, without apt. Missing:
# as root on Debian it installs them from Debian's packages; otherwise it stops with one line
# naming the command to run.
set -euo pipefail

packages=()
# An existing server given by WAYBILL_TEST_POSTGRES_URL (tests/conftest.py) needs no binaries.
if [ -z "${WAYBILL_TEST_POSTGRES_URL:-}" ] && ! command -v initdb >/dev/null 2>&1 \
    && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  packages+=(postgresql)
fi
if [ ! -x /usr/bin/chromium ]; then
  packages+=(chromium fonts-noto-cjk)
fi
[ ${#packages[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "make test needs Debian's ${packages[*]}: run" \
    "sudo sh -c 'apt-get update && apt-get install -y ${packages[*]}' (or make test as root)" >&2
  exit 1
fi
echo "make test: installing ${packages[*]} from Debian's packages" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
