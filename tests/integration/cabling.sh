#!/usr/bin/env bash
# The cabling check (airstrap-firstboot links, the daemon's cabling step) with real ping on a
# switch this test builds: a namespace with two bridges (management, and storage at MTU 9000),
# one namespace per node joined to each by a veth pair (the node's ends are its NICs ens3 and
# ens4), as the site says.
#   1. all cabled: every node's check passes;
#   2. cmp2's storage cable pulled (its switch port out of the bridge): cmp2's check names
#      both storage peers as unreachable, the controller's names cmp2; management stays ok;
#   3. cmp1's storage switch port at MTU 1500: the storage links to and from cmp1 are named
#      as an MTU mismatch (small pings pass), not as unreachable;
#   4. a NIC the node does not have: an error with ping's reason, not "unreachable".
# No VLANs here: this machine's kernel has neither 802.1Q devices nor VLAN filtering in its
# bridges; a VLAN left out of a trunk is tests/integration/qcow2.sh's (in QEMU, whose kernel
# tags, on tests/tools/vlanswitch.py). Addresses (10.99.x) exist only in the namespaces made
# here; none has a default route, no veth has an end in the host's namespace. Root only.
source "$(dirname "$0")/common.sh"
: "${AIRSTRAP_FIRSTBOOT:?set AIRSTRAP_FIRSTBOOT to the airstrap-firstboot binary}"

[ "$(id -u)" -eq 0 ] || skip "not root (network namespaces)"
command -v ip >/dev/null || skip "no ip (apt-get install iproute2)"
command -v ping >/dev/null || skip "no ping (apt-get install iputils-ping)"

TAG=cab$$
SW=$TAG-sw
NODES=(ctl1 cmp1 cmp2)
declare -A NS
cleanup() {
    local ns
    for ns in "$SW" "${NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add "$SW" || skip "ip netns add does not work here"
for br in br-mgmt br-sto; do
    ip -n "$SW" link add "$br" type bridge || skip "cannot make a bridge in a network namespace"
    ip -n "$SW" link set "$br" type bridge forward_delay 0 stp_state 0
    ip -n "$SW" link set "$br" up
done

cat >"$WORK/site.yaml" <<'YAML'
site: {name: cabling, domain: test.invalid, distro: el9, timezone: UTC}
networks:
  management: {purpose: management, cidr: 10.99.0.0/24}
  storage: {purpose: storage, cidr: 10.99.2.0/24, mtu: 9000}
nodes:
  - name: ctl1
    role: controller
    interfaces:
      - {name: ens3, mac: "52:54:00:99:00:10", network: management, address: 10.99.0.10}
      - {name: ens4, mac: "52:54:00:99:01:10", network: storage, address: 10.99.2.10}
  - name: cmp1
    role: compute
    interfaces:
      - {name: ens3, mac: "52:54:00:99:00:11", network: management, address: 10.99.0.11}
      - {name: ens4, mac: "52:54:00:99:01:11", network: storage, address: 10.99.2.11}
  - name: cmp2
    role: compute
    interfaces:
      - {name: ens3, mac: "52:54:00:99:00:12", network: management, address: 10.99.0.12}
      - {name: ens4, mac: "52:54:00:99:01:12", network: storage, address: 10.99.2.12}
security: {firewalld: false}
openstack: {deployer: packstack, release: "2025.1", l2_agent: ovn}
YAML
make_secrets "$WORK"

# Each node: its namespace, ens3 on the management bridge, ens4 (MTU 9000, as the site's
# storage network) on the storage bridge, the addresses, and its /etc/airstrap (node-config).
i=0
for n in "${NODES[@]}"; do
    ns=$TAG-$n
    NS[$n]=$ns
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$SW" link add "m$i" type veth peer name ens3 netns "$ns"
    ip -n "$SW" link add "s$i" type veth peer name ens4 netns "$ns"
    ip -n "$SW" link set "m$i" master br-mgmt up
    ip -n "$SW" link set "s$i" mtu 9000 master br-sto up
    ip -n "$ns" link set ens3 up
    ip -n "$ns" link set ens4 mtu 9000 up
    ip -n "$ns" addr add "10.99.0.1$i/24" dev ens3
    ip -n "$ns" addr add "10.99.2.1$i/24" dev ens4
    "$AIRSTRAP" node-config "$WORK/site.yaml" --node "$n" --root "$WORK/$n" >/dev/null 2>&1 ||
        fail "airstrap node-config --node $n"
    i=$((i + 1))
done

# links NODE: the check in NODE's namespace; exit code in RC, output in OUT.
links() {
    RC=0
    OUT=$(ip netns exec "${NS[$1]}" "$AIRSTRAP_FIRSTBOOT" links --root "$WORK/$1" 2>&1) || RC=$?
}
# cell NETWORK: the NETWORK part of the detail (the last line of OUT).
cell() { tail -n 1 <<<"$OUT" | sed 's/; /\n/g' | sed -n "s/^$1: //p"; }

# ---- 1. all cabled --------------------------------------------------------------------------
t0=$SECONDS
for n in "${NODES[@]}"; do
    links "$n"
    [ "$RC" -eq 0 ] || fail "1. $n: links exited $RC with every cable in:"$'\n'"$OUT"
    [ "$(grep -c ' ok$' <<<"$OUT")" -eq 4 ] || fail "1. $n: expected 4 links ok:"$'\n'"$OUT"
    [[ $(cell storage) == "ok, 2 peers from ens4 at MTU 9000" ]] || fail "1. $n: storage cell: $(cell storage)"
    [[ $(cell management) == "ok, 2 peers from ens3 at MTU 1500" ]] || fail "1. $n: management cell: $(cell management)"
done
grep -q "^storage *ens4 *ctl1 *10.99.2.10 *ok$" <<<"$OUT" || fail "1. cmp2's table has no row for ctl1's storage address:"$'\n'"$OUT"
echo "1. all cabled: 3 nodes × 4 links ok ($((SECONDS - t0)) s)"

# ---- 2. cmp2's storage cable pulled ---------------------------------------------------------
ip -n "$SW" link set s2 nomaster
links cmp2
[ "$RC" -eq 1 ] || fail "2. cmp2: links exited $RC with its storage cable out:"$'\n'"$OUT"
c=$(cell storage)
[[ $c == "from ens4, 2 of 2 broken: ctl1 10.99.2.10 unreachable, cmp1 10.99.2.11 unreachable (unreachable: is each cable in its port, is the peer up?)" ]] ||
    fail "2. cmp2's storage cell does not name both peers unreachable: $c"
[[ $(tail -n 1 <<<"$OUT") == storage:* ]] || fail "2. the broken network is not first: $(tail -n 1 <<<"$OUT")"
[[ $(cell management) == ok* ]] || fail "2. cmp2: management not ok:"$'\n'"$OUT"
echo "2. cmp2 says: storage: $c"
links ctl1
[ "$RC" -eq 1 ] || fail "2. ctl1: links exited $RC:"$'\n'"$OUT"
[[ $(cell storage) == "from ens4, 1 of 2 broken: cmp2 10.99.2.12 unreachable"* ]] ||
    fail "2. ctl1's storage cell does not name cmp2: $(cell storage)"
grep -q "^storage *ens4 *cmp2 *10.99.2.12 *unreachable$" <<<"$OUT" || fail "2. ctl1's table:"$'\n'"$OUT"
ip -n "$SW" link set s2 master br-sto
links cmp2
[ "$RC" -eq 0 ] || fail "2. cmp2: cable back, links still exits $RC:"$'\n'"$OUT"

# ---- 3. cmp1's storage switch port left at MTU 1500 -----------------------------------------
ip -n "$SW" link set s1 mtu 1500
links cmp1
[ "$RC" -eq 1 ] || fail "3. cmp1: links exited $RC with its port at 1500:"$'\n'"$OUT"
c=$(cell storage)
[[ $c == "from ens4, 2 of 2 broken: ctl1 10.99.2.10 answers small pings but not 9000-byte ones that must not fragment, cmp2 10.99.2.12 answers small pings but not 9000-byte ones that must not fragment (MTU: set 9000 on every switch port and node device of storage)" ]] ||
    fail "3. cmp1's storage cell is not an MTU mismatch naming both peers: $c"
[[ $(cell management) == ok* ]] || fail "3. cmp1: management not ok:"$'\n'"$OUT"
echo "3. cmp1 says: storage: $c"
links ctl1
[ "$RC" -eq 1 ] || fail "3. ctl1: links exited $RC:"$'\n'"$OUT"
grep -q "^storage *ens4 *cmp1 *10.99.2.11 *MTU 9000 does not pass (small pings do)$" <<<"$OUT" ||
    fail "3. ctl1's table does not show the MTU mismatch towards cmp1:"$'\n'"$OUT"
ip -n "$SW" link set s1 mtu 9000
links cmp1
[ "$RC" -eq 0 ] || fail "3. cmp1: port back at 9000, links still exits $RC:"$'\n'"$OUT"

# ---- 4. a NIC the node does not have --------------------------------------------------------
ip -n "${NS[cmp2]}" link set ens4 down
ip -n "${NS[cmp2]}" link set ens4 name eth9
links cmp2
[ "$RC" -eq 1 ] || fail "4. cmp2 without ens4: links exited $RC:"$'\n'"$OUT"
c=$(cell storage)
[[ $c == *"ctl1 10.99.2.10 not probed: "*ens4* ]] || fail "4. cmp2's storage cell: $c"
echo "4. cmp2 without its storage NIC: storage: $c"
pass "the cabling check names a pulled cable, an MTU mismatch and a missing NIC"
