#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster on 127.0.0.1, its URL in
# UHO_TEST_DATABASE_URL; the cluster is stopped and removed when the command ends.
# The server refuses to run as root, so as root the cluster belongs to the `postgres` user.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] && command -v pg_ctl >/dev/null 2>&1; then bin=$(dirname "$(command -v pg_ctl)"); fi
if [ -z "$bin" ]; then
  echo "with-postgres: no PostgreSQL server found (Debian: apt-get install postgresql)" >&2
  exit 1
fi
data=$(mktemp -d /tmp/uho-backfill-pg.XXXXXX)
# A free port, so a cluster left behind by a killed run cannot get in the way.
port=${UHO_TEST_PG_PORT:-$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")}
as_owner() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$data"
as_owner "'$bin/initdb' -D '$data' -A trust -U postgres --no-sync" >/dev/null
as_owner "'$bin/pg_ctl' -D '$data' -l '$data/server.log' -w -o \"-p $port -k '$data' -c listen_addresses=127.0.0.1 -c fsync=off\" start" >/dev/null
cleanup() {
  as_owner "'$bin/pg_ctl' -D '$data' -m fast -w stop" >/dev/null 2>&1 || true
  rm -rf "$data"
}
trap cleanup EXIT
export UHO_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
"$@"
