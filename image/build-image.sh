#!/usr/bin/env bash
# Builds the firmware image: image/build-image.sh OUT_DIR BINARY PROFILE
#
#   OUT_DIR  where OUT_DIR/image/<IMAGE_NAME>.img and its manifest are written (e.g. out)
#   BINARY   the NativeAOT `appliance` executable, installed as /usr/bin/appliance
#   PROFILE  a folder name under hw/ (b-series-x64); its `profile` and rootfs/ are used
#
# Environment: IMAGE_COMPRESS=0 skips the .img.zst; KEEP_WORK=1 keeps the staging tree.
#
# The base root filesystem (mmdebstrap minbase of bookworm from the HOST's apt sources,
# image/packages.list, slimmed) is cached as .cache/image/base-<hash>.tar, keyed by every
# input of that stage; debs are cached in .cache/apt. Everything after it (binary, overlay,
# profile, disk) is redone on every call. Runs as root; needs no loop mounts.
set -euo pipefail

die() { echo "build-image: $*" >&2; exit 1; }
log() { printf '[build-image %s] %s\n' "$(date +%T)" "$*"; }

[[ $# -eq 3 ]] || die "usage: image/build-image.sh OUT_DIR BINARY PROFILE (e.g. out out/appliance b-series-x64)"
[[ $(id -u) -eq 0 ]] || die "must run as root (mmdebstrap, chroot, file ownership in the image)"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT_DIR=$(mkdir -p "$1" && cd "$1" && pwd)
BINARY=$(readlink -f "$2")
PROFILE=$3
PROFILE_DIR=$REPO/hw/$PROFILE
[[ -x $BINARY ]] || die "binary '$2' is missing or not executable: run ./build.sh publish first"
[[ -f $PROFILE_DIR/profile ]] || die "hardware profile '$PROFILE' has no $PROFILE_DIR/profile (choose one of: $(cd "$REPO/hw" && ls -d */ | tr -d / | tr '\n' ' '))"
# shellcheck source=../hw/b-series-x64/profile
source "$PROFILE_DIR/profile"
: "${IMAGE_NAME:?hw/$PROFILE/profile must set IMAGE_NAME}"
: "${CONSOLE_CMDLINE:=console=ttyS0,115200n8}"

CACHE=$REPO/.cache
IMAGE_DIR=$OUT_DIR/image
WORK=$IMAGE_DIR/.work
STARTED=$SECONDS

# Debian 12 partition sizes (MiB). The data partition is grown at first boot (repart.d).
ESP_MIB=64
DATA_MIB=64
# GPT partition type GUIDs (UEFI spec; Discoverable Partitions Specification for root).
GUID_ESP=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
GUID_ROOT_X86_64=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709
GUID_LINUX_DATA=0FC63DAF-8483-4772-8E79-3D69D8477DE4
EFI_STUB=/usr/lib/systemd/boot/efi/linuxx64.efi.stub

# --- prerequisites -----------------------------------------------------------------------

install_prerequisites() {
    local -A need=(
        [mmdebstrap]=mmdebstrap [mkfs.ext4]=e2fsprogs [mkfs.vfat]=dosfstools [mcopy]=mtools
        [sfdisk]=fdisk [objcopy]=binutils [zstd]=zstd [depmod]=kmod
        [systemd-sysusers]=systemd
    )
    local missing=() cmd
    for cmd in "${!need[@]}"; do
        command -v "$cmd" >/dev/null || missing+=("${need[$cmd]}")
    done
    [[ -f $EFI_STUB ]] || missing+=(systemd-boot-efi)
    [[ ${#missing[@]} -eq 0 ]] && return
    log "installing prerequisites: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -qq -o DPkg::Lock::Timeout=600 update
    apt-get -qq -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}" >/dev/null
}

# The host's own Debian 12 apt sources (deb822 or one-line), so no mirror host is written
# in the repo: mmdebstrap pastes the file into the chroot's sources.list.
host_sources() {
    local f found=0
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] && grep -qE '^Suites:.*\bbookworm\b' "$f" || continue
        cat "$f"; echo; found=1
    done
    if [[ $found -eq 0 && -f /etc/apt/sources.list ]]; then
        grep -E '^deb .*\bbookworm' /etc/apt/sources.list && found=1
    fi
    [[ $found -eq 1 ]] || die "no Debian 12 (bookworm) apt source on this host: add one under /etc/apt/sources.list.d/"
}

package_list() { sed -e 's/#.*//' -e '/^\s*$/d' "$REPO/image/packages.list" | tr -s ' \n' ',' | sed 's/,$//'; }

# --- stage 1: the cached base root filesystem -------------------------------------------

# Runs inside mmdebstrap's customize phase: $1 is the root directory.
# Purges what only the build needed, then drops kernel module trees a box never loads.
slim_base() {
    local root=$1 kver pkgs=()
    for p in apt libapt-pkg6.0 gpgv debian-archive-keyring initramfs-tools initramfs-tools-core \
             klibc-utils libklibc busybox cpio; do
        chroot "$root" dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' && pkgs+=("$p")
    done
    chroot "$root" dpkg --purge --force-depends --force-remove-essential --force-remove-protected "${pkgs[@]}" >/dev/null 2>&1
    for kver in $(ls "$root/lib/modules"); do
        local k=$root/lib/modules/$kver/kernel
        rm -rf "$k"/sound "$k"/drivers/{gpu,media,staging,infiniband,isdn,bluetooth,iio,net/wireless,net/can,thunderbolt,comedi,hwmon/pmbus,mmc,memstick,w1,nfc,fpga,accessibility,misc/cardreader} \
               "$k"/net/{bluetooth,mac80211,wireless,can,ceph,rxrpc,sunrpc,nfc,6lowpan,ieee802154,mac802154,batman-adv} \
               "$k"/fs/{btrfs,xfs,ocfs2,nfs,nfsd,nfs_common,lockd,cifs,smb,ceph,gfs2,f2fs,ubifs,jfs,reiserfs,nilfs2,ntfs3,ntfs,afs,9p,orangefs,coda,udf,hfs,hfsplus,isofs,erofs,squashfs,dlm,gfs2,ufs,minix,omfs,befs,efs,qnx4,qnx6,sysv,hpfs,romfs,zonefs,freevxfs,adfs,affs,cramfs,exfat,bfs}
        depmod -b "$root" "$kver"
    done
    rm -rf "$root"/usr/share/{doc-base,bug,lintian,linda,info,man} "$root"/usr/share/locale/* "$root"/var/cache/debconf/*-old
}

build_base() {
    local tar=$1 sources=$2
    mkdir -p "$CACHE/apt/archives" "$(dirname "$tar")"
    # mmdebstrap runs hooks with sh: slim_base (bash) goes through a script file.
    { declare -f slim_base; echo 'slim_base "$1"'; } > "$WORK/slim-base.sh"
    log "building the base root filesystem (mmdebstrap minbase bookworm; debs cached in .cache/apt)"
    # The initramfs config and module list must be in place before the kernel's postinst
    # builds the initrd: MODULES=list gives an initrd of a few MB instead of ~30 MB.
    mmdebstrap --variant=minbase --mode=root --format=tar --quiet \
        --include="$(package_list)" \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/lintian/*' \
        --aptopt='APT::Install-Recommends "false"' \
        --skip=download/empty --skip=essential/unlink \
        --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
        --setup-hook="mkdir -p \"\$1/var/cache/apt/archives\" \"\$1/etc/initramfs-tools/conf.d\" \"\$1/usr/share/initramfs-tools/modules.d\"" \
        --setup-hook="sync-in '$CACHE/apt/archives' /var/cache/apt/archives/" \
        --setup-hook="cp '$REPO/buildroot-overlay/etc/initramfs-tools/conf.d/appliance.conf' \"\$1/etc/initramfs-tools/conf.d/\"" \
        --setup-hook="cp $PROFILE_DIR/rootfs/usr/share/initramfs-tools/modules.d/* \"\$1/usr/share/initramfs-tools/modules.d/\" 2>/dev/null || true" \
        --customize-hook="sync-out /var/cache/apt/archives '$CACHE/apt/archives'" \
        --customize-hook="bash '$WORK/slim-base.sh' \"\$1\"" \
        bookworm "$tar.partial" "$sources"
    mv "$tar.partial" "$tar"
}

# --- stage 2: the root filesystem of this build -----------------------------------------

assemble_rootfs() {
    local root=$1
    log "assembling the root filesystem"
    tar -xpf "$BASE_TAR" -C "$root" --numeric-owner
    install -D -m 0755 "$BINARY" "$root/usr/bin/appliance"
    cp -rT --no-preserve=ownership "$REPO/buildroot-overlay" "$root"
    rm -f "$root/README.md"
    if [[ -d $PROFILE_DIR/rootfs ]]; then cp -rT --no-preserve=ownership "$PROFILE_DIR/rootfs" "$root"; fi
    mkdir -p "$root/usr/share/appliance"
    cp "$PROFILE_DIR/profile" "$root/usr/share/appliance/hw-profile"
    # Accounts are made now: /etc is read-only at run time.
    systemd-sysusers --root="$root" >/dev/null
    systemctl --root="$root" enable appliance.service appliance-ready.service appliance-security-report.service systemd-networkd.service systemd-resolved.service systemd-timesyncd.service 2>&1 | grep -v '^Created symlink' || true
    # The root filesystem is read-only: no first-boot prompts, no machine-id commit. An
    # empty /etc/machine-id makes systemd use a fresh one per boot (see image/README.md).
    # pcrphase needs libtss2 and measures into PCR 11, which the vault does not use.
    systemctl --root="$root" mask systemd-firstboot.service systemd-machine-id-commit.service \
        systemd-pcrphase.service systemd-pcrphase-sysinit.service systemd-pcrphase-initrd.service \
        dpkg-db-backup.timer apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service >/dev/null 2>&1
    : > "$root/etc/machine-id"
    rm -f "$root/var/lib/dbus/machine-id"
    ln -sfn ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
    # The image's identity, shown by systemd at boot and in the UKI's .osrel section.
    sed -i '/^PRETTY_NAME=/d' "$root/usr/lib/os-release"
    printf 'PRETTY_NAME="%s appliance %s"\nIMAGE_ID=%s\nIMAGE_VERSION=%s\n' \
        "$PROFILE_NAME" "$VERSION" "$IMAGE_NAME" "$VERSION" >> "$root/usr/lib/os-release"
    echo "$VERSION" > "$root/usr/share/appliance/version"
    # Kernel and initrd go into the unified kernel image on the ESP, not the root fs.
    KERNEL=$(ls "$root"/boot/vmlinuz-* | sort -V | tail -1)
    KVER=${KERNEL##*/vmlinuz-}
    cp "$KERNEL" "$WORK/vmlinuz"
    cp "$root/boot/initrd.img-$KVER" "$WORK/initrd"
    rm -rf "$root"/boot/* "$root"/vmlinuz* "$root"/initrd.img*
    # The manifest's package list, then no package manager at run time.
    dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${Package}\t${Version}\n' > "$WORK/packages.tsv"
    rm -rf "$root"/var/cache/apt "$root"/var/lib/apt "$root"/etc/apt "$root"/var/log/apt \
           "$root"/var/lib/dpkg "$root"/usr/bin/dpkg* "$root"/usr/sbin/dpkg* "$root"/usr/share/dpkg \
           "$root"/etc/dpkg "$root"/var/cache/debconf "$root"/var/log/* "$root"/usr/share/initramfs-tools \
           "$root"/etc/initramfs-tools
}

# The data partition's first content: the state directory (owned by the service account,
# so StateDirectory= finds it right and chowns nothing) and the journal's directory.
assemble_data() {
    local root=$1 data=$2 uid gid jgid
    uid=$(awk -F: '$1=="appliance"{print $3}' "$root/etc/passwd")
    gid=$(awk -F: '$1=="appliance"{print $3}' "$root/etc/group")
    jgid=$(awk -F: '$1=="systemd-journal"{print $3}' "$root/etc/group")
    [[ -n $uid && -n $gid && -n $jgid ]] || die "accounts appliance/systemd-journal missing in the image (sysusers)"
    mkdir -p "$data/.journal"
    chown "$uid:$gid" "$data"; chmod 0750 "$data"
    chown "0:$jgid" "$data/.journal"; chmod 2755 "$data/.journal"
}

# --- stage 3: the disk --------------------------------------------------------------------

# A unified kernel image: systemd's EFI stub with the kernel, initrd, command line and
# os-release as PE sections (systemd-stub(7)); each section placed after the last, aligned.
make_uki() {
    local out=$1 cmdline=$2 osrel=$3
    local align offs=0 size vma args=() name file
    align=$((16#$(objdump -p "$EFI_STUB" | awk '$1=="SectionAlignment"{print $2}')))
    # objdump -h: Idx Name Size VMA ...; the new sections go after the stub's last one.
    while read -r size vma; do
        if (( 16#$vma + 16#$size > offs )); then offs=$(( 16#$vma + 16#$size )); fi
    done < <(objdump -h -w "$EFI_STUB" | awk '$1 ~ /^[0-9]+$/ {print $3, $4}')
    for name in osrel cmdline linux initrd; do
        case $name in osrel) file=$osrel ;; cmdline) file=$cmdline ;; linux) file=$WORK/vmlinuz ;; initrd) file=$WORK/initrd ;; esac
        offs=$(( (offs + align - 1) / align * align ))
        args+=(--add-section ".$name=$file" --change-section-vma ".$name=$(printf '0x%x' "$offs")")
        offs=$((offs + $(stat -Lc %s "$file")))
    done
    objcopy "${args[@]}" "$EFI_STUB" "$out"
}

mib_of_dir() { du -s --block-size=1M --apparent-size "$1" | cut -f1; }

make_disk() {
    local img=$1 root=$2 data=$3 root_mib total_mib
    # Room for ext4 metadata and inode tables, rounded to 8 MiB.
    root_mib=$(( ( $(mib_of_dir "$root") * 115 / 100 + 32 + 7) / 8 * 8 ))
    total_mib=$((1 + ESP_MIB + root_mib + DATA_MIB + 1))
    log "disk: ESP ${ESP_MIB} MiB, root ${root_mib} MiB, data ${DATA_MIB} MiB"

    # panic=10: an unattended box that panics (seen once in QEMU: the initramfs's run-init failing to clear the
    # initramfs, "Directory not empty") reboots after 10 s instead of hanging until someone power-cycles it.
    local cmdline="root=PARTLABEL=root rootfstype=ext4 ro $CONSOLE_CMDLINE quiet panic=10 systemd.show_status=yes systemd.gpt_auto=0"
    printf '%s' "$cmdline" > "$WORK/cmdline"
    make_uki "$WORK/BOOTX64.EFI" "$WORK/cmdline" "$root/usr/lib/os-release"

    rm -f "$WORK/esp.img"
    mkfs.vfat -C -F 32 -n ESP "$WORK/esp.img" $((ESP_MIB * 1024)) >/dev/null
    mmd -i "$WORK/esp.img" ::/EFI ::/EFI/BOOT
    mcopy -i "$WORK/esp.img" "$WORK/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI

    # No journal on the read-only root; the data partition keeps one (crash safety).
    rm -f "$WORK/root.img" "$WORK/data.img"
    mkfs.ext4 -q -F -L root -O ^has_journal -m 0 -E root_owner=0:0 -d "$root" "$WORK/root.img" "${root_mib}M"
    # mkfs -d leaves the root inode to root: root_owner gives it to the service account, or
    # StateDirectory= would chown the whole partition (the journal too) at first start.
    mkfs.ext4 -q -F -L data -m 1 -E root_owner="$(stat -c %u:%g "$data")" -d "$data" "$WORK/data.img" "${DATA_MIB}M"

    rm -f "$img"; truncate -s "${total_mib}M" "$img"
    sfdisk -q "$img" <<EOF
label: gpt
first-lba: 2048
start=1MiB, size=${ESP_MIB}MiB, type=$GUID_ESP, name=esp
size=${root_mib}MiB, type=$GUID_ROOT_X86_64, name=root, attrs="GUID:60"
size=${DATA_MIB}MiB, type=$GUID_LINUX_DATA, name=data
EOF
    dd if="$WORK/esp.img" of="$img" bs=1M seek=1 conv=notrunc,sparse status=none
    dd if="$WORK/root.img" of="$img" bs=1M seek=$((1 + ESP_MIB)) conv=notrunc,sparse status=none
    dd if="$WORK/data.img" of="$img" bs=1M seek=$((1 + ESP_MIB + root_mib)) conv=notrunc,sparse status=none
}

# --- version and manifest -------------------------------------------------------------------

# One version for binary, image and UI: the binary's own (Nerdbank.GitVersioning stamps it
# at publish). A binary that does not say one (a stand-in) falls back to NB.GV's scheme
# without the tool: version.json's major.minor, the git height, the commit.
image_version() {
    local base height commit
    if base=$("$BINARY" --version 2>/dev/null | head -1) && [[ $base =~ ^[0-9]+\.[0-9]+[0-9A-Za-z.+-]*$ ]]; then
        echo "$base"; return
    fi
    base=$(sed -n 's/^\s*"version"\s*:\s*"\([^"]*\)".*/\1/p' "$REPO/version.json" | head -1)
    if commit=$(git -C "$REPO" rev-parse --short=10 HEAD 2>/dev/null); then
        local since; since=$(git -C "$REPO" log -1 --format=%H -- version.json)
        height=$(( $(git -C "$REPO" rev-list --count "${since:-HEAD}..HEAD") + 1 ))
        git -C "$REPO" diff --quiet HEAD -- 2>/dev/null || commit="$commit-dirty"
        echo "${base:-0.0}.$height+g$commit"
    else
        echo "${base:-0.0}.0+unknown"
    fi
}

write_manifest() {
    local img=$1 manifest=$2 sha size
    sha=$(sha256sum "$img" | cut -d' ' -f1)
    size=$(stat -c %s "$img")
    {
        printf '{\n  "image": "%s",\n  "version": "%s",\n  "profile": "%s",\n' "${img##*/}" "$VERSION" "$PROFILE"
        printf '  "sha256": "%s",\n  "sizeBytes": %s,\n' "$sha" "$size"
        [[ -f $img.zst ]] && printf '  "zstd": {"file": "%s", "sizeBytes": %s, "sha256": "%s"},\n' \
            "${img##*/}.zst" "$(stat -c %s "$img.zst")" "$(sha256sum "$img.zst" | cut -d' ' -f1)"
        printf '  "kernel": "%s",\n  "cmdline": "%s",\n' "$KVER" "$(cat "$WORK/cmdline")"
        printf '  "appliance": {"path": "/usr/bin/appliance", "sha256": "%s"},\n' "$(sha256sum "$BINARY" | cut -d' ' -f1)"
        printf '  "baseRootfs": "%s",\n  "built": "%s",\n  "packages": [\n' "${BASE_TAR##*/}" "$(date -u +%FT%TZ)"
        awk -F'\t' '{printf "%s    {\"name\": \"%s\", \"version\": \"%s\"}", (NR>1 ? ",\n" : ""), $1, $2} END{print ""}' "$WORK/packages.tsv"
        printf '  ]\n}\n'
    } > "$manifest"
}

# --- main -----------------------------------------------------------------------------------

install_prerequisites
mkdir -p "$IMAGE_DIR" "$CACHE/image"
rm -rf "$WORK"; mkdir -p "$WORK/rootfs" "$WORK/data"
host_sources > "$WORK/host.sources"

# Every input of stage 1: package list, apt sources, initramfs settings, the stage's code.
BASE_KEY=$( { cat "$REPO/image/packages.list" "$WORK/host.sources" \
                  "$REPO/buildroot-overlay/etc/initramfs-tools/conf.d/appliance.conf"
              cat "$PROFILE_DIR"/rootfs/usr/share/initramfs-tools/modules.d/* 2>/dev/null || true
              declare -f build_base slim_base package_list; } | sha256sum | cut -c1-16)
BASE_TAR=$CACHE/image/base-$BASE_KEY.tar
if [[ -f $BASE_TAR ]]; then
    log "base root filesystem cached: ${BASE_TAR#"$REPO"/}"
else
    build_base "$BASE_TAR" "$WORK/host.sources"
    find "$CACHE/image" -maxdepth 1 -name 'base-*.tar' ! -name "${BASE_TAR##*/}" -delete
fi

VERSION=$(image_version)
assemble_rootfs "$WORK/rootfs"
assemble_data "$WORK/rootfs" "$WORK/data"
IMG=$IMAGE_DIR/$IMAGE_NAME.img
make_disk "$IMG" "$WORK/rootfs" "$WORK/data"
rm -f "$IMG.zst"
if [[ ${IMAGE_COMPRESS:-1} != 0 ]]; then
    log "compressing (zstd)"
    zstd -q -T0 -10 "$IMG" -o "$IMG.zst"
fi
write_manifest "$IMG" "$IMAGE_DIR/$IMAGE_NAME.manifest.json"
[[ ${KEEP_WORK:-0} == 1 ]] || rm -rf "$WORK"

log "wrote ${IMG#"$OUT_DIR"/} ($(( $(stat -c %s "$IMG") / 1048576 )) MiB raw$( [[ -f $IMG.zst ]] && echo ", $(( $(stat -c %s "$IMG.zst") / 1048576 )) MiB zstd")), version $VERSION, in $((SECONDS - STARTED)) s"
