#!/usr/bin/env bash
# ./build.sh bench: the appliance against nginx (Debian nginx-light, one worker), side by side in one run.
# Each server pinned to core 0, the load generator (../shared/bench/hsbench.c, wrk) to core 1.
# Figures: full TLS 1.3 handshakes per server CPU-second (ECDSA P-256 leaf) with 1 and N certificates chosen by
# random SNI; keep-alive requests/s; RSS with N certificates; start to first HTTPS answer with N certificates.
#
# This VM's speed drifts by +-15% within minutes, so all four servers (appliance and nginx, 1 and N certificates)
# run side by side, each idle while another is measured, and are measured in rounds that visit every one in turn.
# Each ratio is the median of the per-round ratios (the two figures of a ratio are taken seconds apart, under
# the same drift); each figure is the median of its rounds.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/out/bench
SHARED=${SHARED_DIR:-$ROOT/../shared}
N=${BENCH_CERTS:-10000}
SECONDS_MEASURED=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-5}
APPLIANCE=$ROOT/out/appliance
PASSWORD="bench password 1"
mkdir -p "$OUT"

say() { printf '%s\n' "$*" >&2; }

cc -O2 -o "$OUT/hsbench" "$SHARED/bench/hsbench.c" -lssl -lcrypto -lpthread
for n in 1 "$N"; do
  [ -f "$OUT/pki-$n/ca.crt" ] || { say "making $n certificates"; /usr/bin/python3 "$ROOT/bench/make-certs.py" "$OUT/pki-$n" "$n"; }
done

PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# ---- nginx
nginx_conf() { # PKI COUNT PORT
  local pki=$1 count=$2 port=$3 conf=$OUT/nginx-$2
  mkdir -p "$conf"
  {
    echo "worker_processes 1; daemon off; pid $conf/nginx.pid; error_log $conf/error.log;"
    echo "events { worker_connections 4096; }"
    echo "http { access_log off; server_names_hash_max_size 65536; server_names_hash_bucket_size 128;"
    echo "  ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache off; ssl_session_tickets off;"
    echo "  client_body_temp_path $conf; proxy_temp_path $conf; fastcgi_temp_path $conf; uwsgi_temp_path $conf; scgi_temp_path $conf;"
    for ((i = 0; i < count; i++)); do
      name=$(printf 'h%05d.example.test' "$i")
      echo "  server { listen 127.0.0.1:$port ssl$([ "$i" = 0 ] && echo ' default_server'); server_name $name;"
      echo "    ssl_certificate $pki/certs/$name.crt; ssl_certificate_key $pki/leaf.key; location / { return 200 \"ok\\n\"; } }"
    done
    echo "}"
  } > "$conf/nginx.conf"
  echo "$conf/nginx.conf"
}

wait_https() { # PORT -> seconds until the first HTTPS answer
  local start=$1 port=$2
  until curl -ks -o /dev/null --resolve "h00000.example.test:$port:127.0.0.1" "https://h00000.example.test:$port/"; do sleep 0.02; done
  echo "$(date +%s.%N) - $start" | bc
}

start_nginx() { # COUNT PORT: sets NGINX_MASTER, NGINX_PIDS, NGINX_STARTUP
  local conf; conf=$(nginx_conf "$OUT/pki-$1" "$1" "$2")
  local t0; t0=$(date +%s.%N)
  taskset -c 0 nginx -c "$conf" >/dev/null 2>&1 &
  NGINX_MASTER=$!; PIDS+=("$NGINX_MASTER")
  NGINX_STARTUP=$(wait_https "$t0" "$2")
  NGINX_PIDS="$NGINX_MASTER,$(pgrep -P "$NGINX_MASTER" | paste -sd,)"
}

# ---- appliance
start_appliance() { # STATE HTTPS_PORT HTTP_PORT: sets APPLIANCE_PID, APPLIANCE_STARTUP
  local t0; t0=$(date +%s.%N)
  APPLIANCE_ADMIN_PASSWORD=$PASSWORD taskset -c 0 "$APPLIANCE" serve --state-dir "$1" --bind 127.0.0.1 \
    --https-port "$2" --http-port "$3" --key-protection software >"$1.log" 2>&1 &
  APPLIANCE_PID=$!; PIDS+=("$APPLIANCE_PID")
  APPLIANCE_STARTUP=$(wait_https "$t0" "$2")
}

stop_appliance() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null || true; }

import_all() { # COUNT HTTPS_PORT
  local api="https://127.0.0.1:$2/appliance/api/v1" jar=$OUT/cookies
  curl -ksf -c "$jar" -H 'Content-Type: application/json' -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" "$api/session" >/dev/null
  local t0; t0=$(date +%s.%N)
  for bundle in "$OUT/pki-$1"/bundle-*.pem; do
    curl -ksf -b "$jar" -F "file=@$bundle" "$api/certificates/import" >/dev/null
  done
  say "  imported $1 certificates into the appliance in $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-6) s"
}

handshakes() { # PORT PIDS COUNT
  local extra=(-n "$3"); [ "$3" = 1 ] && extra=(-s h00000.example.test)
  taskset -c 1 "$OUT/hsbench" -p "$1" -c 32 -d "$SECONDS_MEASURED" -w 1 "${extra[@]}" -P "$2" 2>/dev/null \
    | sed -n 's/.*=> \([0-9.]*\) handshakes per server-CPU-second.*/\1/p'
}

keepalive() { # PORT
  taskset -c 1 wrk -t1 -c32 -d"${SECONDS_MEASURED}s" "https://127.0.0.1:$1/" 2>/dev/null | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p'
}

rss_mb() { # PIDS(comma) -> proportional set size in MB, summed
  local total=0
  for p in ${1//,/ }; do
    total=$((total + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")))
  done
  echo "scale=1; $total / 1024" | bc
}

ratio() { echo "scale=3; $1 / $2" | bc; }

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# ---- the four servers
say "== starting the servers (1 and $N certificates each)"
rm -rf "$OUT/state-1"
start_appliance "$OUT/state-1" 18443 18080
A1_PID=$APPLIANCE_PID
import_all 1 18443
start_nginx 1 19443
N1_PIDS=$NGINX_PIDS

rm -rf "$OUT/state-$N"
start_appliance "$OUT/state-$N" 18444 18081
import_all "$N" 18444
stop_appliance "$APPLIANCE_PID"
start_appliance "$OUT/state-$N" 18444 18081
AN_PID=$APPLIANCE_PID ASTART=$APPLIANCE_STARTUP
# The snapshot figures the appliance logged at this start (store read, then selection snapshot built).
SNAPSHOT_LINE=$(grep -m1 'TLS selection snapshot' "$OUT/state-$N.log" | sed 's/.*TLS selection snapshot: //' || true)
start_nginx "$N" 19444
NN_PIDS=$NGINX_PIDS NSTART=$NGINX_STARTUP
# Warm-up: the first handshake of each name makes its context (lazily, as nginx cannot); the measured rounds
# then see names already seen. Random names: ~4 handshakes per name leave about 2% of names unseen.
WARM=$(( N * 4 / 1000 + 2 ))
say "  warming up for $WARM s (every name's first handshake)"
taskset -c 1 "$OUT/hsbench" -p 18444 -c 32 -d "$WARM" -w 0 -n "$N" >/dev/null 2>&1 || true

# ---- rounds
a1=() n1=() an=() nn=() ak=() nk=() r1=() rn=() rk=() rself=()
for ((r = 1; r <= ROUNDS; r++)); do
  a1+=("$(handshakes 18443 "$A1_PID" 1)"); n1+=("$(handshakes 19443 "$N1_PIDS" 1)")
  an+=("$(handshakes 18444 "$AN_PID" "$N")"); nn+=("$(handshakes 19444 "$NN_PIDS" "$N")")
  ak+=("$(keepalive 18443)"); nk+=("$(keepalive 19443)")
  r1+=("$(ratio "${a1[-1]}" "${n1[-1]}")"); rn+=("$(ratio "${an[-1]}" "${nn[-1]}")")
  rk+=("$(ratio "${ak[-1]}" "${nk[-1]}")"); rself+=("$(ratio "${an[-1]}" "${a1[-1]}")")
  say "  round $r: handshakes 1 cert: appliance ${a1[-1]}, nginx ${n1[-1]} (${r1[-1]}); $N certs: appliance ${an[-1]}, nginx ${nn[-1]} (${rn[-1]}); keep-alive: appliance ${ak[-1]}, nginx ${nk[-1]} (${rk[-1]})"
done
ARSS=$(rss_mb "$AN_PID")
NRSS=$(rss_mb "$NN_PIDS")

printf '\n%-52s %12s %12s %8s\n' "figure" "appliance" "nginx" "ratio"
printf '(figures: medians of %s rounds of %s s; ratios: medians of the per-round ratios)\n' "$ROUNDS" "$SECONDS_MEASURED"
printf '%-52s %12s %12s %8s\n' "handshakes per server CPU-second, 1 certificate" "$(median "${a1[@]}")" "$(median "${n1[@]}")" "$(median "${r1[@]}")"
printf '%-52s %12s %12s %8s\n' "handshakes per server CPU-second, $N certificates" "$(median "${an[@]}")" "$(median "${nn[@]}")" "$(median "${rn[@]}")"
printf '%-52s %12s %12s %8s\n' "keep-alive requests/s (wrk, 32 connections)" "$(median "${ak[@]}")" "$(median "${nk[@]}")" "$(median "${rk[@]}")"
printf '%-52s %12s %12s %8s\n' "RSS (PSS) MB with $N certificates" "$ARSS" "$NRSS" "$(ratio "$ARSS" "$NRSS")"
printf '%-52s %12s %12s %8s\n' "start to first HTTPS answer, s, $N certificates" "${ASTART:0:6}" "${NSTART:0:6}" "$(ratio "$ASTART" "$NSTART")"
printf '%-52s %12s\n' "appliance: $N-certificate / 1-certificate handshakes" "$(median "${rself[@]}")"
printf '%-52s %s\n' "appliance: selection snapshot at start" "${SNAPSHOT_LINE:-not logged}"
