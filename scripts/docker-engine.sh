#!/usr/bin/env bash
# Brings up a local Docker engine with Compose v2 on Debian bookworm (idempotent, needs root):
# Debian's docker.io for the engine and, since bookworm only ships Compose v1, the Compose v2
# package from Debian trixie, pinned at low priority so nothing else comes from trixie.
# Also installs busybox-static, from which the test suite builds its fixture image offline.
set -euo pipefail

log() { printf 'docker-engine: %s\n' "$*" >&2; }
apt_ready=0
apt_update() {
  if [ "$apt_ready" = 0 ]; then apt-get update -qq >/dev/null; apt_ready=1; fi
}
apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }

if ! command -v dockerd >/dev/null 2>&1; then
  log "installing docker.io from Debian"
  apt_update
  apt_install docker.io iptables
fi

if ! docker compose version >/dev/null 2>&1; then
  if [ ! -f /etc/apt/sources.list.d/trixie.sources ]; then
    log "adding Debian trixie as a low-priority apt source (for Compose v2)"
    cat > /etc/apt/sources.list.d/trixie.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    cat > /etc/apt/preferences.d/trixie <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
    apt_ready=0
  fi
  apt_update
  log "installing Compose v2 (docker-compose) from trixie"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -t trixie docker-compose >/dev/null
fi

if ! { [ -x /bin/busybox ] && ldd /bin/busybox 2>&1 | grep -q 'not a dynamic'; }; then
  apt_update
  apt_install busybox-static
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd (log: /var/log/dockerd.log)"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
fi
docker info >/dev/null 2>&1 || { log "dockerd did not come up; see /var/log/dockerd.log"; exit 1; }
log "engine $(docker version --format '{{.Server.Version}}'), compose $(docker compose version --short)"
