#!/bin/sh
# Installs the Debian packages dana-sandbox needs (only those missing).
# Run as root (or with sudo) on Debian 12.
set -eu
PKGS="make gcc libc6-dev pkg-config lua5.4 liblua5.4-dev lua-lpeg lua-lpeg-dev lua-cjson lua-busted luarocks lua-check libsodium-dev"
need=""
for p in $PKGS; do
  dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
if [ -n "$need" ]; then
  echo "installing:$need"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi
