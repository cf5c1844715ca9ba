#!/usr/bin/env bash
# One entry point: ./build.sh run | run-local | test | publish | image | bench | testssl | fuzz
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
# PKCS#12 and Ed25519 files from other tools (interop tests): NSS pk12util, GnuTLS certtool, Java keytool.
TEST_PACKAGES=(libsqlite3-dev openssl curl swtpm swtpm-tools tpm2-tools chromium pebble python3-aiosmtpd afl++
  libnss3-tools gnutls-bin default-jre-headless nghttp2-client)
# Coverage-guided fuzzing (./build.sh fuzz): afl++ drives the SharpFuzz-instrumented parsers.
FUZZ_PACKAGES=(afl++ libssl3)
# The virtual box (hw/qemu/launch.sh): QEMU (TCG), OVMF, swtpm, socat for QMP.
BOX_PACKAGES=(qemu-system-x86 qemu-utils ovmf swtpm swtpm-tools socat curl openssl)
IMAGE=$OUT/image/b-series-x64.img

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

# The firmware image (image/build-image.sh), rebuilt only when one of its inputs changed:
# the binary, image/, buildroot-overlay/, hw/. The key is kept in .cache/image/.
cmd_image() {
  [ -x "$OUT/appliance" ] || cmd_publish
  local key stamp=$ROOT/.cache/image/image.key
  key=$( { sha256sum "$OUT/appliance"; find image buildroot-overlay hw -type f ! -name '*.md' -print0 | sort -z | xargs -0 sha256sum; } | sha256sum | cut -c1-16)
  if [ -f "$IMAGE" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$key" ]; then
    log "image up to date: ${IMAGE#"$ROOT"/} ($key)"
    return 0
  fi
  log "building the firmware image"
  image/build-image.sh "$OUT" "$OUT/appliance" b-series-x64
  mkdir -p "$(dirname "$stamp")"
  echo "$key" > "$stamp"
}

cmd_test() {
  need_dotnet
  need_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}" "${BOX_PACKAGES[@]}"
  cmd_publish
  cmd_image
  log "building and running the tests"
  export APPLIANCE_BINARY=$OUT/appliance APPLIANCE_IMAGE=$IMAGE IMAGE_FIGURES_FILE=$OUT/image-figures.txt
  local results=$OUT/test-results
  rm -rf "$results" "$IMAGE_FIGURES_FILE"
  set +e
  dotnet test Firmware.sln -c Release -nologo --logger "console;verbosity=normal" --logger trx --results-directory "$results" 2>&1 | tee "$OUT/test.log" \
    | grep -E '\[FAIL\]|^\s*Failed |: error |Failed!|Passed!|^\s+(Assert|Expected|Actual|Error Message|at Appliance)' || true
  local status=${PIPESTATUS[0]}
  set -e
  local passed failed
  passed=$( { grep -ohE 'Passed: +[0-9]+' "$OUT/test.log" || true; } | awk '{s+=$2} END {print s+0}')
  failed=$( { grep -ohE 'Failed: +[0-9]+' "$OUT/test.log" || true; } | awk '{s+=$2} END {print s+0}')
  [ -f "$IMAGE_FIGURES_FILE" ] && sed 's/^image figures: /  image: /' "$IMAGE_FIGURES_FILE"
  # Every parser that meets outside bytes, fuzzed for a short budget: a crash or hang fails the run.
  local fuzz_status=0
  "$ROOT/build.sh" fuzz all "${FUZZ_TEST_SECONDS:-30}" || fuzz_status=$?
  echo "$passed passed, $failed failed"
  if [ "$failed" -ne 0 ]; then
    # Each failure whole (message, launcher output, serial console tail, stack), at most 120 lines
    # each: CI shows only what is printed here.
    echo "--- the failures ---"
    awk '/^  Failed [A-Za-z]/ { on = 1; n = 0 } /^  Passed [A-Za-z]|^\[xUnit/ { on = 0 } on && n++ < 120' "$OUT/test.log"
  fi
  if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
    echo "tests failed (full log: $OUT/test.log)" >&2
    exit 1
  fi
  if [ "$fuzz_status" -ne 0 ]; then
    echo "fuzzing found a crash or hang, or could not run (above; inputs under $OUT/fuzz/TARGET/crashes)" >&2
    exit 1
  fi
}

# Coverage-guided fuzzing (fuzz/README.md): ./build.sh fuzz [TARGET|all] [SECONDS]. Builds fuzz/Appliance.Fuzz,
# instruments our own parser assemblies with sharpfuzz (not BouncyCastle or the framework: their code runs, uninstrumented),
# runs afl-fuzz on each target from its seed corpus fuzz/corpus/TARGET for SECONDS, and reports afl's figures. Fails
# when a crash or hang was found; the inputs are copied to out/fuzz/TARGET/crashes and .../hangs.
FUZZ_INSTRUMENTED=(Appliance.Certificates.dll Appliance.Acme.dll Appliance.Tpm.dll Appliance.Fuzz.Ocsp.dll)
cmd_fuzz() {
  local which=${1:-all} seconds=${2:-300}
  need_dotnet
  need_packages "${FUZZ_PACKAGES[@]}"
  local bin=$OUT/fuzz/bin logfile=$OUT/fuzz/build.log
  mkdir -p "$OUT/fuzz"
  log "building and instrumenting the fuzz driver"
  rm -rf "$bin"
  if ! { dotnet tool restore && dotnet publish fuzz/Appliance.Fuzz/Appliance.Fuzz.csproj -c Release -o "$bin" -nologo -clp:NoSummary; } >"$logfile" 2>&1; then
    cat "$logfile" >&2
    echo "building the fuzz driver failed (log: $logfile)" >&2
    return 1
  fi
  # Instrumented code needs afl's shared memory: the plain mode (replaying files) runs an uninstrumented copy.
  rm -rf "$OUT/fuzz/replay"; cp -r "$bin" "$OUT/fuzz/replay"
  for dll in "${FUZZ_INSTRUMENTED[@]}"; do
    dotnet sharpfuzz "$bin/$dll" >>"$logfile" 2>&1 || { cat "$logfile" >&2; echo "sharpfuzz could not instrument $dll" >&2; return 1; }
  done
  local targets
  if [ "$which" = all ]; then
    mapfile -t targets < <(dotnet "$bin/Appliance.Fuzz.dll" list)
  else
    targets=("$which")
  fi
  # This VM: no CPU frequency governor, no core_pattern pipe to fix, no free core to bind to.
  export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1
  local target found=0 report=()
  for target in "${targets[@]}"; do
    [ -d "fuzz/corpus/$target" ] || { echo "no seed corpus fuzz/corpus/$target for target '$target'" >&2; return 1; }
    local dir=$OUT/fuzz/$target
    rm -rf "$dir"; mkdir -p "$dir"
    log "fuzzing $target for $seconds s"
    # -t: one input may take 5 s (the plain mode's hang limit too; "+": a seed slower than that on a loaded machine is
    # skipped, not fatal); the driver's .NET start-up happens before the
    # fork-server handshake, so it does not count. -m none: the CLR reserves far more address space than afl's default.
    # A dictionary (fuzz/dict/TARGET.dict) gives afl the tokens of text formats (JSON members, PEM lines) whose parsing
    # runs in uninstrumented framework code.
    local dict=()
    [ -f "fuzz/dict/$target.dict" ] && dict=(-x "fuzz/dict/$target.dict")
    if ! timeout --kill-after=30 $((seconds + 120)) afl-fuzz -i "fuzz/corpus/$target" -o "$dir/afl" -t 5000+ -m none -V "$seconds" "${dict[@]}" \
        -- "$(command -v dotnet)" "$bin/Appliance.Fuzz.dll" "$target" >"$dir/afl.log" 2>&1; then
      tail -n 30 "$dir/afl.log" >&2
      echo "afl-fuzz could not run $target (log: $dir/afl.log)" >&2
      return 1
    fi
    local stats=$dir/afl/default/fuzzer_stats
    stat_of() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
    local crashes hangs
    crashes=$(stat_of saved_crashes) hangs=$(stat_of saved_hangs)
    for kind in crashes hangs; do
      if compgen -G "$dir/afl/default/$kind/id:*" >/dev/null; then
        mkdir -p "$dir/$kind"; cp "$dir/afl/default/$kind"/id:* "$dir/$kind/"
      fi
    done
    # Each finding is replayed by the uninstrumented driver: the parsers are pure functions of their input, so one that
    # does not crash or take over 5 s again is not a parser bug (seen: afl counts a SIGINT death of SharpFuzz's child,
    # mostly as a campaign stops, as a crash). Reproduced findings fail the run; the others are reported.
    local verdict=none
    if [ "${crashes:-1}" != 0 ] || [ "${hangs:-1}" != 0 ]; then
      local findings=()
      for kind in crashes hangs; do [ -d "$dir/$kind" ] && findings+=("$dir/$kind"); done
      if [ ${#findings[@]} -eq 0 ] || ! dotnet "$OUT/fuzz/replay/Appliance.Fuzz.dll" "$target" "${findings[@]}" >"$dir/replay.log" 2>&1; then
        found=1 verdict=reproduced
        cat "$dir/replay.log" >&2 2>/dev/null || true
        echo "$target: ${crashes:-?} crashes, ${hangs:-?} hangs; inputs in $dir/crashes and $dir/hangs; replay: dotnet $OUT/fuzz/replay/Appliance.Fuzz.dll $target $dir/crashes" >&2
      else
        verdict="not reproduced ($dir/replay.log)"
      fi
    fi
    report+=("$(printf '%-18s %12s execs %8s/s %6s paths  %s crashes  %s hangs  reproduced: %s' "$target" "$(stat_of execs_done)" "$(stat_of execs_per_sec)" "$(stat_of corpus_count)" "${crashes:-?}" "${hangs:-?}" "$verdict")")
  done
  printf 'fuzz: %s\n' "${report[@]}"
  return "$found"
}

# Boots the image in the virtual box (hw/qemu/launch.sh run): builds what is missing first.
cmd_run() {
  need_packages "${BOX_PACKAGES[@]}"
  # Publish when the binary is missing or older than a source file (bin/ and obj/ do not count).
  if [ ! -x "$OUT/appliance" ] || [ -n "$(find src \( -name bin -o -name obj \) -prune -o -type f -newer "$OUT/appliance" -print -quit)" ]; then
    cmd_publish
  fi
  cmd_image
  local box=$ROOT/.state/box https=${HOST_HTTPS_PORT:-8443}
  cat <<MSG

  Booting the virtual B Series box (QEMU TCG, swtpm, OVMF; state: $box, serial console: $box/serial.log).
  Admin interface:  https://localhost:$https/appliance  (once the box says it is ready, below)
  Log in as 'admin' with ${APPLIANCE_ADMIN_PASSWORD:+the password in APPLIANCE_ADMIN_PASSWORD (passed to the box as the credential appliance.admin-password)}${APPLIANCE_ADMIN_PASSWORD:-the one-time password the box prints at its first start: grep -a 'one-time password' $box/serial.log (set APPLIANCE_ADMIN_PASSWORD to choose it)}.
  Ctrl-C powers the box off cleanly.

MSG
  # launch.sh run traps INT/TERM and powers the box off; exec keeps that signal path direct.
  HOST_HTTPS_PORT=$https exec hw/qemu/launch.sh run "$box"
}

cmd_run_local() {
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
  need_packages "${BUILD_PACKAGES[@]}" nginx-light libssl-dev wrk bc python3-cryptography util-linux nghttp2-client
  cmd_publish
  # nginx-light's own service is not wanted: the bench starts its own instances on loopback ports.
  systemctl disable --now nginx >/dev/null 2>&1 || pkill -x nginx 2>/dev/null || true
  bench/run.sh
}

cmd_testssl() {
  need_packages "${BUILD_PACKAGES[@]}" testssl.sh openssl curl
  cmd_publish
  bench/testssl.sh
}

case "${1:-}" in
  publish) cmd_publish ;;
  test) cmd_test ;;
  image) need_packages "${BUILD_PACKAGES[@]}"; cmd_image ;;
  run) cmd_run ;;
  bench) cmd_bench ;;
  testssl) cmd_testssl ;;
  fuzz) cmd_fuzz "${2:-all}" "${3:-300}" ;;
  run-local) cmd_run_local ;;
  *) echo "usage: ./build.sh run | run-local | test | publish | image | bench | testssl | fuzz [TARGET|all] [SECONDS]" >&2; exit 2 ;;
esac
