#!/usr/bin/env bash
# A throwaway PostgreSQL for tests: initdb into a temp dir, start on 127.0.0.1:$PORT with fsync off, print the URL.
#   eval "$(scripts/pg-throwaway.sh start)"   → exports KEYFLEET_TEST_PG_URL and KEYFLEET_TEST_PG_DIR
#   scripts/pg-throwaway.sh stop "$KEYFLEET_TEST_PG_DIR"
set -euo pipefail
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
case "${1:-}" in
  start)
    [ -x "$BIN/initdb" ] || { echo "echo 'PostgreSQL server binaries not found (apt-get install postgresql)' >&2; false"; exit 0; }
    PORT=${PGPORT_TEST:-54329}
    while (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; do PORT=$((PORT+1)); done
    BASE=$(mktemp -d /tmp/kf-pg.XXXXXX)
    chown postgres:postgres "$BASE" 2>/dev/null || true
    RUN=(); [ "$(id -u)" = 0 ] && RUN=(runuser -u postgres --)
    "${RUN[@]}" "$BIN/initdb" -D "$BASE/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$BASE/initdb.log" 2>&1
    "${RUN[@]}" "$BIN/pg_ctl" -D "$BASE/data" -l "$BASE/server.log" -w -t 30 \
      -o "-p $PORT -k $BASE -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
    echo "export KEYFLEET_TEST_PG_URL=postgres://postgres@127.0.0.1:$PORT/postgres"
    echo "export KEYFLEET_TEST_PG_DIR=$BASE"
    ;;
  stop)
    BASE=${2:?usage: stop DIR}
    RUN=(); [ "$(id -u)" = 0 ] && RUN=(runuser -u postgres --)
    "${RUN[@]}" "$BIN/pg_ctl" -D "$BASE/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$BASE"
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
