#!/usr/bin/env bash
# Builds the database fixture images of the integration suite and the benchmarks offline (no
# registry): one Debian bookworm root filesystem from Debian's own packages (debootstrap), imported
# once, and three small images on top of it whose entrypoints honour the variables of the
# official images.
#
#   cilo-fixture/postgres:15   POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, PGDATA
#   cilo-fixture/mariadb:10    MARIADB_/MYSQL_ ROOT_PASSWORD, DATABASE, USER, PASSWORD
#   cilo-fixture/redis:7       redis-server with --databases 16, no persistence
#
# Every image carries the label cilo.fixture.recipe=<hash of this file> (passed as $1 by
# test/support/fixture-images.ts); an image whose label differs is rebuilt, one that matches is
# kept. Needs root (debootstrap) and a running engine; installs debootstrap with apt-get if absent.
set -euo pipefail
recipe=${1:?usage: fixture-images.sh <recipe-hash>}
packages=postgresql-15,mariadb-server,mariadb-client,redis-server
# The root filesystem depends only on the package list: changing an entrypoint below rebuilds
# the three small images in seconds, not the debootstrap.
base="cilo-fixture/db-base:$(printf '%s' "bookworm $packages" | sha256sum | cut -c1-12)"
log() { printf 'fixture-images: %s\n' "$*" >&2; }
# Test files that need the images start at once (node --test runs two at a time): one builds,
# the others wait for it and then find the images made.
exec 9>"${TMPDIR:-/tmp}/cilo-fixture-images.lock"
flock 9
current() { [ "$(docker image inspect --format '{{index .Config.Labels "cilo.fixture.recipe"}}' "$1" 2>/dev/null)" = "$recipe" ]; }
if current cilo-fixture/postgres:15 && current cilo-fixture/mariadb:10 && current cilo-fixture/redis:7; then exit 0; fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

if ! docker image inspect "$base" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || {
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  log "debootstrap bookworm with postgresql-15, mariadb-server, redis-server (a few minutes, once)"
  debootstrap --variant=minbase --include="$packages" \
    bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  # Debian's packages create a cluster / datadir at install time; the entrypoints make their own.
  rm -rf "$work/rootfs/var/lib/postgresql/15" "$work/rootfs/var/lib/mysql/"*
  tar -C "$work/rootfs" --exclude=./proc --exclude=./sys --exclude=./dev -c . \
    | docker import -c 'CMD ["bash"]' - "$base" >/dev/null
  rm -rf "$work/rootfs"
  log "built $base"
fi


cat > "$work/postgres-entry" <<'SH'
#!/bin/sh
# Like the official image: a cluster made on first start with POSTGRES_USER as superuser, its
# password for TCP clients, POSTGRES_DB created; local socket connections trusted.
set -e
bin=/usr/lib/postgresql/15/bin
export PGDATA=${PGDATA:-/var/lib/postgresql/data}
user=${POSTGRES_USER:-postgres}
mkdir -p "$PGDATA" /run/postgresql
chown -R postgres:postgres "$PGDATA" /run/postgresql
chmod 700 "$PGDATA"
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
if [ ! -s "$PGDATA/PG_VERSION" ]; then
pw=$(mktemp); printf '%s\n' "${POSTGRES_PASSWORD:-postgres}" > "$pw"; chown postgres "$pw"
as_pg "$bin/initdb" -D "$PGDATA" -U "$user" --pwfile="$pw" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
rm -f "$pw"
echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
db=${POSTGRES_DB:-$user}
if [ "$db" != postgres ]; then
  as_pg "$bin/pg_ctl" -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  # psql interpolates :"db" (quoted as an identifier) in its input, not in -c.
  echo 'CREATE DATABASE :"db"' | as_pg "$bin/psql" -q -U "$user" -d postgres -v ON_ERROR_STOP=1 -v db="$db" >/dev/null
  as_pg "$bin/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
fi
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups "$bin/postgres" -D "$PGDATA" -c listen_addresses='*' "$@"
SH

cat > "$work/mariadb-entry" <<'SH'
#!/bin/sh
# Like the official image: root password, a database and a user with rights on it, applied by an
# init file on every start (idempotent statements, one per line: the init file is read by line).
set -e
mkdir -p /var/lib/mysql /run/mysqld
chown -R mysql:mysql /var/lib/mysql /run/mysqld
root_pw=${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}
db=${MARIADB_DATABASE:-${MYSQL_DATABASE:-}}
user=${MARIADB_USER:-${MYSQL_USER:-}}
pw=${MARIADB_PASSWORD:-${MYSQL_PASSWORD:-}}
if [ ! -d /var/lib/mysql/mysql ]; then
mariadb-install-db --user=mysql --datadir=/var/lib/mysql --auth-root-authentication-method=normal --skip-test-db >/dev/null
fi
init=/run/mysqld/init.sql
{
if [ -n "$root_pw" ]; then
  echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$root_pw';"
  echo "CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '$root_pw';"
  echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
  # install-db's password-less root@127.0.0.1, ::1 and <hostname> would win over root@'%'.
  echo "DELETE FROM mysql.global_priv WHERE User='root' AND Host NOT IN ('localhost','%');"
  echo 'FLUSH PRIVILEGES;'
fi
[ -z "$db" ] || echo "CREATE DATABASE IF NOT EXISTS \`$db\`;"
if [ -n "$user" ]; then
  echo "CREATE USER IF NOT EXISTS '$user'@'%' IDENTIFIED BY '$pw';"
  [ -z "$db" ] || echo "GRANT ALL ON \`$db\`.* TO '$user'@'%';"
fi
} > "$init"
chown mysql "$init"
exec mariadbd --user=mysql --datadir=/var/lib/mysql --bind-address=0.0.0.0 --skip-name-resolve --init-file="$init" "$@"
SH

cat > "$work/redis-entry" <<'SH'
#!/bin/sh
exec redis-server --bind 0.0.0.0 --protected-mode no --databases 16 --save '' --appendonly no "$@"
SH
chmod 755 "$work/"*-entry

build() { # tag entry port stopsignal
  printf '%s\n' "FROM $base" "LABEL cilo.fixture.recipe=$recipe" "EXPOSE $3" \
    "COPY $2 /usr/local/bin/$2" "STOPSIGNAL $4" "ENTRYPOINT [\"/usr/local/bin/$2\"]" > "$work/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t "$1" -f "$work/Dockerfile" "$work" >/dev/null 2>"$work/build.log" \
    || { cat "$work/build.log" >&2; exit 1; }
  log "built $1"
}
# SIGINT is postgres's fast shutdown (SIGTERM waits for clients to leave).
build cilo-fixture/postgres:15 postgres-entry 5432 SIGINT
build cilo-fixture/mariadb:10 mariadb-entry 3306 SIGTERM
build cilo-fixture/redis:7 redis-entry 6379 SIGTERM
