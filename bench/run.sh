#!/usr/bin/env bash
# ./build.sh bench: the appliance against nginx (Debian nginx-light, one worker), side by side in one run.
# Each server pinned to core 0, the load generator (../shared/bench/hsbench.c, wrk) to core 1.
# Figures: full TLS 1.3 handshakes per server CPU-second (ECDSA P-256 and RSA-2048 leaves) with 1 and N certificates
# chosen by random SNI; resumed handshakes (session tickets) per server CPU-second; keep-alive HTTP/1.1 requests/s;
# HTTP/2 requests/s (h2load, 32 streams over 4 connections); RSS with N certificates; start to first HTTPS answer with
# N certificates. Both servers have the same features on: TLS 1.2 and 1.3, session tickets, HTTP/2; nginx keeps a
# connection open for any number of requests (keepalive_requests, 1000 by default, would end h2load's connections).
#
# This VM's speed drifts by +-15% within minutes, so all eight servers (appliance and nginx, ECDSA and RSA, 1 and N certificates)
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
cc -O2 -o "$OUT/resumebench" "$ROOT/bench/resumebench.c" -lssl -lcrypto -lpthread
for n in 1 "$N"; do
  [ -f "$OUT/pki-$n/ca.crt" ] || { say "making $n ECDSA certificates"; /usr/bin/python3 "$ROOT/bench/make-certs.py" "$OUT/pki-$n" "$n" ec; }
  [ -f "$OUT/pki-rsa-$n/ca.crt" ] || { say "making $n RSA certificates"; /usr/bin/python3 "$ROOT/bench/make-certs.py" "$OUT/pki-rsa-$n" "$n" rsa; }
done

PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# ---- nginx
nginx_conf() { # PKI COUNT PORT
  local pki=$1 count=$2 port=$3 conf=$OUT/nginx-$(basename "$1")
  mkdir -p "$conf"
  {
    echo "worker_processes 1; daemon off; pid $conf/nginx.pid; error_log $conf/error.log;"
    echo "events { worker_connections 4096; }"
    echo "http { access_log off; server_names_hash_max_size 65536; server_names_hash_bucket_size 128; keepalive_requests 1000000;"
    echo "  ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache off; ssl_session_tickets on; ssl_session_timeout 2h;"
    echo "  client_body_temp_path $conf; proxy_temp_path $conf; fastcgi_temp_path $conf; uwsgi_temp_path $conf; scgi_temp_path $conf;"
    for ((i = 0; i < count; i++)); do
      name=$(printf 'h%05d.example.test' "$i")
      echo "  server { listen 127.0.0.1:$port ssl http2$([ "$i" = 0 ] && echo ' default_server'); server_name $name;"
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

start_nginx() { # PKI COUNT PORT: sets NGINX_MASTER, NGINX_PIDS, NGINX_STARTUP
  local conf; conf=$(nginx_conf "$OUT/$1" "$2" "$3")
  local t0; t0=$(date +%s.%N)
  taskset -c 0 nginx -c "$conf" >/dev/null 2>&1 &
  NGINX_MASTER=$!; PIDS+=("$NGINX_MASTER")
  NGINX_STARTUP=$(wait_https "$t0" "$3")
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

import_all() { # PKI HTTPS_PORT
  local api="https://127.0.0.1:$2/appliance/api/v1" jar=$OUT/cookies
  curl -ksf -c "$jar" -H 'Content-Type: application/json' -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" "$api/session" >/dev/null
  local t0; t0=$(date +%s.%N)
  for bundle in "$OUT/$1"/bundle-*.pem; do
    curl -ksf -b "$jar" -F "file=@$bundle" "$api/certificates/import" >/dev/null
  done
  say "  imported $1 into the appliance in $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-6) s"
}

handshakes() { # PORT PIDS COUNT
  local extra=(-n "$3"); [ "$3" = 1 ] && extra=(-s h00000.example.test)
  taskset -c 1 "$OUT/hsbench" -p "$1" -c 32 -d "$SECONDS_MEASURED" -w 1 "${extra[@]}" -P "$2" 2>/dev/null \
    | sed -n 's/.*=> \([0-9.]*\) handshakes per server-CPU-second.*/\1/p'
}

resumed() { # PORT PIDS
  taskset -c 1 "$OUT/resumebench" -p "$1" -c 32 -d "$SECONDS_MEASURED" -w 1 -s h00000.example.test -P "$2" 2>/dev/null \
    | sed -n 's/.*=> \([0-9.]*\) handshakes per server-CPU-second.*/\1/p'
}

# The share of resumed handshakes in one short run (both servers must resume nearly all, or the figure means nothing).
resumed_share() { # PORT
  taskset -c 1 "$OUT/resumebench" -p "$1" -c 4 -d 1 -w 1 -s h00000.example.test 2>/dev/null \
    | sed -n 's/^\([0-9]*\) handshakes in [0-9]* s, \([0-9]*\) resumed.*/\2 of \1/p'
}

http2() { # PORT
  taskset -c 1 h2load -c 4 -m 8 -D "$SECONDS_MEASURED" --warm-up-time=1 "https://127.0.0.1:$1/" 2>/dev/null \
    | sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p'
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

# ---- the eight servers
say "== starting the servers (1 and $N certificates each, ECDSA and RSA)"
rm -rf "$OUT/state-1"
start_appliance "$OUT/state-1" 18443 18080
A1_PID=$APPLIANCE_PID
import_all pki-1 18443
start_nginx pki-1 1 19443
N1_PIDS=$NGINX_PIDS

rm -rf "$OUT/state-rsa-1"
start_appliance "$OUT/state-rsa-1" 18445 18082
AR1_PID=$APPLIANCE_PID
import_all pki-rsa-1 18445
start_nginx pki-rsa-1 1 19445
NR1_PIDS=$NGINX_PIDS

rm -rf "$OUT/state-rsa-$N"
start_appliance "$OUT/state-rsa-$N" 18446 18083
ARN_PID=$APPLIANCE_PID
import_all "pki-rsa-$N" 18446
start_nginx "pki-rsa-$N" "$N" 19446
NRN_PIDS=$NGINX_PIDS

rm -rf "$OUT/state-$N"
start_appliance "$OUT/state-$N" 18444 18081
import_all "pki-$N" 18444
stop_appliance "$APPLIANCE_PID"
start_appliance "$OUT/state-$N" 18444 18081
AN_PID=$APPLIANCE_PID ASTART=$APPLIANCE_STARTUP
# The snapshot figures the appliance logged at this start (store read, then selection snapshot built).
SNAPSHOT_LINE=$(grep -m1 'TLS selection snapshot' "$OUT/state-$N.log" | sed 's/.*TLS selection snapshot: //' || true)
start_nginx "pki-$N" "$N" 19444
NN_PIDS=$NGINX_PIDS NSTART=$NGINX_STARTUP
# Warm-up: the first handshake of each name makes its context (lazily, as nginx cannot); the measured rounds
# then see names already seen. Random names: ~4 handshakes per name leave about 2% of names unseen.
WARM=$(( N * 4 / 1000 + 2 ))
say "  warming up for $WARM s (every name's first handshake)"
taskset -c 1 "$OUT/hsbench" -p 18444 -c 32 -d "$WARM" -w 0 -n "$N" >/dev/null 2>&1 || true
taskset -c 1 "$OUT/hsbench" -p 18446 -c 32 -d "$WARM" -w 0 -n "$N" >/dev/null 2>&1 || true
say "  resumed in a 1 s probe: appliance $(resumed_share 18443), nginx $(resumed_share 19443)"

# ---- rounds
a1=() n1=() an=() nn=() ar1=() nr1=() arn=() nrn=() ars=() nrs=() ak=() nk=() ah=() nh=()
r1=() rn=() rr1=() rrn=() rrs=() rk=() rh=() rself=()
for ((r = 1; r <= ROUNDS; r++)); do
  a1+=("$(handshakes 18443 "$A1_PID" 1)"); n1+=("$(handshakes 19443 "$N1_PIDS" 1)")
  an+=("$(handshakes 18444 "$AN_PID" "$N")"); nn+=("$(handshakes 19444 "$NN_PIDS" "$N")")
  ar1+=("$(handshakes 18445 "$AR1_PID" 1)"); nr1+=("$(handshakes 19445 "$NR1_PIDS" 1)")
  arn+=("$(handshakes 18446 "$ARN_PID" "$N")"); nrn+=("$(handshakes 19446 "$NRN_PIDS" "$N")")
  ars+=("$(resumed 18443 "$A1_PID")"); nrs+=("$(resumed 19443 "$N1_PIDS")")
  ak+=("$(keepalive 18443)"); nk+=("$(keepalive 19443)")
  ah+=("$(http2 18443)"); nh+=("$(http2 19443)")
  r1+=("$(ratio "${a1[-1]}" "${n1[-1]}")"); rn+=("$(ratio "${an[-1]}" "${nn[-1]}")")
  rr1+=("$(ratio "${ar1[-1]}" "${nr1[-1]}")"); rrn+=("$(ratio "${arn[-1]}" "${nrn[-1]}")")
  rrs+=("$(ratio "${ars[-1]}" "${nrs[-1]}")")
  rk+=("$(ratio "${ak[-1]}" "${nk[-1]}")"); rh+=("$(ratio "${ah[-1]}" "${nh[-1]}")"); rself+=("$(ratio "${an[-1]}" "${a1[-1]}")")
  say "  round $r: ECDSA 1: ${a1[-1]}/${n1[-1]} (${r1[-1]}); ECDSA $N: ${an[-1]}/${nn[-1]} (${rn[-1]}); RSA 1: ${ar1[-1]}/${nr1[-1]} (${rr1[-1]}); RSA $N: ${arn[-1]}/${nrn[-1]} (${rrn[-1]})"
  say "           resumed: ${ars[-1]}/${nrs[-1]} (${rrs[-1]}); keep-alive: ${ak[-1]}/${nk[-1]} (${rk[-1]}); HTTP/2: ${ah[-1]}/${nh[-1]} (${rh[-1]})   (appliance/nginx)"
done
ARSS=$(rss_mb "$AN_PID")
NRSS=$(rss_mb "$NN_PIDS")

spread() { printf '%s-%s' "$(printf '%s\n' "$@" | sort -g | head -1)" "$(printf '%s\n' "$@" | sort -g | tail -1)"; }
row() { printf '%-56s %12s %12s %8s  %s\n' "$1" "$(median "${!2}")" "$(median "${!3}")" "$(median "${!4}")" "$(spread "${!4}")"; }

printf '\n%-56s %12s %12s %8s  %s\n' "figure" "appliance" "nginx" "ratio" "ratio spread"
printf '(figures: medians of %s rounds of %s s; ratios: medians of the per-round ratios, with their lowest and highest)\n' "$ROUNDS" "$SECONDS_MEASURED"
row "full handshakes per server CPU-s, ECDSA P-256, 1 cert" 'a1[@]' 'n1[@]' 'r1[@]'
row "full handshakes per server CPU-s, ECDSA P-256, $N certs" 'an[@]' 'nn[@]' 'rn[@]'
row "full handshakes per server CPU-s, RSA-2048, 1 cert" 'ar1[@]' 'nr1[@]' 'rr1[@]'
row "full handshakes per server CPU-s, RSA-2048, $N certs" 'arn[@]' 'nrn[@]' 'rrn[@]'
row "resumed handshakes per server CPU-s (tickets)" 'ars[@]' 'nrs[@]' 'rrs[@]'
row "keep-alive HTTP/1.1 requests/s (wrk, 32 connections)" 'ak[@]' 'nk[@]' 'rk[@]'
row "HTTP/2 requests/s (h2load, 4 connections x 8 streams)" 'ah[@]' 'nh[@]' 'rh[@]'
printf '%-56s %12s %12s %8s\n' "RSS (PSS) MB with $N certificates" "$ARSS" "$NRSS" "$(ratio "$ARSS" "$NRSS")"
printf '%-56s %12s %12s %8s\n' "start to first HTTPS answer, s, $N certificates" "${ASTART:0:6}" "${NSTART:0:6}" "$(ratio "$ASTART" "$NSTART")"
printf '%-56s %12s\n' "appliance: $N-certificate / 1-certificate handshakes" "$(median "${rself[@]}")"
printf '%-56s %s\n' "appliance: selection snapshot at start" "${SNAPSHOT_LINE:-not logged}"
