#!/usr/bin/env bash
# Start-up time only: start to the first HTTPS answer with a prepared state directory, started twice on a copy
# (the first start runs any migration of the stored data, the second shows the steady state). Not a test.
# Usage: bench/startup.sh STATE_DIR [BINARY] [RUNS]   (the state directory is copied, never changed)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=${1:?usage: bench/startup.sh STATE_DIR [BINARY] [RUNS]}
APPLIANCE=${2:-$ROOT/out/appliance}
RUNS=${3:-3}
PORT=${STARTUP_PORT:-28443} PORT_HTTP=${STARTUP_HTTP_PORT:-28080}
WORK=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

cpu_seconds() { # PID -> user+system CPU seconds so far (wall time is noisy on a shared machine; this less so)
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"
}

start() { # STATE -> "WALL CPU": seconds from start to the first HTTPS answer, and the CPU seconds used by then
  local t0; t0=$(date +%s.%N)
  APPLIANCE_ADMIN_PASSWORD="bench password 1" "$APPLIANCE" serve --state-dir "$1" --bind 127.0.0.1 \
    --https-port "$PORT" --http-port "$PORT_HTTP" --key-protection software >>"$WORK/appliance.log" 2>&1 &
  PID=$!
  until curl -ks -o /dev/null --resolve "h00000.example.test:$PORT:127.0.0.1" "https://h00000.example.test:$PORT/"; do
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/appliance.log" >&2; echo "the appliance exited" >&2; exit 1; }
    sleep 0.01
  done
  echo "$(echo "$(date +%s.%N) - $t0" | bc | cut -c1-5) $(cpu_seconds "$PID")"
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
}

for ((run = 1; run <= RUNS; run++)); do
  rm -rf "$WORK/state"; cp -a "$STATE" "$WORK/state"
  read -r first first_cpu < <(start "$WORK/state")
  read -r second second_cpu < <(start "$WORK/state")
  printf 'run %d: first start %s s (%s s CPU), second start %s s (%s s CPU)\n' "$run" "$first" "$first_cpu" "$second" "$second_cpu"
done
