#!/usr/bin/env bash
# ./build.sh bench: the appliance against nginx (Debian nginx-light, one worker), side by side in one run.
# Each server pinned to core 0, the load generator (../shared/bench/hsbench.c, wrk) to core 1.
# Figures: full TLS 1.3 handshakes per server CPU-second (ECDSA P-256 leaf) with 1 and N certificates chosen by
# random SNI; keep-alive requests/s; RSS with N certificates; start to first HTTPS answer with N certificates.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/out/bench
SHARED=${SHARED_DIR:-$ROOT/../shared}
N=${BENCH_CERTS:-10000}
SECONDS_MEASURED=${BENCH_SECONDS:-6}
APPLIANCE=$ROOT/out/appliance
PORT_APPLIANCE=18443 PORT_APPLIANCE_HTTP=18080 PORT_NGINX=19443
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
nginx_conf() { # PKI COUNT
  local pki=$1 count=$2 conf=$OUT/nginx-$2
  mkdir -p "$conf"
  {
    echo "worker_processes 1; daemon off; pid $conf/nginx.pid; error_log $conf/error.log;"
    echo "events { worker_connections 4096; }"
    echo "http { access_log off; server_names_hash_max_size 65536; server_names_hash_bucket_size 128;"
    echo "  ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache off; ssl_session_tickets off;"
    echo "  client_body_temp_path $conf; proxy_temp_path $conf; fastcgi_temp_path $conf; uwsgi_temp_path $conf; scgi_temp_path $conf;"
    for ((i = 0; i < count; i++)); do
      name=$(printf 'h%05d.example.test' "$i")
      echo "  server { listen 127.0.0.1:$PORT_NGINX ssl$([ "$i" = 0 ] && echo ' default_server'); server_name $name;"
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

start_nginx() { # COUNT
  local conf; conf=$(nginx_conf "$OUT/pki-$1" "$1")
  local t0; t0=$(date +%s.%N)
  taskset -c 0 nginx -c "$conf" >/dev/null 2>&1 &
  NGINX_MASTER=$!; PIDS+=("$NGINX_MASTER")
  NGINX_STARTUP=$(wait_https "$t0" "$PORT_NGINX")
  NGINX_PIDS="$NGINX_MASTER,$(pgrep -P "$NGINX_MASTER" | paste -sd,)"
}

stop_nginx() { kill "$NGINX_MASTER" 2>/dev/null; wait "$NGINX_MASTER" 2>/dev/null || true; }

# ---- appliance
start_appliance() { # STATE
  local t0; t0=$(date +%s.%N)
  APPLIANCE_ADMIN_PASSWORD=$PASSWORD taskset -c 0 "$APPLIANCE" serve --state-dir "$1" --bind 127.0.0.1 \
    --https-port "$PORT_APPLIANCE" --http-port "$PORT_APPLIANCE_HTTP" --key-protection software >"$OUT/appliance.log" 2>&1 &
  APPLIANCE_PID=$!; PIDS+=("$APPLIANCE_PID")
  APPLIANCE_STARTUP=$(wait_https "$t0" "$PORT_APPLIANCE")
}

stop_appliance() { kill "$APPLIANCE_PID" 2>/dev/null; wait "$APPLIANCE_PID" 2>/dev/null || true; }

load_appliance() { # COUNT STATE
  rm -rf "$2"; start_appliance "$2"
  local api="https://127.0.0.1:$PORT_APPLIANCE/appliance/api/v1" jar=$OUT/cookies
  curl -ksf -c "$jar" -H 'Content-Type: application/json' -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" "$api/session" >/dev/null
  local t0; t0=$(date +%s.%N)
  for bundle in "$OUT/pki-$1"/bundle-*.pem; do
    curl -ksf -b "$jar" -F "file=@$bundle" "$api/certificates/import" >/dev/null
  done
  say "  imported $1 certificates into the appliance in $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-6) s"
}

handshakes() { # PORT PIDS [N]
  local extra=(); [ "${3:-1}" != 1 ] && extra=(-n "$3")
  [ "${3:-1}" = 1 ] && extra=(-s h00000.example.test)
  taskset -c 1 "$OUT/hsbench" -p "$1" -c 32 -d "$SECONDS_MEASURED" -w 2 "${extra[@]}" -P "$2" 2>/dev/null \
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

ratio() { echo "scale=2; $1 / $2" | bc; }

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# Both servers run side by side (each pinned to core 0, idle while the other is measured) and are measured in
# alternating rounds; each figure is the median of its rounds, so drift in this machine's speed hits both alike.
ROUNDS=${BENCH_ROUNDS:-3}
alternate() { # COUNT: sets A_HS N_HS (medians) and, for 1 certificate, A_KA N_KA
  local a=() n=() ak=() nk=() r
  for ((r = 1; r <= ROUNDS; r++)); do
    a+=("$(handshakes "$PORT_APPLIANCE" "$APPLIANCE_PID" "$1")")
    n+=("$(handshakes "$PORT_NGINX" "$NGINX_PIDS" "$1")")
    if [ "$1" = 1 ]; then
      ak+=("$(keepalive "$PORT_APPLIANCE")")
      nk+=("$(keepalive "$PORT_NGINX")")
    fi
    say "  round $r: handshakes appliance ${a[-1]}, nginx ${n[-1]}${ak:+; keep-alive appliance ${ak[-1]}, nginx ${nk[-1]}}"
  done
  A_HS=$(median "${a[@]}"); N_HS=$(median "${n[@]}")
  if [ "$1" = 1 ]; then A_KA=$(median "${ak[@]}"); N_KA=$(median "${nk[@]}"); fi
}

say "== 1 certificate"
load_appliance 1 "$OUT/state-1"
start_nginx 1
alternate 1
A1=$A_HS N1=$N_HS AK=$A_KA NK=$N_KA
stop_appliance
stop_nginx

if [ -n "${BENCH_QUICK:-}" ]; then
  # Quick look while working on the handshake path: the 1-certificate figures only.
  printf '\n1 certificate, medians of %s rounds: handshakes per server CPU-second appliance %s, nginx %s, ratio %s; keep-alive ratio %s\n' \
    "$ROUNDS" "$A1" "$N1" "$(ratio "$A1" "$N1")" "$(ratio "$AK" "$NK")"
  exit 0
fi

say "== $N certificates"
load_appliance "$N" "$OUT/state-$N"
stop_appliance
start_appliance "$OUT/state-$N"
ASTART=$APPLIANCE_STARTUP
# The snapshot figures the appliance logged at this start (store read, then selection snapshot built).
SNAPSHOT_LINE=$(grep -m1 'TLS selection snapshot' "$OUT/appliance.log" | sed 's/.*TLS selection snapshot: //' || true)
start_nginx "$N"
NSTART=$NGINX_STARTUP
# Warm-up: the first handshake of each name makes its context (lazily, as nginx cannot); the measured rounds
# then see names already seen. Random names: ~4 handshakes per name leave about 2% of names unseen.
WARM=$(( N * 4 / 1000 + 2 ))
say "  warming up for $WARM s (every name's first handshake)"
taskset -c 1 "$OUT/hsbench" -p "$PORT_APPLIANCE" -c 32 -d "$WARM" -w 0 -n "$N" >/dev/null 2>&1 || true
alternate "$N"
AN=$A_HS NN=$N_HS
ARSS=$(rss_mb "$APPLIANCE_PID")
NRSS=$(rss_mb "$NGINX_PIDS")
stop_appliance
stop_nginx

printf '\n%-52s %12s %12s %8s\n' "figure" "appliance" "nginx" "ratio"
printf '(medians of %s alternating rounds of %s s)\n' "$ROUNDS" "$SECONDS_MEASURED"
printf '%-52s %12s %12s %8s\n' "handshakes per server CPU-second, 1 certificate" "$A1" "$N1" "$(ratio "$A1" "$N1")"
printf '%-52s %12s %12s %8s\n' "handshakes per server CPU-second, $N certificates" "$AN" "$NN" "$(ratio "$AN" "$NN")"
printf '%-52s %12s %12s %8s\n' "keep-alive requests/s (wrk, 32 connections)" "$AK" "$NK" "$(ratio "$AK" "$NK")"
printf '%-52s %12s %12s %8s\n' "RSS (PSS) MB with $N certificates" "$ARSS" "$NRSS" "$(ratio "$ARSS" "$NRSS")"
printf '%-52s %12s %12s %8s\n' "start to first HTTPS answer, s, $N certificates" "${ASTART:0:6}" "${NSTART:0:6}" "$(ratio "$ASTART" "$NSTART")"
printf '%-52s %12s %12s\n' "appliance: $N-certificate / 1-certificate handshakes" "$(ratio "$AN" "$A1")" ""
printf '%-52s %s\n' "appliance: selection snapshot at start" "${SNAPSHOT_LINE:-not logged}"
