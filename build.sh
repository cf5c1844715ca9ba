#!/usr/bin/env bash
# One entry point: ./build.sh run | test | publish | image | bench
# Each command installs what it needs on a Debian 12 machine (as root), once, quietly.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
OUT=$ROOT/out
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '==> %s\n' "$*" >&2; }

# apt packages, installed only when missing; `apt-get update` at most once per run.
APT_UPDATED=
need_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "Missing packages: ${missing[*]}; install them (as root: apt-get install ${missing[*]})." >&2
    exit 1
  fi
  log "installing ${missing[*]}"
  if [ -z "$APT_UPDATED" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

need_dotnet() {
  if ! command -v dotnet >/dev/null; then
    echo "The .NET 10 SDK is missing: install it (dotnet on PATH) and run again." >&2
    exit 1
  fi
}

# NativeAOT needs clang and zlib; the binary links libsqlite3.so.0 and OpenSSL 3.
BUILD_PACKAGES=(clang zlib1g-dev libsqlite3-0 libssl3 openssl ca-certificates curl)
# Tests run the JIT-built test projects (SQLite by its plain name) against real peers.
TEST_PACKAGES=(libsqlite3-dev openssl curl swtpm swtpm-tools tpm2-tools chromium pebble python3-aiosmtpd)

cmd_publish() {
  need_dotnet
  need_packages "${BUILD_PACKAGES[@]}"
  log "publishing the NativeAOT appliance binary"
  mkdir -p "$OUT"
  local logfile=$OUT/publish.log
  if ! dotnet publish src/Appliance/Appliance.csproj -c Release -r linux-x64 -o "$OUT/publish" -nologo -clp:NoSummary >"$logfile" 2>&1; then
    cat "$logfile" >&2
    echo "publish failed (log: $logfile)" >&2
    exit 1
  fi
  # Zero trim/AOT warnings: any warning fails the publish.
  if grep -E ': warning [A-Z]+[0-9]+' "$logfile" | grep -v NU1603 >&2; then
    echo "publish printed warnings (above); fix them." >&2
    exit 1
  fi
  install -m 0755 "$OUT/publish/appliance" "$OUT/appliance"
  log "built $OUT/appliance ($("$OUT/appliance" --version))"
}

cmd_test() {
  need_dotnet
  need_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
  cmd_publish
  log "building and running the tests"
  export APPLIANCE_BINARY=$OUT/appliance
  local results=$OUT/test-results
  rm -rf "$results"
  set +e
  dotnet test Firmware.sln -c Release -nologo --logger "console;verbosity=normal" --logger trx --results-directory "$results" 2>&1 | tee "$OUT/test.log" \
    | grep -E '\[FAIL\]|^\s*Failed |: error |Failed!|Passed!|^\s+(Assert|Expected|Actual|Error Message|at Appliance)' || true
  local status=${PIPESTATUS[0]}
  set -e
  local passed failed
  passed=$( { grep -ohE 'Passed: +[0-9]+' "$OUT/test.log" || true; } | awk '{s+=$2} END {print s+0}')
  failed=$( { grep -ohE 'Failed: +[0-9]+' "$OUT/test.log" || true; } | awk '{s+=$2} END {print s+0}')
  echo "$passed passed, $failed failed"
  if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
    echo "tests failed (full log: $OUT/test.log)" >&2
    exit 1
  fi
}

cmd_run() {
  cmd_publish
  local state=$ROOT/.state/dev
  mkdir -p "$state"
  local https=${HTTPS_PORT:-8443} http=${HTTP_PORT:-8080}
  cat <<MSG

  The appliance is starting on this machine (state: $state).
  Admin interface:  https://localhost:$https/appliance
  API status:       https://localhost:$https/appliance/api/v1/status
  Log in as 'admin' with ${APPLIANCE_ADMIN_PASSWORD:+the password in APPLIANCE_ADMIN_PASSWORD}${APPLIANCE_ADMIN_PASSWORD:-the one-time password printed below at first start (set APPLIANCE_ADMIN_PASSWORD to choose it)}, e.g.:
    curl -k -c /tmp/appliance.cookies -H 'Content-Type: application/json' \\
      -d '{"username":"admin","password":"..."}' https://localhost:$https/appliance/api/v1/session
    curl -k -b /tmp/appliance.cookies https://localhost:$https/appliance/api/v1/status
  Stop with Ctrl-C.

MSG
  exec "$OUT/appliance" serve --state-dir "$state" --https-port "$https" --http-port "$http" --key-protection software
}

cmd_bench() {
  need_packages "${BUILD_PACKAGES[@]}" nginx-light libssl-dev wrk bc python3-cryptography util-linux
  cmd_publish
  # nginx-light's own service is not wanted: the bench starts its own instances on loopback ports.
  systemctl disable --now nginx >/dev/null 2>&1 || pkill -x nginx 2>/dev/null || true
  bench/run.sh
}

case "${1:-}" in
  publish) cmd_publish ;;
  test) cmd_test ;;
  run) cmd_run ;;
  bench) cmd_bench ;;
  *) echo "usage: ./build.sh run | test | publish | bench" >&2; exit 2 ;;
esac
