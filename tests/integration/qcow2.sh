#!/usr/bin/env bash
# airstrap build qcow2 --profile el9 (the shipped profile), end to end on the rehearsal
# distro (tests/fixtures/make-distro.sh: Debian 12's real systemd, NetworkManager, dracut,
# GRUB, shim, firewalld, OpenSSH, chrony, rpm and dnf as RPMs under EL9 names, and a
# Packstack stand-in; it stands in for EL9, which cannot be had here). Everything boots in
# QEMU with TCG. The site is lab3's rehearsal copy (tests/fixtures/rehearsal-site.sh: el9,
# 2025.1, NetworkManager on, NICs named ens3/ens4 as QEMU's PCI slots name them).
#   1. one node's image (compute-node): what is inside (partitions, rpmdb made by the image's
#      own rpm, the baked repository and its .repo file, the node's keyfile and configuration,
#      sysprep, `systemd-analyze verify` of the daemon's unit run in the image), then it boots
#      with BIOS and with UEFI under systemd, and the serial console shows systemd as PID 1,
#      network-online.target reached before the daemon starts, the daemon starting as the
#      compute node and NetworkManager's keyfile connection up (the daemon's network steps);
#   2. a build whose initramfs command fails: exit 1, the step and command named, nothing left.
# The whole site (three images booted together) is integration.lab's (lab.sh).
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/boot-lib.sh"
: "${DISTRO:?set DISTRO to the output of tests/fixtures/make-distro.sh}"
reason=$(qemu_skip_reason)
[ -z "$reason" ] || skip "$reason"
command -v guestfish >/dev/null || skip "no guestfish (apt-get install libguestfs-tools)"
[ -r "$DISTRO/repo/repodata/repomd.xml" ] || skip "no rehearsal distro in $DISTRO (fixtures.make-distro skipped)"
ls /boot/vmlinuz-* >/dev/null 2>&1 || skip "no kernel in /boot for the libguestfs appliance (apt-get install linux-image-amd64)"
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg

PROFILE=el9
QEMU_PIDS=()
cleanup() {
    local pid
    for pid in "${QEMU_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${QEMU_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
seconds() { echo $(( $(date +%s) - $1 )); }

mkdir -p "$WORK/site"
"$SRC/tests/fixtures/rehearsal-site.sh" "$SRC/examples/lab3/site.yaml" "$WORK/site/site.yaml"
make_secrets "$WORK/site"
SITE=$WORK/site/site.yaml

# serial LOG: the console without carriage returns and terminal escapes.
serial() { [ -e "$1" ] || return 0; tr -d '\r' <"$1" | sed 's/\x1b\[[0-9;?=]*[A-Za-z]//g'; }
# has_line LOG ERE: some line of the console matches (no grep -q in a pipe: pipefail).
has_line() { grep -qE "$2" <<<"$(serial "$1")"; }
# guest IMAGE CMDS…: guestfish commands on IMAGE (read-only, partitions mounted).
guest() {
    local image=$1
    shift
    guestfish --ro -a "$image" -- run : mount /dev/sda4 / : mount /dev/sda3 /boot : mount /dev/sda2 /boot/efi : "$@"
}

# ---- 1. one node ---------------------------------------------------------------------------
start=$(date +%s)
expect_exit 0 "$AIRSTRAP" build qcow2 "$SITE" --repo "$DISTRO/repo" --profile "$PROFILE" \
    --node compute-node --size 4 -o "$WORK/compute.qcow2"
echo "$OUT" | grep -v '^ ' | grep -v 'warning' || true
grep -q "wrote $WORK/compute.qcow2: node compute-node, " <<<"$OUT" || fail "no summary line: $OUT"
grep -q "secret (0600): it holds compute-node's key; treat the image like a key" <<<"$OUT" || fail "build qcow2 does not say the image is secret: $OUT"
[ "$(stat -c %a "$WORK/compute.qcow2")" = 600 ] || fail "compute.qcow2 is $(stat -c %a "$WORK/compute.qcow2"), not 0600"
echo "one image: $(seconds "$start") s"
[ -z "$(find "$WORK" -maxdepth 1 -name '.airstrap-qcow2-*')" ] || fail "scratch folder left behind"
info=$(qemu-img info --output=json "$WORK/compute.qcow2")
grep -q '"format": "qcow2"' <<<"$info" || fail "not a qcow2: $info"
grep -q '"virtual-size": 4294967296' <<<"$info" || fail "not 4 GiB: $info"

inside=$(guest "$WORK/compute.qcow2" \
    echo ---parts : part-get-gpt-type /dev/sda 1 : part-get-gpt-type /dev/sda 2 : \
    vfs-type /dev/sda2 : vfs-type /dev/sda3 : vfs-type /dev/sda4 : \
    echo ---node : cat /etc/airstrap/node : cat /etc/hostname : \
    echo ---rpm : command "rpm -qa --qf %{NAME}\\n" : \
    echo ---repo : is-file /opt/airstrap/repo/repodata/repomd.xml : cat /etc/yum.repos.d/airstrap.repo : \
    echo ---modes : stat /etc/airstrap/node.key : echo ---sitekey : exists /etc/airstrap/site.key : echo ---shadow : cat /etc/shadow : \
    echo ---keyfile : cat /etc/NetworkManager/system-connections/ens3.nmconnection : \
    echo ---hostkeys : glob-expand "/etc/ssh/ssh_host_*" : echo ---machineid : filesize /etc/machine-id : \
    echo ---wants : ls /etc/systemd/system/multi-user.target.wants : ls /etc/systemd/system/network-online.target.wants : \
    echo ---verify : command "sh -c 'systemd-analyze verify /usr/lib/systemd/system/airstrap-firstboot.service 2>&1; echo exit=\$?'" : \
    echo ---fstab : cat /etc/fstab : echo ---boot : ls /boot : is-file /boot/efi/EFI/BOOT/BOOTX64.EFI : \
    is-file /boot/efi/EFI/centos/grubx64.efi : is-file /boot/grub2/i386-pc/core.img : \
    echo ---grubcfg : cat /boot/grub2/grub.cfg : \
    tar-out / "$WORK/compute-fs.tar" 2>&1) \
    || fail "guestfish could not read the image: $inside"
section() { awk -v s="---$1" '$0==s{on=1;next} /^---/{on=0} on' <<<"$inside"; }
grep -qi '^21686148-6449-6e6f-744e-656564454649$' <<<"$(section parts)" || fail "partition 1 is no BIOS boot partition: $(section parts)"
grep -qi '^c12a7328-f81f-11d2-ba4b-00a0c93ec93b$' <<<"$(section parts)" || fail "partition 2 is no ESP"
[ "$(section parts | grep -v '^$' | tail -3 | tr '\n' ' ')" = "vfat xfs xfs " ] || fail "file systems: $(section parts)"
[ "$(section node | grep -v '^$' | tr '\n' ' ')" = "compute-node compute-node.lab.local " ] || fail "node files: $(section node)"
for p in airstrap-firstboot chrony openssh-server openssh-clients kernel rpm dnf systemd NetworkManager \
    dracut grub2-pc grub2-efi-x64 shim-x64 firewalld airstrap-rehearsal-console; do
    grep -qx "$p" <<<"$(section rpm)" || fail "the image's rpmdb lacks $p: $(section rpm)"
done
grep -qx openstack-packstack <<<"$(section rpm)" && fail "a compute node got the controller's packstack"
[ "$(section repo | grep -v '^$' | head -1)" = true ] || fail "no repository baked in"
grep -qx 'baseurl=file:///opt/airstrap/repo' <<<"$(section repo)" || fail "repo file: $(section repo)"
grep -q '^mode: 33152$' <<<"$(section modes)" || fail "node.key is not 0600: $(section modes)"   # 0100600
[ "$(section sitekey | grep -v '^$')" = false ] || fail "the compute node's image has the site secret (/etc/airstrap/site.key)"
grep -q '^root:\$6\$' <<<"$(section shadow)" || fail "root has no SHA-512 hash"
grep -qx 'address1=192.168.111.12/24,192.168.111.2' <<<"$(section keyfile)" || fail "ens3.nmconnection: $(section keyfile)"
grep -qx 'mac-address=00:0c:29:5e:12:12' <<<"$(section keyfile)" || fail "ens3.nmconnection has no MAC"
[ -z "$(section hostkeys | grep -v '^$')" ] || fail "SSH host keys baked into the image: $(section hostkeys)"
# systemd's %posttrans makes a machine-id as EL's does; sysprep empties it (first boot).
[ "$(section machineid | grep -v '^$')" = 0 ] || fail "/etc/machine-id is not empty: $(section machineid)"
for u in sshd.service chronyd.service NetworkManager.service airstrap-firstboot.service \
    NetworkManager-wait-online.service; do
    grep -qx "$u" <<<"$(section wants)" || fail "$u not enabled: $(section wants)"
done
# systemd-analyze verify, run in the image by its own systemd: the unit, its dependencies and
# the commands it names check out (it prints nothing when all is well).
grep -qx 'exit=0' <<<"$(section verify)" || fail "systemd-analyze verify of the unit in the image: $(section verify)"
if grep -qv -e '^exit=0$' -e '^$' <<<"$(section verify)"; then fail "systemd-analyze verify complains: $(section verify)"; fi
[ "$(section fstab | grep -c '^UUID=')" = 3 ] || fail "fstab: $(section fstab)"
grep -q '^initramfs-' <<<"$(section boot)" || fail "no initramfs in /boot: $(section boot)"
[ "$(section boot | grep -v '^$' | tail -3 | tr '\n' ' ')" = "true true true " ] || fail "no UEFI shim, UEFI grubx64.efi or BIOS core.img: $(section boot)"
# grub2-mkconfig's menu boots the root file system by UUID, with the profile's command line.
root_uuid=$(section fstab | awk '$2=="/" {sub(/^UUID=/, "", $1); print $1}')
grep -qE "linux[[:space:]]+/vmlinuz-[^ ]+ root=UUID=$root_uuid ro console=tty0 console=ttyS0,115200n8" <<<"$(section grubcfg)" \
    || fail "grub.cfg does not boot root=UUID=$root_uuid: $(section grubcfg | grep -E 'linux|initrd')"
# Every file of the image (guestfish tar-out): compute-node's key and no other secret.
source "$(dirname "$0")/media-secrets.sh"
media_keys "$SITE" "$WORK/site/secrets.yaml"
check_media "compute-node's image" compute-node="tar:$WORK/compute-fs.tar"
rm -f "$WORK/compute-fs.tar"
echo "inside: partitions, rpmdb ($(section rpm | grep -c .) packages), repository, configuration and sysprep as expected"

for mode in bios uefi; do
    log=$WORK/compute-$mode.log
    # A throwaway overlay: the BIOS boot's journal is read from it after a clean reboot.
    qemu-img create -q -f qcow2 -F qcow2 -b "$WORK/compute.qcow2" "$WORK/run-$mode.qcow2"
    # One NIC with compute-node's MAC in PCI slot 3 (systemd names it ens3, as the site says),
    # on a QEMU hub with nothing else: its link is up, nothing leaves QEMU.
    # shellcheck disable=SC2046  # _boot_firmware prints separate arguments
    timeout 600 "$BOOT_QEMU" -machine pc,accel=tcg -m 1024 -smp 1 -display none -vga none -no-reboot \
        -monitor "unix:$WORK/mon-$mode.sock,server,nowait" -parallel none -serial "file:$log" $(_boot_firmware "$mode") \
        -netdev hubport,id=n0,hubid=0 -device virtio-net-pci,netdev=n0,mac=00:0c:29:5e:12:12,addr=0x3 \
        -drive "file=$WORK/run-$mode.qcow2,if=virtio,format=qcow2" </dev/null >"$log.qemu" 2>&1 &
    QEMU_PIDS+=($!)
    t=$(date +%s)
    # The daemon's lines reach the console through journald (StandardOutput=journal+console).
    # It gets as far as enrolment: the controller is not there.
    until has_line "$log" 'compute-node: controller 192\.168\.111\.10:7447 not answering yet'; do
        [ "$(seconds "$t")" -lt 420 ] || { serial "$log" | tail -40; fail "$mode: the daemon did not reach its enrol step in 420 s"; }
        kill -0 "${QEMU_PIDS[-1]}" 2>/dev/null || { serial "$log" | tail -40; cat "$log.qemu"; fail "$mode: QEMU ended"; }
        sleep 2
    done
    booted=$(seconds "$t")
    has_line "$log" 'systemd\[1\]: systemd 25[0-9][^ ]* running in system mode' || fail "$mode: systemd is not PID 1"
    has_line "$log" 'Welcome to .*airstrap rehearsal distro' || fail "$mode: no systemd welcome line"
    has_line "$log" '[0-9]Z compute-node: starting as the compute of site lab3 \(192\.168\.111\.12\)' \
        || fail "$mode: the daemon did not start as compute-node"
    has_line "$log" '[0-9]Z compute-node: identity: host name compute-node.lab.local' || fail "$mode: no identity step"
    # "No route to host" (the ARP for 192.168.111.10 on ens3 went unanswered), not "Network is
    # unreachable": ens3 has the keyfile's 192.168.111.12/24.
    has_line "$log" 'cannot connect to 192\.168\.111\.10:7447: No route to host' || fail "$mode: ens3 has no 192.168.111.x address"
    if [ "$mode" = uefi ]; then
        kill "${QEMU_PIDS[-1]}"
        # No NVRAM entry to start with: the firmware ran EFI/BOOT/BOOTX64.EFI (shim), whose
        # fallback read EFI/centos/BOOTX64.CSV and made the boot entry, as on EL9.
        vars=$(ls -t "$WORK"/ovmf-vars.*.fd | head -1)
        python3 -c 'import sys; sys.exit(0 if "CentOS Stream (airstrap rehearsal)".encode("utf-16-le") in open(sys.argv[1], "rb").read() else 1)' "$vars" \
            || fail "uefi: shim's fallback made no boot entry from EFI/centos/BOOTX64.CSV"
        echo "uefi: shim, its fallback's boot entry, GRUB, systemd; the daemon running as compute-node after $booted s"
        continue
    fi
    # Once a getty runs on the serial console, systemd prints no more status there; the order
    # of network-online.target and the daemon's start is in the journal: Ctrl-Alt-Del (systemd
    # reboots cleanly, the journal is flushed; -no-reboot ends QEMU there), then journalctl in
    # the image.
    monitor "$WORK/mon-$mode.sock" "sendkey ctrl-alt-delete"
    t=$(date +%s)
    while kill -0 "${QEMU_PIDS[-1]}" 2>/dev/null; do
        [ "$(seconds "$t")" -lt 180 ] || { serial "$log" | tail -20; fail "$mode: no clean reboot in 180 s"; }
        sleep 2
    done
    journal=$(guestfish --ro -a "$WORK/run-$mode.qcow2" -i command \
        "journalctl -D /var/log/journal -b -o short-monotonic --no-pager" 2>&1) || fail "$mode: no journal: $journal"
    jline() { grep -n -m1 -E "$1" <<<"$journal" | cut -d: -f1 || true; }
    online=$(jline 'systemd\[1\]: Reached target network-online\.target')
    started=$(jline 'systemd\[1\]: Started airstrap-firstboot\.service')
    activated=$(jline "NetworkManager\[[0-9]+\]: .*device \(ens3\): Activation: successful")
    [ -n "$online" ] && [ -n "$started" ] || fail "$mode: journal: network-online ($online), daemon started ($started)"
    [ "$online" -lt "$started" ] || fail "$mode: the daemon started (journal line $started) before network-online.target (line $online)"
    [ -n "$activated" ] && [ "$activated" -lt "$online" ] \
        || fail "$mode: NetworkManager did not activate ens3 before network-online.target: $(grep -E 'NetworkManager.*ens3' <<<"$journal" | tail -5)"
    grep -qE "NetworkManager\[[0-9]+\]: .*device \(ens3\): Activation: starting connection 'ens3'" <<<"$journal" \
        || fail "$mode: NetworkManager did not use the keyfile connection ens3"
    rm -f "$WORK/run-$mode.qcow2"
    echo "bios: systemd PID 1; journal: NetworkManager activated keyfile ens3 (line $activated), network-online.target (line $online), then the daemon (line $started); running as compute-node after $booted s"
done

# ---- 2. a failing build -------------------------------------------------------------------
# A failure half-way (the profile's initramfs command fails: the first after rpm -i, so the
# failing build is not slowed by dracut) leaves no image and no scratch.
sed 's|^initramfs: .*|initramfs: [sh, -c, "echo no dracut here >\&2; exit 3"]|' "$SRC/builder/profiles/el9.yaml" >"$WORK/broken-profile.yaml"
grep -q 'no dracut here' "$WORK/broken-profile.yaml" || fail "could not make the broken profile"
expect_exit 1 "$AIRSTRAP" build qcow2 "$SITE" --repo "$DISTRO/repo" --profile "$WORK/broken-profile.yaml" \
    --node network-node --size 4 -o "$WORK/broken/network.qcow2"
grep -qE "error: qcow2 of network tree: initramfs for [^ ]+: 'sh -c echo no dracut here >&2; exit 3' in the staging tree failed \(exit 3\): no dracut here" <<<"$OUT" \
    || fail "the failure does not name the step and the command: $OUT"
[ -z "$(ls -A "$WORK/broken")" ] || fail "a failed build left files behind: $(ls -A "$WORK/broken")"
echo "a failing initramfs command: exit 1, step and command named, nothing left behind"

pass "qcow2: one image inspected, booted under systemd (BIOS, UEFI), its journal in order; a failing build leaves nothing"
