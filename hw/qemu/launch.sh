#!/usr/bin/env bash
# The virtual B Series box: swtpm + qemu-system-x86_64 (TCG) + OVMF over the built image.
#
#   hw/qemu/launch.sh start BOX_DIR   boot the box (in the background), wait until ready
#   hw/qemu/launch.sh stop  BOX_DIR   clean ACPI power-off (system_powerdown), then wait
#   hw/qemu/launch.sh kill  BOX_DIR   hard power-off (QEMU killed), for crash tests
#   hw/qemu/launch.sh run   BOX_DIR   start, then stay in the foreground; Ctrl-C or SIGTERM
#                                     powers the box off cleanly
#
# BOX_DIR keeps one box: disk.qcow2 (copy-on-write overlay over the image), OVMF_VARS.fd,
# uuid (SMBIOS system UUID), tpm/ (swtpm state: the box's TPM), serial.log, qmp.sock, pid
# files. Delete BOX_DIR for a factory-new box; delete BOX_DIR/tpm alone to give the same disk
# another TPM.
#
# Environment:
#   IMAGE                     raw disk image (default: out/image/b-series-x64.img)
#   APPLIANCE_ADMIN_PASSWORD  passed in as the systemd credential appliance.admin-password
#   BOX_CREDENTIALS           more system credentials, "name=value name=value" (no spaces in
#                             values), e.g. appliance.debug-security=1 (security report on
#                             the serial console at boot)
#   READY                     http (default): wait until GET /appliance/api/v1/status answers
#                             any HTTP status; service: wait for appliance-ready's line in the
#                             serial log (appliance.service sent READY=1); boot: wait for
#                             multi-user.target or the login prompt in the serial log;
#                             none: do not wait
#   READY_TIMEOUT             seconds (default 240)
#   HOST_HTTPS_PORT, HOST_HTTP_PORT  loopback ports forwarded to 443 and 80 (8443, 8080)
#   QEMU_SMP                  virtual CPUs (default 2)
# Only 127.0.0.1 is listened on; the guest's user-mode networks are restricted (no traffic
# leaves the host except through the forwarded ports).
set -euo pipefail

die() { echo "launch: $*" >&2; exit 1; }
log() { printf '[launch %s] %s\n' "$(date +%T)" "$*"; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# The caller's environment wins over the profile's defaults (ports, memory, disk size).
ENV_HTTPS_PORT=${HOST_HTTPS_PORT:-} ENV_HTTP_PORT=${HOST_HTTP_PORT:-}
ENV_MEMORY_MIB=${QEMU_MEMORY_MIB:-} ENV_DISK_SIZE=${QEMU_DISK_SIZE:-}
# shellcheck source=profile
source "$HERE/profile"
HOST_HTTPS_PORT=${ENV_HTTPS_PORT:-$HOST_HTTPS_PORT} HOST_HTTP_PORT=${ENV_HTTP_PORT:-$HOST_HTTP_PORT}
QEMU_MEMORY_MIB=${ENV_MEMORY_MIB:-$QEMU_MEMORY_MIB} QEMU_DISK_SIZE=${ENV_DISK_SIZE:-$QEMU_DISK_SIZE}

[[ $# -eq 2 ]] || die "usage: hw/qemu/launch.sh start|stop|kill|run BOX_DIR"
CMD=$1
BOX=$(mkdir -p "$2" && cd "$2" && pwd)
IMAGE=${IMAGE:-$REPO/out/image/$IMAGE_NAME.img}
HOST_HTTPS_PORT=${HOST_HTTPS_PORT:-8443}
HOST_HTTP_PORT=${HOST_HTTP_PORT:-8080}
READY=${READY:-http}
READY_TIMEOUT=${READY_TIMEOUT:-240}
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
STATUS_URL="https://127.0.0.1:$HOST_HTTPS_PORT/appliance/api/v1/status"

install_prerequisites() {
    local -A need=([qemu-system-x86_64]=qemu-system-x86 [qemu-img]=qemu-utils [swtpm]=swtpm
                   [swtpm_setup]=swtpm-tools [socat]=socat [curl]=curl)
    local missing=() cmd
    for cmd in "${!need[@]}"; do command -v "$cmd" >/dev/null || missing+=("${need[$cmd]}"); done
    [[ -f $OVMF_CODE ]] || missing+=(ovmf)
    [[ ${#missing[@]} -eq 0 ]] && return
    log "installing prerequisites: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -qq -o DPkg::Lock::Timeout=600 update
    apt-get -qq -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}" >/dev/null
}

alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

qmp() {
    # One QMP session: capabilities handshake, then the command; answers go to stdout.
    printf '{"execute":"qmp_capabilities"}\n{"execute":"%s"}\n' "$1" |
        socat -t 2 - "UNIX-CONNECT:$BOX/qmp.sock" 2>/dev/null || true
}

prepare_box() {
    [[ -f $IMAGE ]] || die "no image at $IMAGE: run ./build.sh image (or image/build-image.sh) first"
    # A rebuilt image invalidates the overlay (its blocks refer to the old image).
    local stamp; stamp="$(readlink -f "$IMAGE") $(stat -c '%s %Y' "$IMAGE")"
    if [[ ! -f $BOX/disk.qcow2 || "$(cat "$BOX/disk.image" 2>/dev/null)" != "$stamp" ]]; then
        [[ -f $BOX/disk.qcow2 ]] && log "the image changed: new disk overlay (the box's data is reset)"
        rm -f "$BOX/disk.qcow2"
        qemu-img create -q -f qcow2 -F raw -b "$(readlink -f "$IMAGE")" "$BOX/disk.qcow2" "${QEMU_DISK_SIZE:-4G}"
        echo "$stamp" > "$BOX/disk.image"
    fi
    [[ -f $BOX/OVMF_VARS.fd ]] || cp "$OVMF_VARS" "$BOX/OVMF_VARS.fd"
    # The box's SMBIOS system UUID, kept for its life: systemd derives the machine-id from it in
    # a VM (the root filesystem's /etc/machine-id is empty), so the journal keeps one directory.
    [[ -s $BOX/uuid ]] || cat /proc/sys/kernel/random/uuid > "$BOX/uuid"
    if [[ ! -d $BOX/tpm ]]; then
        mkdir -p "$BOX/tpm"
        swtpm_setup --tpm2 --tpmstate "$BOX/tpm" --createek --pcr-banks sha256 --overwrite \
            --logfile "$BOX/swtpm-setup.log" >/dev/null || die "swtpm_setup failed: see $BOX/swtpm-setup.log"
    fi
}

start_swtpm() {
    alive "$BOX/swtpm.pid" && return
    rm -f "$BOX/swtpm.sock"
    swtpm socket --tpm2 --tpmstate dir="$BOX/tpm" --ctrl type=unixio,path="$BOX/swtpm.sock" \
        --log file="$BOX/swtpm.log",level=1 --pid file="$BOX/swtpm.pid" --terminate --daemon
    for _ in $(seq 50); do [[ -S $BOX/swtpm.sock ]] && return; sleep 0.1; done
    die "swtpm did not create $BOX/swtpm.sock: see $BOX/swtpm.log"
}

start_qemu() {
    local smbios=()
    if [[ -n ${APPLIANCE_ADMIN_PASSWORD:-} ]]; then
        # QEMU option syntax: a comma inside a value is written as two.
        smbios=(-smbios "type=11,value=io.systemd.credential:appliance.admin-password=${APPLIANCE_ADMIN_PASSWORD//,/,,}")
    fi
    local cred
    for cred in ${BOX_CREDENTIALS:-}; do
        smbios+=(-smbios "type=11,value=io.systemd.credential:${cred//,/,,}")
    done
    : > "$BOX/serial.log"
    rm -f "$BOX/qmp.sock"
    # NICs sit behind PCIe root ports 1 and 2 as on the physical box, so its .link files
    # (Path=pci-0000:01:00.0 / pci-0000:02:00.0) name them mgmt0 and lan0 here too.
    qemu-system-x86_64 \
        -name "appliance-$(basename "$BOX")" -uuid "$(cat "$BOX/uuid")" \
        -machine q35 -accel tcg,tb-size=128 -smp "${QEMU_SMP:-2}" -m "${QEMU_MEMORY_MIB:-512}" \
        -nodefaults -no-user-config -display none -vga none \
        -drive if=pflash,format=raw,unit=0,readonly=on,file="$OVMF_CODE" \
        -drive if=pflash,format=raw,unit=1,file="$BOX/OVMF_VARS.fd" \
        -drive if=none,id=disk0,format=qcow2,file="$BOX/disk.qcow2",discard=unmap \
        -device virtio-blk-pci,drive=disk0,bootindex=1 \
        -device pcie-root-port,id=rp1,bus=pcie.0,addr=0x1c.0,multifunction=on,chassis=1 \
        -device pcie-root-port,id=rp2,bus=pcie.0,addr=0x1c.1,chassis=2 \
        -netdev "user,id=mgmt0,restrict=on,hostfwd=tcp:127.0.0.1:$HOST_HTTPS_PORT-:443,hostfwd=tcp:127.0.0.1:$HOST_HTTP_PORT-:80" \
        -device virtio-net-pci,netdev=mgmt0,bus=rp1,mac=52:54:00:b5:00:01 \
        -netdev user,id=lan0,restrict=on,net=10.0.3.0/24 \
        -device virtio-net-pci,netdev=lan0,bus=rp2,mac=52:54:00:b5:00:02 \
        -chardev socket,id=chrtpm,path="$BOX/swtpm.sock" \
        -tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0 \
        -device i6300esb -action watchdog=reset \
        -object rng-random,id=rng0,filename=/dev/urandom -device virtio-rng-pci,rng=rng0 \
        -chardev file,id=serial0,path="$BOX/serial.log" -serial chardev:serial0 \
        -qmp unix:"$BOX/qmp.sock",server=on,wait=off \
        "${smbios[@]}" \
        -pidfile "$BOX/qemu.pid" -daemonize
}

wait_ready() {
    local started=$1 deadline=$((SECONDS + READY_TIMEOUT)) code
    while ((SECONDS < deadline)); do
        alive "$BOX/qemu.pid" || die "QEMU exited during boot: see $BOX/serial.log"
        case $READY in
            http)
                code=$(curl -ks -o /dev/null -w '%{http_code}' --max-time 5 "$STATUS_URL" || true)
                if [[ $code != 000 ]]; then
                    log "ready: $STATUS_URL answered HTTP $code, $((SECONDS - started)) s after power-on"
                    return
                fi ;;
            service)
                if grep -aq 'appliance-ready: appliance.service is active' "$BOX/serial.log"; then
                    log "ready: appliance.service sent READY=1, $((SECONDS - started)) s after power-on"
                    return
                fi
                grep -aq 'appliance-ready: appliance.service is ' "$BOX/serial.log" &&
                    die "appliance.service did not start: $(grep -ao 'appliance-ready: .*' "$BOX/serial.log" | tail -1)"
                ;;
            boot)
                # systemd's status lines stop once the serial getty owns the console, so the
                # login prompt counts too.
                if grep -aq 'Reached target.*Multi-User System\|^appliance login:' "$BOX/serial.log"; then
                    log "booted: multi-user.target or the serial login prompt reached $((SECONDS - started)) s after power-on"
                    return
                fi ;;
            none) return ;;
        esac
        sleep 1
    done
    echo "--- last lines of $BOX/serial.log ---" >&2; tail -n 25 "$BOX/serial.log" >&2
    die "not ready after $READY_TIMEOUT s (READY=$READY); the box is still running: hw/qemu/launch.sh stop $BOX"
}

do_start() {
    install_prerequisites
    alive "$BOX/qemu.pid" && die "box $BOX is already running (pid $(cat "$BOX/qemu.pid"))"
    prepare_box
    local started=$SECONDS
    start_swtpm
    start_qemu
    log "box powered on: serial console in $BOX/serial.log"
    wait_ready "$started"
    local once
    once=$(grep -ao 'one-time password: [^[:space:]]*' "$BOX/serial.log" | tail -1 | cut -d' ' -f3 || true)
    if [[ -n ${APPLIANCE_ADMIN_PASSWORD:-} ]]; then
        echo "https://localhost:$HOST_HTTPS_PORT/appliance  (user admin, the password in \$APPLIANCE_ADMIN_PASSWORD unless it was changed)"
    elif [[ -n $once ]]; then
        echo "https://localhost:$HOST_HTTPS_PORT/appliance  (user admin, one-time password $once: change it at the first login)"
    else
        echo "https://localhost:$HOST_HTTPS_PORT/appliance  (user admin; the one-time password was printed at the box's first start: grep -a 'one-time password' $BOX/serial.log)"
    fi
}

do_stop() {
    if alive "$BOX/qemu.pid"; then
        local pid; pid=$(cat "$BOX/qemu.pid")
        log "ACPI power-off"
        qmp system_powerdown >/dev/null
        for _ in $(seq "${STOP_TIMEOUT:-90}"); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
        if kill -0 "$pid" 2>/dev/null; then
            log "no power-off after ${STOP_TIMEOUT:-90} s: QEMU quit"
            qmp quit >/dev/null
            gone "$pid" 5 || { kill -9 "$pid" 2>/dev/null || true; gone "$pid" 30 || die "QEMU (pid $pid) does not stop"; }
        else
            log "powered off$(grep -q 'reboot: Power down' "$BOX/serial.log" && echo ' cleanly')"
        fi
    fi
    stop_swtpm
}

# Waits until process $1 is gone (a signal is delivered asynchronously: a killed QEMU can still
# hold its disk's write lock, and a stopping swtpm its state lock, for a moment after kill returns).
gone() {
    local _
    for _ in $(seq "$((${2:-10} * 10))"); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    return 1
}

do_kill() {
    if alive "$BOX/qemu.pid"; then
        local pid; pid=$(cat "$BOX/qemu.pid")
        kill -9 "$pid" 2>/dev/null || true
        gone "$pid" 30 || die "QEMU (pid $pid) still running 30 s after SIGKILL"
        log "QEMU killed (hard power-off)"
    fi
    stop_swtpm
}

stop_swtpm() {
    # swtpm --terminate ends with QEMU's connection; this catches a box that never connected.
    if alive "$BOX/swtpm.pid"; then
        local pid; pid=$(cat "$BOX/swtpm.pid")
        if ! gone "$pid" 2; then
            kill "$pid" 2>/dev/null || true
            gone "$pid" 5 || { kill -9 "$pid" 2>/dev/null || true; gone "$pid" 5 || die "swtpm (pid $pid) does not stop"; }
        fi
    fi
    rm -f "$BOX/qemu.pid" "$BOX/swtpm.pid"
}

case $CMD in
    start) do_start ;;
    stop) do_stop ;;
    kill) do_kill ;;
    run)
        trap 'do_stop; exit 0' INT TERM
        do_start
        log "Ctrl-C powers the box off"
        while alive "$BOX/qemu.pid"; do sleep 1; done
        log "the box powered itself off"; stop_swtpm ;;
    *) die "unknown command '$CMD': use start, stop, kill or run" ;;
esac
