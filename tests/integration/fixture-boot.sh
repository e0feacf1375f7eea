#!/usr/bin/env bash
# Proves the stand-in vendor DVDs (tests/fixtures/make-boot-media.sh) boot before any
# airstrap test relies on them: the unmodified el7 and el9 fixtures in all four ways
# (BIOS/UEFI x CD/USB, two each), then a hand-remastered copy of each with a kickstart
# on the media, whose %pre recognises the machine by its MAC (one BIOS, one UEFI boot), and
# a UEFI PXE boot of the DVD's shim stand-in (BOOTX64.EFI as shimx64.efi) from QEMU's TFTP.
# Boots run two at a time (BOOT_JOBS=1: one at a time, on a machine shared with others).
# Needs QEMU and OVMF (skipped without), the fixture ISOs in $BOOT_MEDIA (default
# $FIXTURES/boot-media, made by the fixtures.make-boot-media test).
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/boot-lib.sh"

why=$(qemu_skip_reason)
[ -z "$why" ] || skip "$why"
for tool in xorriso mcopy; do
    command -v "$tool" >/dev/null || skip "no $tool (Debian package $([ $tool = mcopy ] && echo mtools || echo xorriso))"
done
MEDIA=${BOOT_MEDIA:-${FIXTURES:?set FIXTURES or BOOT_MEDIA}/boot-media}/boot
EL7=$MEDIA/el7-dvd.iso
EL9=$MEDIA/el9-dvd.iso
[ -f "$EL7" ] && [ -f "$EL9" ] || skip "no fixture ISOs in $MEDIA (run tests/fixtures/make-boot-media.sh)"

EL7_LABEL='CentOS 7 x86_64'
EL7_ESC='CentOS\x207\x20x86_64'
EL9_LABEL='Rocky-9-4-x86_64-dvd'
EL9_ESC=$EL9_LABEL
T0=$SECONDS

# boot NAME MODE ISO [MAC]: one boot in the background (in the foreground with BOOT_JOBS=1),
# serial log in $WORK/NAME.log
BOOT_JOBS=${BOOT_JOBS:-2}
declare -A PID=() RC=()
boot() {
    local name=$1 mode=$2 iso=$3 mac=${4:-52:54:00:12:34:56}
    (
        export BOOT_MAC=$mac
        rc=0
        boot_iso "$mode" "$iso" "$WORK/$name.log" || rc=$?
        echo "boot $name ($mode, $(basename "$iso"), MAC $mac): ${BOOT_SECONDS}s, exit $rc"
        exit $rc
    ) &
    PID[$name]=$!
    if [ "$BOOT_JOBS" -le 1 ]; then
        RC[$name]=0
        wait "${PID[$name]}" || RC[$name]=$?
    fi
}
# finished NAME: wait for the boot; fail (with its serial log) unless QEMU ended well
finished() {
    local rc=${RC[$1]:-}
    [ -n "$rc" ] || { rc=0; wait "${PID[$1]}" || rc=$?; }
    [ "$rc" -eq 0 ] || { tail -n 40 "$WORK/$1.log" >&2; fail "boot $1 did not finish"; }
    has_marker "$WORK/$1.log" 'done' || { tail -n 40 "$WORK/$1.log" >&2; fail "boot $1: no 'done' marker"; }
}
# expect_plain NAME LABEL ESC: an unmodified DVD's default entry reached the fixture installer
expect_plain() {
    local log=$WORK/$1.log cmdline
    cmdline=$(marker "$log" cmdline)
    [[ $cmdline == *"inst.stage2=hd:LABEL=$3 "* ]] || fail "$1: cmdline lacks inst.stage2=hd:LABEL=$3: $cmdline"
    [[ $cmdline == *" rd.live.check "* ]] || fail "$1: not the default 'Test this media' entry: $cmdline"
    [[ $(marker "$log" stage2) == "found $2 on "* ]] || fail "$1: stage2: $(marker "$log" stage2)"
    has_marker "$log" "ks: none" || fail "$1: expected 'ks: none'"
    echo "  $1: stage2 $(marker "$log" stage2); ks: none"
}

echo "== unmodified fixture DVDs"
boot el7-bios-cd bios-cd "$EL7"
boot el9-uefi-cd uefi-cd "$EL9"
finished el7-bios-cd
finished el9-uefi-cd
boot el7-uefi-usb uefi-usb "$EL7"
boot el9-bios-usb bios-usb "$EL9"
expect_plain el7-bios-cd "$EL7_LABEL" "$EL7_ESC"
expect_plain el9-uefi-cd "$EL9_LABEL" "$EL9_ESC"

# --- remastered copies: a kickstart on the media, inst.ks= on the boot entries -------------
cat >"$WORK/test.ks" <<'EOF'
# airstrap fixture-boot test kickstart
text
%pre --erroronfail --log=/tmp/airstrap-pre.log
mkdir -p /tmp/airstrap
node=
for f in /sys/class/net/*/address; do
    case "$(cat "$f")" in
        52:54:00:aa:00:01) node=ctl-1 ;;
        52:54:00:aa:00:02) node=cmp-2 ;;
    esac
    [ -n "$node" ] && break
done
[ -n "$node" ] || { echo "no known MAC: $(cat /sys/class/net/*/address)"; exit 1; }
echo "$node" > /tmp/airstrap/node
printf 'network --hostname=%s\n' "$node" > /tmp/airstrap/node.ks
echo "pre ran for $node"
%end
%packages
@core
%end
EOF
# remaster IN OUT: IN with /ks/test.ks and inst.ks=hd:LABEL=…:/ks/test.ks after every
# inst.stage2=hd:LABEL=… (spelled as that entry spells its label) in isolinux.cfg, the
# ISO's grub.cfg and efiboot.img's grub.cfg.
remaster() {
    local in=$1 out=$2 d
    d=$WORK/remaster-$(basename "$in" .iso)
    mkdir -p "$d"
    xorriso -osirrox on -indev "$in" \
        -extract /isolinux/isolinux.cfg "$d/isolinux.cfg" \
        -extract /EFI/BOOT/grub.cfg "$d/grub.cfg" \
        -extract /images/efiboot.img "$d/efiboot.img" >"$d/log" 2>&1 || { cat "$d/log" >&2; fail "extract from $in"; }
    chmod u+w "$d"/*
    sed -i 's|\(inst\.stage2=hd:LABEL=\([^ ]*\)\)|\1 inst.ks=hd:LABEL=\2:/ks/test.ks|' "$d/isolinux.cfg" "$d/grub.cfg"
    grep -q 'inst.ks=' "$d/isolinux.cfg" && grep -q 'inst.ks=' "$d/grub.cfg" || fail "remaster: no inst.stage2 to edit in $in"
    mcopy -o -i "$d/efiboot.img" "$d/grub.cfg" ::EFI/BOOT/grub.cfg
    xorriso -indev "$in" -outdev "$out" -boot_image any replay \
        -map "$WORK/test.ks" /ks/test.ks \
        -map "$d/isolinux.cfg" /isolinux/isolinux.cfg \
        -map "$d/grub.cfg" /EFI/BOOT/grub.cfg \
        -map "$d/efiboot.img" /images/efiboot.img >"$d/log" 2>&1 || { cat "$d/log" >&2; fail "remaster $in"; }
}
t=$SECONDS
remaster "$EL7" "$WORK/el7-ks.iso"
remaster "$EL9" "$WORK/el9-ks.iso"
echo "remastered both DVDs with /ks/test.ks in $((SECONDS - t))s"

finished el7-uefi-usb
finished el9-bios-usb
boot el7-ks-uefi-cd uefi-cd "$WORK/el7-ks.iso" 52:54:00:aa:00:02
boot el9-ks-bios-cd bios-cd "$WORK/el9-ks.iso" 52:54:00:aa:00:01
expect_plain el7-uefi-usb "$EL7_LABEL" "$EL7_ESC"
expect_plain el9-bios-usb "$EL9_LABEL" "$EL9_ESC"

# expect_ks NAME LABEL ESC NODE MAC
expect_ks() {
    local log=$WORK/$1.log
    [[ $(marker "$log" stage2) == "found $2 on "* ]] || fail "$1: stage2: $(marker "$log" stage2)"
    [[ $(marker "$log" ks-source) == "hd:LABEL=$3:/ks/test.ks" ]] || fail "$1: ks-source: $(marker "$log" ks-source) $(marker "$log" ks)"
    diff <(ks_text "$log") "$WORK/test.ks" >&2 || fail "$1: the kickstart read is not test.ks"
    [[ $(marker "$log" macs) == "$5" ]] || fail "$1: macs: $(marker "$log" macs)"
    [[ $(marker "$log" pre-exit) == 0 ]] || { block_text "$log" pre-log-begin pre-log-end >&2; fail "$1: pre-exit $(marker "$log" pre-exit)"; }
    [[ $(marker "$log" node) == "$4" ]] || fail "$1: node: $(marker "$log" node), expected $4"
    [[ $(block_text "$log" node-ks-begin node-ks-end) == "network --hostname=$4" ]] || fail "$1: node.ks: $(block_text "$log" node-ks-begin node-ks-end)"
    has_marker "$log" "post-report: none" || fail "$1: test.ks has no install report, expected 'post-report: none'"
    echo "  $1: ks-source $(marker "$log" ks-source); test.ks read; node: $4"
}
finished el7-ks-uefi-cd
finished el9-ks-bios-cd
expect_ks el7-ks-uefi-cd "$EL7_LABEL" "$EL7_ESC" cmp-2 52:54:00:aa:00:02
expect_ks el9-ks-bios-cd "$EL9_LABEL" "$EL9_ESC" ctl-1 52:54:00:aa:00:01

# --- the shim stand-in over UEFI PXE ----------------------------------------------------------
# `airstrap build pxe` serves the DVD's EFI/BOOT/BOOTX64.EFI (shim) as tftp/shimx64.efi with
# grubx64.efi beside it: the stand-in must find grubx64.efi in the TFTP root and start it,
# and that grub must find its menu (prefix /EFI/BOOT) over TFTP and boot the kernel.
X=$WORK/pxe-el9
mkdir -p "$X/tftp/EFI/BOOT" "$X/tftp/images/pxeboot"
xorriso -osirrox on -indev "$EL9" -extract /EFI/BOOT/BOOTX64.EFI "$X/tftp/shimx64.efi" \
    -extract /EFI/BOOT/grubx64.efi "$X/tftp/grubx64.efi" \
    -extract /images/pxeboot/vmlinuz "$X/tftp/images/pxeboot/vmlinuz" \
    -extract /images/pxeboot/initrd.img "$X/tftp/images/pxeboot/initrd.img" >"$X/log" 2>&1 \
    || { cat "$X/log" >&2; fail "extract the PXE files from $EL9"; }
cmp -s "$X/tftp/shimx64.efi" "$X/tftp/grubx64.efi" && fail "EFI/BOOT/BOOTX64.EFI is grubx64.efi, not a shim stand-in"
printf '%s\n' 'set timeout=1' "menuentry 'fixture pxe' {" \
    '	linux /images/pxeboot/vmlinuz airstrap.fixture=pxe-shim quiet' \
    '	initrd /images/pxeboot/initrd.img' '}' >"$X/tftp/EFI/BOOT/grub.cfg"
chmod -R a+rX "$X/tftp"
rc=0
boot_pxe_qemu "$X/tftp" shimx64.efi uefi 52:54:00:aa:00:03 "$WORK/el9-pxe-shim.log" || rc=$?
echo "boot el9-pxe-shim (uefi pxe, shimx64.efi from el9-dvd.iso): ${BOOT_SECONDS}s, exit $rc"
[ "$rc" -eq 0 ] && has_marker "$WORK/el9-pxe-shim.log" done \
    || { tail -n 40 "$WORK/el9-pxe-shim.log" >&2; fail "UEFI PXE boot of the shim stand-in did not finish"; }
tr -d '\r' <"$WORK/el9-pxe-shim.log" | grep -q 'airstrap-fixture shim: loading (tftp,[0-9.]*)/grubx64.efi' \
    || fail "el9-pxe-shim: the shim stand-in did not load grubx64.efi from the TFTP root"
[[ $(marker "$WORK/el9-pxe-shim.log" cmdline) == *" airstrap.fixture=pxe-shim "* ]] \
    || fail "el9-pxe-shim: not the TFTP menu's kernel: $(marker "$WORK/el9-pxe-shim.log" cmdline)"
echo "  el9-pxe-shim: shimx64.efi loaded (tftp)/grubx64.efi, whose TFTP menu booted the installer"

pass "fixture DVDs boot (BIOS/UEFI, CD/USB), read a kickstart from the media, and their shim stand-in boots over UEFI PXE in $((SECONDS - T0))s"
