#!/usr/bin/env bash
# Builds the router's test image offline (no registry): Debian's own caddy package (2.6.2 on
# bookworm, a dynamically linked Go binary: it needs glibc, so not the busybox image), with the
# shared libraries it links copied from this Debian machine, and a static busybox for `cat` and
# `sh` (Caddy's Alpine image has them: cilo reads the saved config with cat), imported as one
# small layer.
#
#   cilo-fixture/caddy:2   caddy on PATH, `caddy run` by default, XDG dirs /config and /data
#
# The image carries the label cilo.fixture.recipe=<hash of this file> (passed as $1 by
# test/support/caddy-image.ts); an image whose label differs is rebuilt. Needs apt-get (Debian or
# Ubuntu) to fetch the package, and a running engine.
set -euo pipefail
recipe=${1:?usage: caddy-image.sh <recipe-hash>}
image=cilo-fixture/caddy:2
log() { printf 'caddy-image: %s\n' "$*" >&2; }
exec 9>"${TMPDIR:-/tmp}/cilo-caddy-image.lock"
flock 9
current() { [ "$(docker image inspect --format '{{index .Config.Labels "cilo.fixture.recipe"}}' "$image" 2>/dev/null)" = "$recipe" ]; }
if current; then exit 0; fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
# apt-get download as root warns that _apt cannot write here; the file is fetched all the same.
chmod 777 "$work"
apt-get download caddy >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get download caddy >/dev/null 2>&1; } \
  || { log "could not fetch Debian's caddy package (apt-get download caddy)"; exit 1; }
dpkg -x caddy_*.deb pkg
root="$work/root"
mkdir -p "$root/usr/bin" "$root/etc" "$root/config" "$root/data" "$root/tmp"
chmod 1777 "$root/tmp"
cp pkg/usr/bin/caddy "$root/usr/bin/caddy"
# Every library the binary links (libc, libzstd) and the dynamic loader, at their own paths.
for lib in $(ldd pkg/usr/bin/caddy | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
bb=$(command -v busybox || true)
if [ -z "$bb" ] || ! ldd "$bb" 2>&1 | grep -Eq 'not a dynamic|statically'; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null; bb=/bin/busybox
fi
mkdir -p "$root/bin"
cp "$bb" "$root/bin/busybox"
for applet in sh cat ls wget; do ln -s busybox "$root/bin/$applet"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
echo 'root:x:0:' > "$root/etc/group"
tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/bin:/bin XDG_CONFIG_HOME=/config XDG_DATA_HOME=/data' \
  -c "LABEL cilo.fixture.recipe=$recipe" \
  -c 'EXPOSE 80 443 2019' \
  -c 'CMD ["caddy", "run"]' - "$image" >/dev/null
log "built $image ($(pkg/usr/bin/caddy version))"
