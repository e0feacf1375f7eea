# shellcheck shell=bash disable=SC2034  # BOOT_SECONDS is read by the sourcing test
# QEMU boot harness for the integration tests: source it (after common.sh, which makes
# $WORK). Every boot is TCG (-machine pc,accel=tcg; KVM aborts on these machines), has a
# hard timeout, -no-reboot, 768 MiB, no display, and writes the serial port to a log.
# The only network is QEMU's user-mode one (restrict=on: it cannot reach the host's
# networks) with no host forwarding; it stays inside QEMU.
#
#   qemu_skip_reason                     why booting cannot work here ("" when it can)
#   monitor SOCKET COMMAND               one command to a QEMU monitor on a unix socket
#   boot_iso MODE ISO LOG [QEMU ARGS…]   MODE: bios-cd uefi-cd bios-usb uefi-usb
#   boot_pxe_qemu TFTPDIR BOOTFILE MODE MAC LOG [QEMU ARGS…]   MODE: bios uefi
#   marker LOG NAME                      the value after "AIRSTRAP-FIXTURE NAME: " (first)
#   has_marker LOG TEXT                  the log has the line "AIRSTRAP-FIXTURE TEXT"
#   ks_text LOG                          the lines between ks-begin and ks-end
#   block_text LOG BEGIN END             the lines between two AIRSTRAP-FIXTURE markers
#   pre_ok LOG REPO_URL                  %pre exited 0 and wrote the repository line for
#                                        REPO_URL; else says why on stderr and returns 1
#   report_ok LOG                        the installer ran the kickstart's install report
#                                        (%post with "# airstrap-install-report") and each
#                                        exited 0; else says why (and its log) on stderr, 1
#   report_text LOG                      the report's output (post-report-log-begin … -end)
#
# Environment: BOOT_MAC (default 52:54:00:12:34:56), BOOT_TIMEOUT (seconds, default 180),
# BOOT_NETDEV_OPTS (appended to the -netdev user options, e.g. ",guestfwd=…-cmd:…"),
# BOOT_SECONDS (set by each boot: how long it took).

BOOT_QEMU=${BOOT_QEMU:-qemu-system-x86_64}
OVMF_CODE=${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
OVMF_VARS=${OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}
BOOT_MAC=${BOOT_MAC:-52:54:00:12:34:56}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-180}
BOOT_SECONDS=0

# monitor SOCKET COMMAND: one command to a QEMU monitor on a unix socket.
monitor() {
    python3 - "$1" "$2" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
time.sleep(0.5)
s.sendall(sys.argv[2].encode() + b"\n")
time.sleep(0.5)
s.close()
PY
}

qemu_skip_reason() {
    command -v "$BOOT_QEMU" >/dev/null || { echo "no $BOOT_QEMU (Debian package qemu-system-x86)"; return 0; }
    command -v timeout >/dev/null || { echo "no timeout (coreutils)"; return 0; }
    [ -r "$OVMF_CODE" ] || { echo "no $OVMF_CODE (Debian package ovmf)"; return 0; }
    [ -r "$OVMF_VARS" ] || { echo "no $OVMF_VARS (Debian package ovmf)"; return 0; }
    "$BOOT_QEMU" -machine help 2>/dev/null | grep >/dev/null '^pc ' \
        || { echo "$BOOT_QEMU has no 'pc' machine"; return 0; }
    "$BOOT_QEMU" -device help 2>/dev/null | grep >/dev/null '"usb-storage"' \
        || { echo "$BOOT_QEMU has no usb-storage device"; return 0; }
    return 0
}

# _boot_run LOG ARGS…: run QEMU with the common arguments; fails on timeout or error.
_boot_run() {
    local log=$1 start rc=0
    shift
    : >"$log"
    start=$(date +%s%N)
    timeout --kill-after=10 "$BOOT_TIMEOUT" "$BOOT_QEMU" \
        -machine pc,accel=tcg -m 768 -smp 1 -no-reboot \
        -display none -vga std -monitor none -parallel none \
        -serial "file:$log" \
        "$@" </dev/null >"$log.qemu" 2>&1 || rc=$?
    start=$((($(date +%s%N) - start) / 100000000))   # tenths of a second
    BOOT_SECONDS=$((start / 10)).$((start % 10))
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "boot: QEMU timed out after ${BOOT_TIMEOUT}s; serial log $log" >&2
        return 1
    elif [ "$rc" -ne 0 ]; then
        echo "boot: QEMU exited $rc:" >&2
        cat "$log.qemu" >&2
        return 1
    fi
    return 0
}

# _boot_vars: a per-run copy of the OVMF variable store, in $WORK (or a temp dir).
_boot_vars() {
    local dir=${WORK:-${TMPDIR:-/tmp}}
    local vars
    vars=$(mktemp "$dir/ovmf-vars.XXXXXX.fd")
    cp "$OVMF_VARS" "$vars"
    echo "$vars"
}

_boot_firmware() {   # _boot_firmware bios|uefi: the -drive pflash arguments (nothing for bios)
    if [ "$1" = uefi ]; then
        local vars
        vars=$(_boot_vars)
        echo "-drive if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE -drive if=pflash,format=raw,unit=1,file=$vars"
    fi
}

boot_iso() {   # boot_iso MODE ISO LOG [QEMU ARGS…]
    local mode=$1 iso=$2 log=$3 fw media
    shift 3
    case $mode in
        bios-cd | uefi-cd)
            media="-drive if=none,id=cd0,media=cdrom,format=raw,readonly=on,file=$iso -device ide-cd,drive=cd0,bootindex=0" ;;
        bios-usb | uefi-usb)
            media="-device qemu-xhci,id=xhci -drive if=none,id=usb0,format=raw,readonly=on,file=$iso -device usb-storage,bus=xhci.0,drive=usb0,bootindex=0" ;;
        *) echo "boot_iso: unknown mode $mode" >&2; return 2 ;;
    esac
    case $iso in *,*) echo "boot_iso: a comma in $iso would confuse QEMU" >&2; return 2 ;; esac
    fw=$(_boot_firmware "${mode%%-*}")
    # shellcheck disable=SC2086  # the option strings are split on purpose (no spaces in paths)
    _boot_run "$log" $fw $media \
        -netdev "user,id=n0,restrict=on${BOOT_NETDEV_OPTS:-}" \
        -device "e1000,netdev=n0,mac=$BOOT_MAC,romfile=" \
        "$@"
}

# boot_pxe_qemu TFTPDIR BOOTFILE MODE MAC LOG: network boot from QEMU's built-in DHCP and
# TFTP server. BIOS uses the e1000's iPXE ROM (ipxe-qemu); UEFI uses OVMF's own
# VirtioNetDxe and PXE stack with a virtio-net NIC.
boot_pxe_qemu() {
    local dir=$1 file=$2 mode=$3 mac=$4 log=$5 fw nic
    shift 5
    case $mode in
        bios) nic=e1000 ;;
        uefi) nic=virtio-net-pci ;;
        *) echo "boot_pxe_qemu: unknown mode $mode" >&2; return 2 ;;
    esac
    case $dir in *,*) echo "boot_pxe_qemu: a comma in $dir would confuse QEMU" >&2; return 2 ;; esac
    fw=$(_boot_firmware "$mode")
    # shellcheck disable=SC2086
    _boot_run "$log" $fw \
        -netdev "user,id=n0,restrict=on,tftp=$dir,bootfile=$file${BOOT_NETDEV_OPTS:-}" \
        -device "$nic,netdev=n0,mac=$mac,bootindex=0" \
        "$@"
}

# Serial logs hold firmware output too (escape sequences, CRs), so markers are found
# anywhere in a line.
_boot_clean() { tr -d '\r' <"$1" | sed 's/^.*\(AIRSTRAP-FIXTURE \)/\1/'; }
marker() {   # marker LOG NAME
    # Reads the whole log (no head): an early exit would SIGPIPE the writer under pipefail.
    _boot_clean "$1" | sed -n "s/^AIRSTRAP-FIXTURE $2: //p" | sed -n 1p
}
has_marker() {   # has_marker LOG LINE: the log has the marker line LINE (e.g. "done", "ks: none")
    _boot_clean "$1" | grep -xF >/dev/null "AIRSTRAP-FIXTURE $2"
}
block_text() {   # block_text LOG BEGIN END
    _boot_clean "$1" | awk -v b="AIRSTRAP-FIXTURE $2" -v e="AIRSTRAP-FIXTURE $3" '
        done { next } $0 == b { on = 1; next } $0 == e { done = 1; next } on { print }'
}
ks_text() { block_text "$1" ks-begin ks-end; }

# pre_ok LOG REPO_URL: the installer (tests/fixtures/fixture-init.sh) ran every %pre to exit
# status 0, did not abort (a %pre --erroronfail that fails aborts it, as it does Anaconda),
# found every %include, and %pre wrote the site repository for this boot: the line
# "repo --name=airstrap-site --baseurl=REPO_URL" (/tmp/airstrap/source.ks, which the
# kickstart includes) and REPO_URL (/tmp/airstrap/repo-url, which %post reads). REPO_URL is
# file:///run/install/repo/airstrap/repo from install media, http://…/airstrap/repo over
# the network. Otherwise prints why and %pre's log on stderr and returns 1.
pre_ok() {
    local log=$1 url=$2 exits why='' got
    exits=$(_boot_clean "$log" | sed -n 's/^AIRSTRAP-FIXTURE pre-exit: //p' | tr '\n' ' ')
    if [ -z "$exits" ]; then
        why="no %pre ran (no 'pre-exit:' line; kickstart: $(marker "$log" ks-source)$(marker "$log" ks))"
    elif [ "${exits//0 /}" != "" ]; then
        why="%pre exited ${exits% } (expected 0)"
    elif [ -n "$(marker "$log" pre-aborted)" ]; then
        why="the installer aborted: $(marker "$log" pre-aborted)"
    elif [ -n "$(marker "$log" include-missing)" ]; then
        why="%include of a file %pre did not write:$(marker "$log" include-missing)"
    elif ! has_marker "$log" pre-ok; then
        why="no 'pre-ok' line: the installer stopped before the end of its kickstart checks"
    else
        got=$(block_text "$log" "file-begin: source.ks" "file-end: source.ks")
        if [ "$got" != "repo --name=airstrap-site --baseurl=$url" ]; then
            why="/tmp/airstrap/source.ks is '$got', expected 'repo --name=airstrap-site --baseurl=$url'"
        else
            got=$(block_text "$log" "file-begin: repo-url" "file-end: repo-url")
            [ "$got" = "$url" ] || why="/tmp/airstrap/repo-url is '$got', expected '$url'"
        fi
    fi
    [ -z "$why" ] && return 0
    {
        echo "pre_ok: $log: $why"
        echo "pre_ok: %pre's log:"
        block_text "$log" pre-log-begin pre-log-end | sed 's/^/    /'
    } >&2
    return 1
}

report_text() { block_text "$1" post-report-log-begin post-report-log-end; }

# report_ok LOG: the installer (fixture-init.sh) ran, after pre-ok, every %post section whose
# body holds the line "# airstrap-install-report", and each exited 0 (curl -f fails on any
# HTTP status but 2xx, so 0 means the service accepted it). Otherwise prints why and the
# report's output on stderr and returns 1.
report_ok() {
    local log=$1 exits why=''
    exits=$(_boot_clean "$log" | sed -n 's/^AIRSTRAP-FIXTURE post-report-exit: //p' | tr '\n' ' ')
    if [ -n "$(marker "$log" post-report)" ]; then
        why="post-report: $(marker "$log" post-report)"
    elif [ -z "$exits" ]; then
        why="no install report ran (no 'post-report-exit:' line; pre-ok: $(has_marker "$log" pre-ok && echo yes || echo no))"
    elif [ "${exits//0 /}" != "" ]; then
        why="the install report exited ${exits% } (expected 0)"
    fi
    [ -z "$why" ] && return 0
    {
        echo "report_ok: $log: $why"
        echo "report_ok: the report's output:"
        report_text "$log" | sed 's/^/    /'
    } >&2
    return 1
}
