#!/bin/sh
# The benchmark's references from Debian: nginx (the warm-hit reference) and wrk (the load
# generator). CI does not run the bench; `npm run bench` works without them (autocannon instead
# of wrk, no nginx row) and says so. ipx and autocannon come with `npm ci` (devDependencies).
set -e
missing=""
command -v nginx >/dev/null 2>&1 || missing="$missing nginx"
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
if [ -z "$missing" ]; then
  echo "nginx and wrk are installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "run as root (or with sudo): apt-get install -y$missing" >&2
  exit 1
fi
apt-get update
apt-get install -y nginx wrk
