#!/usr/bin/env bash
# airstrap lab: the whole site rehearsed on the rehearsal distro (tests/fixtures/make-distro.sh:
# Debian 12's real systemd, NetworkManager, dracut, GRUB, firewalld, OpenSSH, chrony, rpm and
# dnf as RPMs under EL9 names, the real airstrap-firstboot RPM and a Packstack stand-in; it
# stands in for EL9). The site is lab3's rehearsal copy (tests/fixtures/rehearsal-site.sh: el9,
# 2025.1 with OVN, NetworkManager on, NICs ens3/ens4). LAB_PROFILE picks the distro profile
# (default the shipped el9).
#   1. cheap refusals: --until an unknown step (exit 2, the step list), --images without the
#      images (exit 2, the missing files named), VMware's NIC names (exit 2: QEMU cannot give
#      them); on blank disks, an error half-way (a bad image after a VM started) and a VM that
#      ends: exit 1, nothing left;
#   2. the three images, once (build qcow2 --all --compress: one appliance): compressed, 0600,
#      and every file of each holds its own node's key only, the controller's also the site
#      secret and deploy.sealed;
#   3. SIGINT while the VMs boot: exit non-zero, the namespace and every QEMU gone, the serial
#      logs kept, the run's folder (overlays) removed; --timeout 10: exit 1, each node named;
#   4. the rehearsal: `airstrap lab --images … --until packstack` exits 0 with each node's
#      progress printed; during the run the namespace holds a bridge per site network and a tap
#      per NIC in the slot its name implies while the host's own links and addresses stay as
#      they were; on the consoles (the daemons' log lines): both nodes enrolled with the
#      controller, their chrony synchronised to it, the controller's strict ssh check passed
#      and the Packstack stand-in run with an answer file of every 2025.1 parameter; the network
#      node's external NIC up, firewalld off on every node (the site turns it off), and on a
#      CPU without VMX or SVM (--cpu qemu64,-svm,-vmx) the compute node saying nested
#      virtualization is not possible; in each node's journal (printed by the rehearsal
#      distro's console service) NetworkManager's keyfile connection activated, then
#      network-online.target, then the daemon, firewalld stopped and disabled, the management
#      address on ens3, and the network node's ens4 up without an address. After it the namespace, the QEMUs and the overlays are gone, the
#      images untouched, logs 0700/0600.
# Root only (network namespaces, taps). QEMU with TCG, one vCPU and 768 MiB per VM.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/boot-lib.sh"
: "${DISTRO:?set DISTRO to the output of tests/fixtures/make-distro.sh}"
PROFILE=${LAB_PROFILE:-el9}
[ "$(id -u)" -eq 0 ] || skip "airstrap lab needs root (network namespaces, bridges, taps)"
reason=$(qemu_skip_reason)
[ -z "$reason" ] || skip "$reason"
command -v guestfish >/dev/null || skip "no guestfish (apt-get install libguestfs-tools)"
command -v ip >/dev/null || skip "no ip (apt-get install iproute2)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
[ -r "$DISTRO/repo/repodata/repomd.xml" ] || skip "no fixture distro in $DISTRO (fixtures.make-distro skipped)"
ls /boot/vmlinuz-* >/dev/null 2>&1 || skip "no kernel in /boot for the libguestfs appliance (apt-get install linux-image-amd64)"
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
seconds() { echo $(( $(date +%s) - $1 )); }

LAB_PID=
cleanup() {
    if [ -n "$LAB_PID" ]; then kill "$LAB_PID" 2>/dev/null || true; wait "$LAB_PID" 2>/dev/null || true; fi
    # LAB_KEEP_LOGS=DIR: the runs' serial and QEMU logs are copied there (to read a failure).
    if [ -n "${LAB_KEEP_LOGS:-}" ]; then mkdir -p "$LAB_KEEP_LOGS" && cp -r "$WORK"/*logs "$LAB_KEEP_LOGS"/ 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/site"
"$SRC/tests/fixtures/rehearsal-site.sh" "$SRC/examples/lab3/site.yaml" "$WORK/site/site.yaml"
make_secrets "$WORK/site"
SITE=$WORK/site/site.yaml
NODES="controller-node network-node compute-node"

# What the host's namespace looks like (links without their counters and flags that move).
host_net() {
    ip -o link show | sed -E 's/ qlen [0-9]+//; s/state [A-Z]+ //' | awk '{$1=""; print}' | sort
    ip -o addr show | awk '{print $2, $3, $4}' | sort
}
lab_namespaces() { ip netns list | awk '/^airstrap-lab-/{print $1}'; }
# QEMUs whose serial console is in folder $1.
qemus_of() { pgrep -f -- "-serial file:$1/" || true; }

# ---- 1. cheap refusals -------------------------------------------------------------------
expect_exit 2 "$AIRSTRAP" lab "$SITE" --images "$WORK/none" --until packstak
grep -q "unknown step 'packstak' (did you mean 'packstack'?); the first-boot steps of this site are: identity, host_keys, root_key, checks, chrony, chrony_wait, cabling, barrier, known_hosts, verify_ssh, answers, packstack, verify_token" <<<"$OUT" \
    || fail "--until packstak: $OUT"
mkdir -p "$WORK/none"
expect_exit 2 "$AIRSTRAP" lab "$SITE" --images "$WORK/none" --logs "$WORK/none-logs"
grep -q "no $WORK/none/controller-node.qcow2, $WORK/none/network-node.qcow2, $WORK/none/compute-node.qcow2; build them with 'airstrap build qcow2" <<<"$OUT" \
    || fail "--images without images: $OUT"
[ ! -e "$WORK/none-logs" ] || fail "a refused run made its logs folder"
expect_exit 2 "$AIRSTRAP" lab "$SITE"
grep -q "give --repo REPO" <<<"$OUT" || fail "no --repo, no --images: $OUT"
# VMware's NIC names (lab3 as it is): no VM can have them, so no node would configure its NICs.
mkdir -p "$WORK/vmware"
sed -e 's/name: ens3,/name: ens32,/' "$SITE" >"$WORK/vmware/site.yaml"
cp "$WORK/site/secrets.yaml" "$WORK/vmware/"
expect_exit 2 "$AIRSTRAP" lab "$WORK/vmware/site.yaml" --images "$WORK/none"
grep -q "^airstrap: error: $WORK/vmware/site.yaml: controller-node, interface ens32: a VM cannot have a NIC of that name (a virtio NIC in QEMU's PCI slot N is ensN, N from 3 to 31)" <<<"$OUT" \
    || fail "ens32: $OUT"
echo "refused: an unknown --until step (with the list), missing images (named), no --repo, a NIC name no VM can have"

# Blank disks (nothing boots from them) for the failures that need VMs but no site.
mkdir -p "$WORK/blank"
for n in $NODES; do qemu-img create -q -f qcow2 "$WORK/blank/$n.qcow2" 64M; done
ns_before=$(lab_namespaces)
# An error half-way (network-node's "image" is no qcow2, after the controller's VM started):
# exit 1 naming it, the controller's QEMU stopped, the namespace and the run's folder gone.
echo "not a disk image" >"$WORK/blank/network-node.qcow2"
expect_exit 1 "$AIRSTRAP" lab "$SITE" --images "$WORK/blank" --logs "$WORK/half-logs" --memory 256 --accel tcg
grep -q "error: network-node: cannot start its VM: qemu-img failed (exit 1): " <<<"$OUT" || fail "a bad image half-way: $OUT"
[ "$(lab_namespaces)" = "$ns_before" ] || fail "a bad image half-way: namespace left: $(lab_namespaces)"
[ -z "$(qemus_of "$WORK/half-logs")" ] || fail "a bad image half-way: QEMU left running"
[ -z "$(find "$WORK/half-logs" -mindepth 1 -maxdepth 1 -name '.run-*')" ] || fail "a bad image half-way: run folder left"
qemu-img create -q -f qcow2 "$WORK/blank/network-node.qcow2" 64M
# A VM that ends (QEMU cannot have 1 TB of memory, unless the kernel overcommits blindly).
if [ "$(cat /proc/sys/vm/overcommit_memory)" != 1 ]; then
    expect_exit 1 "$AIRSTRAP" lab "$SITE" --images "$WORK/blank" --logs "$WORK/die-logs" --memory 1000000 --accel tcg --timeout 60
    grep -q "failed after [0-9]*s: controller-node: its VM ended (QEMU exit 1) during boot: .*memory" <<<"$OUT" || fail "a VM that ends: $OUT"
    [ "$(lab_namespaces)" = "$ns_before" ] || fail "a VM that ends: namespace left"
    echo "a VM that ends: exit 1, the node named with QEMU's last line"
else
    echo "note: vm.overcommit_memory=1: QEMU would get 1 TB, the VM-ends case is not run"
fi
echo "an error half-way: exit 1, the started VM stopped, namespace and run folder gone"

# ---- the images, once ---------------------------------------------------------------------
start=$(date +%s)
expect_exit 0 "$AIRSTRAP" build qcow2 "$SITE" --repo "$DISTRO/repo" --profile "$PROFILE" --all --size 4 --compress -o "$WORK/images"
echo "three images: $(seconds "$start") s"
for n in $NODES; do
    [ "$(stat -c %a "$WORK/images/$n.qcow2")" = 600 ] || fail "$n.qcow2 is not 0600"
    # Compressed: smaller than a plain copy of the same data would be.
    plain=$(qemu-img measure --output=json -O qcow2 "$WORK/images/$n.qcow2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["required"])')
    [ "$(stat -c %s "$WORK/images/$n.qcow2")" -lt "$plain" ] || fail "$n.qcow2 is not compressed ($(stat -c %s "$WORK/images/$n.qcow2") bytes, $plain uncompressed)"
done
# Every file of each image, before its first boot: its own key only; the controller's also
# the site secret and deploy.sealed. One appliance for the three.
source "$(dirname "$0")/media-secrets.sh"
media_keys "$SITE" "$WORK/site/secrets.yaml"
fs_of() {  # fs_of DEVICE TAR: guestfish commands that put the image's files into TAR
    echo "mount /dev/${1}4 / : mount /dev/${1}3 /boot : mount /dev/${1}2 /boot/efi : tar-out / $2 : umount-all"
}
# shellcheck disable=SC2046  # fs_of prints separate guestfish words
out=$(guestfish --ro -a "$WORK/images/controller-node.qcow2" -a "$WORK/images/network-node.qcow2" \
    -a "$WORK/images/compute-node.qcow2" -- run : $(fs_of sda "$WORK/fs-c.tar") : \
    $(fs_of sdb "$WORK/fs-n.tar") : $(fs_of sdc "$WORK/fs-k.tar") 2>&1) || fail "guestfish tar-out of the three images: $out"
check_media "the three images" controller-node="tar:$WORK/fs-c.tar" network-node="tar:$WORK/fs-n.tar" \
    compute-node="tar:$WORK/fs-k.tar"
rm -f "$WORK"/fs-?.tar
images_state() { for n in $NODES; do stat -c '%n %s %Y %a' "$WORK/images/$n.qcow2"; done; }
images_before=$(images_state)
host_before=$(host_net)
[ -z "$(lab_namespaces)" ] || echo "note: lab namespaces already here: $(lab_namespaces)"
ns_before=$(lab_namespaces)

# ---- 2. SIGINT while booting --------------------------------------------------------------
"$AIRSTRAP" lab "$SITE" --images "$WORK/images" --logs "$WORK/int-logs" --memory 768 --accel tcg \
    >"$WORK/int.out" 2>&1 &
LAB_PID=$!
t=$(date +%s)
until [ "$(qemus_of "$WORK/int-logs" | wc -l)" -eq 3 ]; do
    [ "$(seconds "$t")" -lt 60 ] || { cat "$WORK/int.out"; fail "the three VMs did not start in 60 s"; }
    kill -0 "$LAB_PID" 2>/dev/null || { cat "$WORK/int.out"; fail "airstrap lab ended early"; }
    sleep 1
done
sleep 5   # into the boot
ns=airstrap-lab-$LAB_PID
ip netns list | grep -q "^$ns" || fail "no namespace $ns while the lab runs"
kill -INT "$LAB_PID"
rc=0
wait "$LAB_PID" || rc=$?
LAB_PID=
cat "$WORK/int.out"
[ "$rc" -ne 0 ] || fail "SIGINT: airstrap lab exited 0"
grep -q "interrupted (SIGINT)" "$WORK/int.out" || fail "SIGINT: not said"
! ip netns list | grep -q "^$ns" || fail "SIGINT: namespace $ns left behind"
[ -z "$(qemus_of "$WORK/int-logs")" ] || fail "SIGINT: QEMU left running: $(qemus_of "$WORK/int-logs")"
for n in $NODES; do [ -f "$WORK/int-logs/$n.serial.log" ] || fail "SIGINT: $n.serial.log not kept"; done
[ -z "$(find "$WORK/int-logs" -mindepth 1 -maxdepth 1 -name '.run-*')" ] || fail "SIGINT: the run's folder (overlays) left: $(ls -A "$WORK/int-logs")"
echo "SIGINT after $(seconds "$t") s of boot: exit $rc, namespace and QEMUs gone, serial logs kept"

# A timeout names where each node was.
expect_exit 1 "$AIRSTRAP" lab "$SITE" --images "$WORK/images" --logs "$WORK/to-logs" --memory 768 --timeout 10
grep -qE "failed after 1[0-9]s: timed out after 10 s: controller-node in (boot|system up|first boot)[^;]*; network-node in [^;]*; compute-node in " <<<"$OUT" \
    || fail "--timeout 10: $OUT"
grep -q "removed network namespace airstrap-lab-" <<<"$OUT" || fail "--timeout 10: namespace not removed: $OUT"
[ "$(lab_namespaces)" = "$ns_before" ] || fail "--timeout 10: lab namespaces left: $(lab_namespaces)"
[ -z "$(qemus_of "$WORK/to-logs")" ] || fail "--timeout 10: QEMU left running"
echo "--timeout 10: exit 1, each node's phase named, nothing left running"

# ---- 3. the rehearsal ---------------------------------------------------------------------
start=$(date +%s)
"$AIRSTRAP" lab "$SITE" --images "$WORK/images" --until packstack --logs "$WORK/logs" \
    --memory 768 --cpu qemu64,-svm,-vmx --timeout 1500 >"$WORK/lab.out" 2>&1 &
LAB_PID=$!
ns=airstrap-lab-$LAB_PID
t=$(date +%s)
until [ "$(qemus_of "$WORK/logs" | wc -l)" -eq 3 ]; do
    [ "$(seconds "$t")" -lt 60 ] || { cat "$WORK/lab.out"; fail "the three VMs did not start in 60 s"; }
    kill -0 "$LAB_PID" 2>/dev/null || { cat "$WORK/lab.out"; fail "airstrap lab ended early"; }
    sleep 1
done
links=$(ip -n "$ns" -o link show)
# Each NIC in the PCI slot its site name implies (ens3: slot 3), so the VM names it as the site.
for n in $NODES; do
    args=$(tr '\0' ' ' </proc/"$(pgrep -f -- "-serial file:$WORK/logs/$n.serial.log" | head -1)"/cmdline)
    grep -q "virtio-net-pci,netdev=nic0,mac=[0-9a-f:]*,addr=0x3" <<<"$args" || fail "$n: first NIC not in slot 3: $args"
    if [ "$n" = network-node ]; then
        grep -q "virtio-net-pci,netdev=nic1,mac=00:0c:29:2c:6f:79,addr=0x4" <<<"$args" || fail "$n: ens4 not in slot 4: $args"
    fi
done
for dev in br0 br1 t0n0 t1n0 t1n1 t2n0; do
    grep -q ": ${dev}[:@]" <<<"$links" || fail "no $dev in $ns: $links"
done
grep -q ": t1n1: .* master br1 " <<<"$links" || fail "network-node's external NIC is not on the external bridge: $links"
[ -z "$(ip -n "$ns" route show)" ] || fail "the namespace has routes: $(ip -n "$ns" route show)"
[ "$(host_net)" = "$host_before" ] || fail "the host's namespace changed during the run: $(diff <(echo "$host_before") <(host_net))"
rc=0
wait "$LAB_PID" || rc=$?
LAB_PID=
wall=$(seconds "$start")
cat "$WORK/lab.out"
[ "$rc" -eq 0 ] || { for n in $NODES; do echo "== $n"; tail -30 "$WORK/logs/$n.serial.log"; done; fail "airstrap lab --until packstack exited $rc"; }
grep -q "^passed: packstack done on controller-node after " "$WORK/lab.out" || fail "no passed line"
for n in $NODES; do
    grep -qE "^$n: booting \((TCG|KVM), BIOS, 768 MiB" "$WORK/lab.out" || fail "$n: no booting line"
    grep -q "^$n: boot → system up" "$WORK/lab.out" || fail "$n: no system-up line"
    grep -q "^$n: system up → first boot" "$WORK/lab.out" || fail "$n: no first-boot line"
    grep -q "^$n: chrony_wait → done" "$WORK/lab.out" || fail "$n: chrony_wait not shown done"
done
grep -q "^network-node: enrol → done" "$WORK/lab.out" || fail "network-node's enrolment not shown"
grep -q "^controller-node: verify_ssh → done" "$WORK/lab.out" || fail "verify_ssh not shown"
grep -q "^controller-node: packstack → done" "$WORK/lab.out" || fail "packstack not shown"
! ip netns list | grep -q "^$ns" || fail "namespace $ns left behind"
[ "$(lab_namespaces)" = "$ns_before" ] || fail "lab namespaces left: $(lab_namespaces)"
[ -z "$(qemus_of "$WORK/logs")" ] || fail "QEMU left running"
[ "$(host_net)" = "$host_before" ] || fail "the host's namespace changed: $(diff <(echo "$host_before") <(host_net))"
[ "$(images_state)" = "$images_before" ] || fail "the images changed: $(images_state)"
[ -z "$(find "$WORK/logs" -mindepth 1 -maxdepth 1 -name '.run-*')" ] || fail "the run's folder left: $(ls -A "$WORK/logs")"
[ "$(stat -c %a "$WORK/logs")" = 700 ] || fail "logs folder is $(stat -c %a "$WORK/logs")"
for n in $NODES; do
    [ "$(stat -c %a "$WORK/logs/$n.serial.log")" = 600 ] || fail "$n.serial.log is not 0600"
done
# What the daemons said: their log lines reach each console through journald
# (StandardOutput=journal+console), "TIME NODE: STEP: DETAIL".
said() {  # said NODE ERE: NODE's daemon logged a line matching ERE
    grep -qE "airstrap-firstboot\[[0-9]+\]: [0-9T:.-]+Z $1: $2" <<<"$(tr -d '\r' <"$WORK/logs/$1.serial.log")" \
        || fail "$1 did not log /$2/; its daemon said: $(tr -d '\r' <"$WORK/logs/$1.serial.log" | grep -E 'airstrap-firstboot\[' | cut -c1-200 | tail -20)"
}
said controller-node 'starting as the controller of site lab3 \(192\.168\.111\.10\)'
said controller-node 'network-node \(192\.168\.111\.11\) enrolled; host keys pinned'
said controller-node 'compute-node \(192\.168\.111\.12\) enrolled; host keys pinned'
said controller-node 'chrony: chrony\.conf written \(serves 192\.168\.111\.0/24\)'
said controller-node 'verify_ssh: ssh as root works to 3 nodes: controller-node, network-node, compute-node'
# The answer file has every parameter of 2025.1 (the Packstack stand-in checked it strictly).
keys=$(( $(grep -vc '^#' "$SRC/site/packstack/2025.1.tsv") - 1 ))
said controller-node "answers: /root/airstrap-answers\.txt \($keys keys\)"
said controller-node 'packstack: packstack completed'
for n in $NODES; do
    # The site turns firewalld off: the daemon found it stopped and disabled.
    said "$n" 'checks: firewalld off, SELinux Disabled, repository airstrap answers'
done
for n in network-node compute-node; do
    said "$n" 'enrol: enrolled with the controller 192\.168\.111\.10'
    said "$n" 'chrony_wait: synchronised to 192\.168\.111\.10'
    said "$n" 'all steps done'
done
said network-node 'external_nic: ens4 up'
# What each node's console showed last between AIRSTRAP-FACTS-BEGIN and -END (the rehearsal
# distro's airstrap-rehearsal-console: systemctl, ip, chronyc and journalctl run in the VM).
facts_block() {
    tr -d '\r' <"$WORK/logs/$1.serial.log" | sed 's/\x1b\[[0-9;?=]*[A-Za-z]//g' |
        awk '/^AIRSTRAP-FACTS-BEGIN/{b=""; on=1; next} /^AIRSTRAP-FACTS-END/{last=b; on=0; next} on{b=b $0 "\n"} END{printf "%s", last}'
}
octet=10
for n in $NODES; do
    f=$(facts_block "$n")
    [ -n "$f" ] || fail "$n: no AIRSTRAP-FACTS block on its console"
    grep -qx 'firewalld: disabled inactive' <<<"$f" || fail "$n: firewalld not stopped and disabled: $(grep '^firewalld' <<<"$f")"
    # NetworkManager applied the keyfile: the management address on ens3 and nothing else there.
    [ "$(grep '^addr: ens3 ' <<<"$f")" = "addr: ens3 inet 192.168.111.$octet/24" ] \
        || fail "$n: ens3's addresses: $(grep '^addr: ens3' <<<"$f")"
    # The journal's order: ens3 activated, then network-online.target, then the daemon.
    jline() { grep -n -m1 -E "$1" <<<"$f" | cut -d: -f1 || true; }
    activated=$(jline 'NetworkManager\[[0-9]+\]: .*device \(ens3\): Activation: successful')
    online=$(jline 'systemd\[1\]: Reached target network-online\.target')
    started=$(jline 'systemd\[1\]: Started airstrap-firstboot\.service')
    { [ -n "$activated" ] && [ -n "$online" ] && [ -n "$started" ] &&
        [ "$activated" -lt "$online" ] && [ "$online" -lt "$started" ]; } \
        || fail "$n: journal order (ens3 activated, network-online, daemon started): $(grep '^journal:' <<<"$f")"
    octet=$((octet + 1))
done
# The network node's external NIC: up (NetworkManager activated it) and without an address.
f=$(facts_block network-node)
grep -qE '^link: ens4 <([^>]*,)?UP[,>]' <<<"$f" || fail "network-node: ens4 not up: $(grep '^link: ens4' <<<"$f")"
grep -qE 'NetworkManager\[[0-9]+\]: .*device \(ens4\): Activation: successful' <<<"$f" \
    || fail "network-node: NetworkManager did not activate ens4's keyfile connection"
! grep -q '^addr: ens4 ' <<<"$f" || fail "network-node: ens4 has an address: $(grep '^addr: ens4' <<<"$f")"
echo "every node: firewalld stopped and disabled, ens3 with its keyfile's address, the journal's order ens3 activated → network-online.target → daemon; network-node's ens4 up without an address"
# --cpu qemu64,-svm,-vmx: a CPU without virtualization, which the compute step says plainly.
said compute-node 'compute: nested virtualization not possible: this CPU has no VMX or SVM flag'
echo "rehearsal of lab3 to packstack: ${wall} s wall (TCG, 3 VMs, 1 vCPU each)"
pass "lab: refusals, SIGINT cleanup, lab3 rehearsed to packstack with nothing left behind"
