#!/usr/bin/env bash
# A datacenter node's image in QEMU on a trunk this test builds: `airstrap build qcow2
# --profile el9` on the rehearsal distro (tests/fixtures/make-distro.sh) for the controller of
# a site whose nodes have an active-backup bond of two NICs carrying two VLANs (management 120,
# storage 122 at MTU 9000) and RAID1 system disks (two disk files). The switch is tests/tools/vlanswitch.py in a network namespace (an
# 802.1Q switch in user space: this machine's kernel has no VLAN filtering in its bridges),
# the node's two NICs are QEMU taps on its trunk ports, and the namespace itself plays the
# compute node's addresses on two access ports, one per VLAN.
#   1. the image: NetworkManager keyfiles for the bond (members by MAC), its VLANs and MTUs;
#   2. VLAN 122 left out of the node's trunk: the controller's cabling step fails naming
#      storage, bond0.122, VLAN 122 and the compute node's address; then VLAN 122 allowed but
#      the compute side's port at MTU 1500: it names the MTU mismatch; then fixed: it passes and
#      the status's links matrix says ok;
#   3. from the namespace the node answers on each VLAN (storage with 9000-byte don't-fragment
#      packets), and still does with either bond member's link down (QEMU's set_link);
#   4. meanwhile, beside it: the node boots with either disk removed, with BIOS and with UEFI
#      (each to the daemon's start, its three arrays running on one mirror).
# Addresses (10.97.x) exist only inside the namespace and the guest; nothing leaves QEMU but to
# the namespace's switch.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/boot-lib.sh"
: "${DISTRO:?set DISTRO to the output of tests/fixtures/make-distro.sh}"
[ "$(id -u)" -eq 0 ] || skip "not root (network namespaces, taps)"
reason=$(qemu_skip_reason)
[ -z "$reason" ] || skip "$reason"
command -v guestfish >/dev/null || skip "no guestfish (apt-get install libguestfs-tools)"
command -v ping >/dev/null || skip "no ping (apt-get install iputils-ping)"
[ -r "$DISTRO/repo/repodata/repomd.xml" ] || skip "no rehearsal distro in $DISTRO (fixtures.make-distro skipped)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun (QEMU's taps)"
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg

NS=dc$$
QEMU_PID= SWITCH_PID= DEGRADED_PID= DEGRADED_PID2=
cleanup() {
    set +e  # the EXIT trap: a process already gone must not stop the cleanup or fail the test
    [ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null
    # the background boots: their QEMU (timeout's child) too
    for p in $DEGRADED_PID $DEGRADED_PID2; do pkill -P "$p"; kill "$p"; done 2>/dev/null
    pkill -f "$WORK/deg-" 2>/dev/null
    [ -n "$SWITCH_PID" ] && kill "$SWITCH_PID" 2>/dev/null
    wait 2>/dev/null
    ip netns pids "$NS" 2>/dev/null | xargs -r kill 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
seconds() { echo $(($(date +%s) - $1)); }
serial() { [ -e "$1" ] || return 0; tr -d '\r' <"$1" | sed 's/\x1b\[[0-9;?=]*[A-Za-z]//g'; }
# last_status LOG: the last complete status block the rehearsal console printed.
last_status() {
    serial "$1" | awk '/^AIRSTRAP-STATUS-BEGIN$/ { buf = ""; on = 1; next }
                       /^AIRSTRAP-STATUS-END$/ { if (on) last = buf; on = 0; next }
                       on { buf = buf $0 "\n" } END { printf "%s", last }'
}
# wait_status LOG SECONDS WHAT ERE: until the last status block has a line matching ERE.
wait_status() {
    local log=$1 limit=$2 what=$3 re=$4 t
    t=$(date +%s)
    until grep -qE "$re" <<<"$(last_status "$log")"; do
        if [ "$(seconds "$t")" -ge "$limit" ]; then
            echo "--- last status:" >&2; last_status "$log" >&2
            echo "--- console tail:" >&2; serial "$log" | tail -30 >&2
            fail "$what: not seen in $limit s"
        fi
        kill -0 "$QEMU_PID" 2>/dev/null || { serial "$log" | tail -30; fail "$what: QEMU ended"; }
        sleep 3
    done
}
# reach ADDRESS [PING OPTIONS]: the namespace reaches ADDRESS within 20 s.
reach() {
    local addr=$1 i
    shift
    for i in $(seq 20); do
        ip netns exec "$NS" ping -n -q -c 1 -W 1 "$@" "$addr" >/dev/null 2>&1 && return 0
    done
    return 1
}

# ---- the site and its controller's image -------------------------------------------------
mkdir -p "$WORK/site"
cat >"$WORK/site/site.yaml" <<'YAML'
site: {name: dc, domain: dc.test, distro: el9, timezone: UTC, rtc: utc}
networks:
  management: {purpose: management, cidr: 10.97.120.0/24, vlan: 120}
  storage: {purpose: storage, cidr: 10.97.122.0/24, vlan: 122, mtu: 9000}
nodes:
  - name: ctl1
    role: controller
    bonds:
      - {name: bond0, members: ["52:54:00:97:00:10", "52:54:00:97:00:11"], mode: active-backup, mtu: 9000}
    interfaces:
      - {name: bond0, network: management, address: 10.97.120.10}
      - {name: bond0, network: storage, address: 10.97.122.10}
    disks: {system: [sda, sdb], layout: raid1}
  - name: cmp1
    role: compute
    bonds:
      - {name: bond0, members: ["52:54:00:97:01:10", "52:54:00:97:01:11"], mode: active-backup, mtu: 9000}
    interfaces:
      - {name: bond0, network: management, address: 10.97.120.11}
      - {name: bond0, network: storage, address: 10.97.122.11}
security: {selinux: disabled, firewalld: false, network_manager: true}
openstack: {deployer: packstack, release: "2025.1", l2_agent: ovn}
YAML
make_secrets "$WORK/site"
SITE=$WORK/site/site.yaml
start=$(date +%s)
expect_exit 0 "$AIRSTRAP" build qcow2 "$SITE" --repo "$DISTRO/repo" --profile el9 --node ctl1 \
    --size 4 -o "$WORK/ctl1.qcow2"
echo "1. ctl1's image: $(seconds "$start") s"
grep -q "RAID1 member 2: $WORK/ctl1-disk2.qcow2" <<<"$OUT" || fail "1. no second disk named: $OUT"
[ "$(stat -c %a "$WORK/ctl1-disk2.qcow2")" = 600 ] || fail "1. the second disk is not 0600"
files=$(guestfish --ro -a "$WORK/ctl1.qcow2" -a "$WORK/ctl1-disk2.qcow2" -i -- \
    glob-expand "/etc/NetworkManager/system-connections/*" : \
    echo ---bond : cat /etc/NetworkManager/system-connections/bond0.nmconnection : \
    echo ---v122 : cat /etc/NetworkManager/system-connections/bond0.122.nmconnection : \
    echo ---mdadm : cat /etc/mdadm.conf : echo ---grub : cat /etc/default/grub : \
    echo ---rpm : command "rpm -q mdadm" 2>&1) ||
    fail "guestfish could not read the image: $files"
section() { awk -v s="---$1" '$0==s{on=1;next} /^---/{on=0} on' <<<"$files"; }
grep -qx 'mode=active-backup' <<<"$(section bond)" || fail "bond0's keyfile: $(section bond)"
grep -qx 'mtu=9000' <<<"$(section bond)" || fail "bond0's keyfile has no MTU 9000: $(section bond)"
grep -qx 'id=122' <<<"$(section v122)" && grep -qx 'parent=bond0' <<<"$(section v122)" &&
    grep -qx 'mtu=9000' <<<"$(section v122)" && grep -qx 'address1=10.97.122.10/24' <<<"$(section v122)" ||
    fail "bond0.122's keyfile: $(section v122)"
[ "$(section mdadm | grep -c '^ARRAY /dev/md/[a-z]* level=raid1 num-devices=2 UUID=')" = 3 ] ||
    fail "1. mdadm.conf: $(section mdadm)"
[ "$(section grub | grep -o 'rd\.md\.uuid=' | wc -l)" = 3 ] && grep -q ' rd\.retry=30' <<<"$(section grub)" ||
    fail "1. GRUB's command line: $(section grub)"
grep -q '^mdadm-' <<<"$(section rpm)" || fail "1. no mdadm in the image: $(section rpm)"
echo "1. keyfiles: $(grep -c nmconnection <<<"$files") ($(grep -o '[^/]*\.nmconnection' <<<"$files" | tr '\n' ' '))"

# ---- 4. (in the background) RAID1: either disk removed, BIOS and UEFI -------------------------
# degraded MODE DISK LABEL: boot from DISK alone until the daemon starts; its arrays must run
# on one mirror. The NIC is on a QEMU hub with nothing else.
degraded() {
    local mode=$1 disk=$2 label=$3 dlog t pid arrays
    dlog=$WORK/degraded-$label.log
    qemu-img create -q -f qcow2 -F qcow2 -b "$disk" "$WORK/deg-$label.qcow2"
    # shellcheck disable=SC2046  # _boot_firmware prints separate arguments
    timeout 900 "$BOOT_QEMU" -machine pc,accel=tcg -m 1024 -smp 1 -display none -vga none \
        -no-reboot -parallel none -serial "file:$dlog" $(_boot_firmware "$mode") \
        -netdev hubport,id=n0,hubid=0 -device virtio-net-pci,netdev=n0,mac=52:54:00:97:00:10,addr=0x3 \
        -drive "file=$WORK/deg-$label.qcow2,if=virtio,format=qcow2" </dev/null >"$dlog.qemu" 2>&1 &
    pid=$!
    t=$(date +%s)
    until grep -q 'ctl1: starting as the controller of site dc' <<<"$(serial "$dlog")"; do
        if [ "$(seconds "$t")" -ge 600 ] || ! kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null
            echo "$label: the daemon did not start in $(seconds "$t") s; console:"
            serial "$dlog" | tail -40
            return 1
        fi
        sleep 3
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    arrays=$(serial "$dlog" | grep -cE 'md/raid1:md[0-9]+: active with 1 out of 2 mirrors')
    [ "$arrays" -ge 2 ] || { echo "$label: $arrays arrays said 'active with 1 out of 2 mirrors'"; serial "$dlog" | grep -E 'md|raid' | tail -20; return 1; }
    echo "4. $label: booted to the daemon in $(seconds "$t") s, $arrays arrays on one mirror"
    rm -f "$WORK/deg-$label.qcow2"
}
# Two chains beside the network part's VM: three VMs on two cores for a while, every wait
# below has room for that.
(
    degraded bios "$WORK/ctl1-disk2.qcow2" "bios-without-disk1" &&
        degraded bios "$WORK/ctl1.qcow2" "bios-without-disk2"
) >"$WORK/degraded-bios.out" 2>&1 &
DEGRADED_PID=$!
(
    degraded uefi "$WORK/ctl1.qcow2" "uefi-without-disk2" &&
        degraded uefi "$WORK/ctl1-disk2.qcow2" "uefi-without-disk1"
) >"$WORK/degraded-uefi.out" 2>&1 &
DEGRADED_PID2=$!

# ---- the trunk: a switch in a namespace -----------------------------------------------------
ip netns add "$NS" || skip "ip netns add does not work here"
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$NS" link set lo up
for tap in ctla ctlb; do
    ip -n "$NS" tuntap add dev "$tap" mode tap || fail "tap $tap"
    ip -n "$NS" link set "$tap" mtu 9000 up
done
# The compute node's side: one access port per VLAN, its addresses on the far ends.
ip -n "$NS" link add sw120 type veth peer name acc120
ip -n "$NS" link add sw122 type veth peer name acc122
for l in sw120 acc120; do ip -n "$NS" link set "$l" up; done
for l in sw122 acc122; do ip -n "$NS" link set "$l" mtu 9000 up; done
ip -n "$NS" addr add 10.97.120.11/24 dev acc120
ip -n "$NS" addr add 10.97.122.11/24 dev acc122
switch() {  # switch TRUNK_VLANS STORAGE_MTU: the switch's configuration (re-read on SIGHUP)
    cat >"$WORK/switch.json.tmp" <<EOF
{"ports": {"ctla": {"mode": "trunk", "vlans": [$1], "mtu": 9000},
           "ctlb": {"mode": "trunk", "vlans": [$1], "mtu": 9000},
           "sw120": {"mode": "access", "vlan": 120, "mtu": 1500},
           "sw122": {"mode": "access", "vlan": 122, "mtu": $2}}}
EOF
    mv "$WORK/switch.json.tmp" "$WORK/switch.json"
    if [ -n "$SWITCH_PID" ]; then kill -HUP "$SWITCH_PID"; fi
}
switch 120 9000   # VLAN 122 left out of the node's trunk
ip netns exec "$NS" python3 "$SRC/tests/tools/vlanswitch.py" "$WORK/switch.json" >"$WORK/switch.log" 2>&1 &
SWITCH_PID=$!
for _ in $(seq 50); do grep -q ready "$WORK/switch.log" && break; sleep 0.1; done
grep -q ready "$WORK/switch.log" || fail "the switch did not start: $(cat "$WORK/switch.log")"

# ---- 2. boot; the cabling check names the VLAN left out, then the MTU ------------------------
log=$WORK/ctl1-bios.log
qemu-img create -q -f qcow2 -F qcow2 -b "$WORK/ctl1.qcow2" "$WORK/run.qcow2"
qemu-img create -q -f qcow2 -F qcow2 -b "$WORK/ctl1-disk2.qcow2" "$WORK/run2.qcow2"
ip netns exec "$NS" timeout 1500 "$BOOT_QEMU" -machine pc,accel=tcg -m 1536 -smp 1 -display none \
    -vga none -no-reboot -monitor "unix:$WORK/mon.sock,server,nowait" -parallel none \
    -serial "file:$log" \
    -netdev tap,id=n0,ifname=ctla,script=no,downscript=no \
    -device virtio-net-pci,netdev=n0,mac=52:54:00:97:00:10,addr=0x3 \
    -netdev tap,id=n1,ifname=ctlb,script=no,downscript=no \
    -device virtio-net-pci,netdev=n1,mac=52:54:00:97:00:11,addr=0x4 \
    -drive "file=$WORK/run.qcow2,if=virtio,format=qcow2" \
    -drive "file=$WORK/run2.qcow2,if=virtio,format=qcow2" </dev/null >"$log.qemu" 2>&1 &
QEMU_PID=$!
t=$(date +%s)
wait_status "$log" 600 "the cabling step failing on VLAN 122" \
    '^cabling +failed +[0-9]+ +storage: from bond0\.122 \(VLAN 122\), 1 of 1 broken: cmp1 10\.97\.122\.11 unreachable \(unreachable: is VLAN 122 allowed on both switch ports'
echo "2. after $(seconds "$t") s: $(grep -E '^cabling ' <<<"$(last_status "$log")" | cut -c1-200)"
# Meanwhile management (VLAN 120) works through the bond.
reach 10.97.120.10 || fail "2. ctl1's management address does not answer on VLAN 120"
ip netns exec "$NS" ping -n -q -c 1 -W 1 10.97.122.10 >/dev/null 2>&1 &&
    fail "2. ctl1's storage address answers with VLAN 122 off its trunk"
switch 120,122 1500
wait_status "$log" 180 "the cabling step naming the MTU mismatch" \
    '^cabling +failed +[0-9]+ +storage: from bond0\.122 \(VLAN 122\), 1 of 1 broken: cmp1 10\.97\.122\.11 answers small pings but not 9000-byte ones that must not fragment \(MTU: set 9000'
echo "2. VLAN 122 on, compute's port at 1500: $(grep -E '^cabling ' <<<"$(last_status "$log")" | cut -c1-220)"
switch 120,122 9000
wait_status "$log" 180 "the cabling step passing" \
    '^cabling +done +[0-9]+ +management: ok, 1 peer from bond0\.120 \(VLAN 120\) at MTU 1500; storage: ok, 1 peer from bond0\.122 \(VLAN 122\) at MTU 9000$'
grep -qE '^ctl1 +ok +ok$' <<<"$(last_status "$log")" || fail "2. no links matrix row 'ctl1 ok ok':"$'\n'"$(last_status "$log")"
echo "2. all cabled: cabling done, the links matrix says ctl1 ok ok"

# ---- 3. reachable on each VLAN, with either member down ------------------------------------
both() {
    reach 10.97.120.10 || fail "3. $1: ctl1 does not answer on VLAN 120"
    reach 10.97.122.10 -M do -s 8972 || fail "3. $1: ctl1 does not answer 9000-byte packets on VLAN 122"
}
# has_kernel_line ERE: the guest's kernel said it on the console.
has_kernel_line() { grep -qE "$1" <<<"$(serial "$log")"; }
both "both members up"
monitor "$WORK/mon.sock" "set_link n0 off"
both "ens3's link down"
has_kernel_line 'bond0: \(slave ens3\): link status definitely down' || fail "3. the guest's bond did not see ens3 go down"
monitor "$WORK/mon.sock" "set_link n0 on"
sleep 1
monitor "$WORK/mon.sock" "set_link n1 off"
both "ens4's link down"
# Whichever member was active first, ens4 going down leaves ens3 the active one: at least this
# failover happened under the pings.
has_kernel_line 'bond0: \(slave ens4\): link status definitely down' || fail "3. the guest's bond did not see ens4 go down"
has_kernel_line 'bond0: \(slave ens3\): making interface the new active one' || fail "3. no failover to ens3"
monitor "$WORK/mon.sock" "set_link n1 on"
echo "3. ctl1 answers on VLAN 120 and on VLAN 122 at 9000 bytes, with both members and with either one down"
kill "$QEMU_PID" 2>/dev/null
wait "$QEMU_PID" 2>/dev/null
QEMU_PID=
t=$(date +%s)
wait "$DEGRADED_PID" || { cat "$WORK/degraded-bios.out"; fail "4. a BIOS boot with a disk removed failed (above)"; }
DEGRADED_PID=
wait "$DEGRADED_PID2" || { cat "$WORK/degraded-uefi.out"; fail "4. a UEFI boot with a disk removed failed (above)"; }
DEGRADED_PID2=
cat "$WORK/degraded-bios.out" "$WORK/degraded-uefi.out"
echo "4. waited $(seconds "$t") s for the boots with a disk removed"
pass "datacenter node: bond and VLAN keyfiles, the cabling check (VLAN left out, MTU), reachable through either member; RAID1 boots with either disk removed (BIOS, UEFI)"
