#!/usr/bin/env bash
# One-shot set-up for a fresh Debian 12 machine that reaches only the npm registry and
# Debian's mirror: system packages, npm dependencies (Node 24 comes from npm), the
# mediasoup worker (built offline, cached outside the repo) and the client build.
# Safe to rerun: every step skips what is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }
SUDO=""
need_update=0
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# --- Debian packages -------------------------------------------------------------------
# bookworm-backports brings meson >= 1.1 (the worker needs it); deb-src lets the worker
# build fetch libsrtp's source package.
if [ ! -f /etc/apt/sources.list.d/tutti.sources ]; then
  log "adding bookworm-backports and deb-src apt sources"
  $SUDO tee /etc/apt/sources.list.d/tutti.sources >/dev/null <<'SRC'
Types: deb deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  need_update=1
fi

# Runtime + test tools (chromium for browser tests, ffmpeg for RTP fixtures, redis for the
# cluster implementations, coturn for the TURN test) plus whatever the worker build lists.
want=(chromium ffmpeg redis-server fonts-liberation coturn pocketsphinx pocketsphinx-en-us pocketsphinx-testdata)
if [ -f media-workers/build/apt-packages.txt ]; then
  while read -r pkg; do
    pkg="${pkg%%#*}"; pkg="$(echo "$pkg" | xargs)"
    [ -n "$pkg" ] && want+=("$pkg")
  done < media-workers/build/apt-packages.txt
fi
missing=()
for pkg in "${want[@]}"; do
  name="${pkg%%/*}"; name="${name%%=*}"
  dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# kubectl renders k8s/ in the deploy test; Debian packages it as kubernetes-client.
command -v kubectl >/dev/null || missing+=(kubernetes-client)
if [ "${#missing[@]}" -gt 0 ] || [ "$need_update" -eq 1 ]; then
  log "apt-get install ${missing[*]:-(sources only)}"
  $SUDO apt-get update -qq || $SUDO apt-get update
  [ "${#missing[@]}" -eq 0 ] || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- npm dependencies ------------------------------------------------------------------
# allowScripts in package.json approves exactly the install scripts that must run (the Node 24
# binary) and denies mediasoup's (it would try GitHub/PyPI; the worker is built below).
log "npm ci"
npm ci --no-audit --no-fund

# --- the mediasoup worker --------------------------------------------------------------
log "mediasoup worker"
bash media-workers/build/build-worker.sh

# --- the client ------------------------------------------------------------------------
log "client build"
npm run build

log "set-up done: npm start serves http://localhost:3000"
