#!/usr/bin/env bash
# keyfleet's production topology on one machine, on loopback: a throwaway PostgreSQL, N keyfleet processes sharing
# it (one master key, one data directory for the simulated fleet's disks), and HAProxy in front, health-checking
# each process on /readyz.
#
#   scripts/cluster.sh up [N]      N processes (default 3); prints the balancer's URL and the state directory
#   scripts/cluster.sh down DIR    stops them by PID (keyfleet with SIGTERM: each drains), then HAProxy, then PostgreSQL
#
# Environment: KEYFLEET_CLUSTER_PORT (the balancer's port, default 8080; process i listens on 127.0.0.(10+i) at
# that port + i), KEYFLEET_SIM_SSH_PORT (default 2222), and any other KEYFLEET_* variable, passed to every process.
# On real hosts: see the README ("Running several processes").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)

wait_for() { # file pattern seconds
  local deadline=$((SECONDS + $3))
  until grep -q "$2" "$1" 2>/dev/null; do
    if ((SECONDS > deadline)); then echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1; fi
    sleep 0.2
  done
}

up() {
  local n=${1:-3} port=${KEYFLEET_CLUSTER_PORT:-8080}
  [ -x "$HAPROXY" ] || { echo "HAProxy is not installed (apt-get install haproxy)" >&2; exit 1; }
  local state
  state=$(mktemp -d /tmp/kf-cluster.XXXXXX)
  eval "$("$ROOT/scripts/pg-throwaway.sh" start)"
  echo "$KEYFLEET_TEST_PG_DIR" >"$state/pg.dir"
  mkdir -p "$state/data"
  # One key-encryption key for every process: each must open what another sealed.
  local master
  master=$(head -c 32 /dev/urandom | base64)
  local servers=""
  for i in $(seq 1 "$n"); do
    local host="127.0.0.$((10 + i))" p=$((port + i))
    env KEYFLEET_HOST="$host" KEYFLEET_PORT="$p" KEYFLEET_DATABASE_URL="$KEYFLEET_TEST_PG_URL" \
      KEYFLEET_DATA_DIR="$state/data" KEYFLEET_MASTER_KEY="$master" \
      KEYFLEET_DRAIN_DELAY_MS="${KEYFLEET_DRAIN_DELAY_MS:-2500}" KEYFLEET_TASK_SWEEP_MS="${KEYFLEET_TASK_SWEEP_MS:-1000}" \
      nohup node "$ROOT/bin/keyfleet.js" serve >"$state/keyfleet-$i.log" 2>&1 &
    echo $! >"$state/keyfleet-$i.pid"
    # The first creates the schema and the administrator (its credentials are printed once, in its log).
    [ "$i" = 1 ] && wait_for "$state/keyfleet-1.log" 'keyfleet listening' 60
    servers+="  server kf$i $host:$p check"$'\n'
  done
  for i in $(seq 1 "$n"); do wait_for "$state/keyfleet-$i.log" 'keyfleet listening' 60; done
  cat >"$state/haproxy.cfg" <<EOF
global
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 300s
  timeout server 300s
  timeout check 3s
  retries 3
  option redispatch
  retry-on conn-failure
frontend keyfleet
  bind 127.0.0.1:$port
  default_backend keyfleet
backend keyfleet
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 500ms fall 3 rise 2
$servers
EOF
  "$HAPROXY" -c -q -f "$state/haproxy.cfg"
  "$HAPROXY" -D -p "$state/haproxy.pid" -f "$state/haproxy.cfg"
  echo "keyfleet cluster of $n processes behind http://127.0.0.1:$port (state in $state)"
  grep -A3 "Created account" "$state/keyfleet-1.log" || true
  echo "stop it with: $0 down $state"
}

down() {
  local state=${1:?usage: $0 down DIR}
  for f in "$state"/keyfleet-*.pid; do
    [ -f "$f" ] || continue
    kill -TERM "$(cat "$f")" 2>/dev/null || true
  done
  for f in "$state"/keyfleet-*.pid; do
    [ -f "$f" ] || continue
    local pid deadline=$((SECONDS + 60))
    pid=$(cat "$f")
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  [ -f "$state/haproxy.pid" ] && kill "$(cat "$state/haproxy.pid")" 2>/dev/null || true
  [ -f "$state/pg.dir" ] && "$ROOT/scripts/pg-throwaway.sh" stop "$(cat "$state/pg.dir")"
  rm -rf "$state"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) shift; down "$@" ;;
  *) echo "usage: $0 up [N] | down DIR" >&2; exit 2 ;;
esac
