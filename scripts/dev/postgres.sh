#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests, on 127.0.0.1, run as the postgres user.
#   scripts/dev/postgres.sh start   # prints `export KPIS_PG_...` lines for the caller to eval
#   scripts/dev/postgres.sh stop
# Needs Debian's postgresql package (the server binaries in /usr/lib/postgresql/*/bin).
set -euo pipefail

STATE_DIR=${KPIS_PG_STATE_DIR:-/tmp/telemetry-kpis-pg}
PORT=${KPIS_PG_TEST_PORT:-54329}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
      echo "postgres.sh: no PostgreSQL server found; install it: apt-get install -y postgresql" >&2
      exit 1
    fi
    if ! pg_isready -q -h 127.0.0.1 -p "$PORT" 2>/dev/null; then
      rm -rf "$STATE_DIR"
      install -d -m 0755 "$STATE_DIR"
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$STATE_DIR"
      as_postgres "$PGBIN/initdb" -D "$STATE_DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
      as_postgres "$PGBIN/pg_ctl" -D "$STATE_DIR/data" -l "$STATE_DIR/server.log" -w \
        -o "-p $PORT -k $STATE_DIR -c listen_addresses=127.0.0.1 -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=512MB \
            -c work_mem=64MB" start >/dev/null
      psql -q -h 127.0.0.1 -p "$PORT" -U postgres -v ON_ERROR_STOP=1 \
        -c "create role kpis login createdb password 'kpis'" \
        -c "create database kpis owner kpis" >/dev/null
    fi
    echo "export KPIS_PG_HOST=127.0.0.1 KPIS_PG_PORT=$PORT KPIS_PG_USER=kpis"\
         "KPIS_PG_PASSWORD=kpis KPIS_PG_DATABASE=kpis"
    ;;
  stop)
    if [ -n "$PGBIN" ] && [ -d "$STATE_DIR/data" ]; then
      as_postgres "$PGBIN/pg_ctl" -D "$STATE_DIR/data" -m fast stop >/dev/null || true
    fi
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
