#!/usr/bin/env bash
# airstrap build pxe + airstrap serve as a provisioning service, on the stand-in CentOS 7 DVD
# (tests/fixtures/make-boot-media.sh: its EFI/BOOT/BOOTX64.EFI stands in for shim) and a
# mirror of the lab3 site. Everything on the network happens inside network namespaces made
# here: the site's own 192.168.111.0/24 exists only there (no route, no link to the host's
# interfaces).
#   1. The tree: kickstarts only under private/ (0600), the shim byte for byte, no secret
#      outside its node's kickstart, a rebuild swapped in one rename.
#   2. `airstrap serve` (dnsmasq, nginx, the service) in namespace NS on bridge br0
#      (192.168.111.1), QEMU on taps in it, an attacker namespace on a veth in the same bridge
#      (192.168.111.66):
#      - BIOS PXE of compute-node: dnsmasq's lease and TFTP, its own kickstart, %pre exits 0,
#        the %post install report verifies; the state file says local; the same VM's next
#        boot gets the local-boot config and no installer;
#      - `serve --rebuild compute-node`, then a UEFI (OVMF) PXE boot: the shim (the DVD's
#        BOOTX64.EFI, byte for byte) then grub, installed and reported again; its next boot is
#        local too;
#      - a VM with an unknown MAC gets no lease; the attacker gets 403 for every kickstart (a
#        forged X-Airstrap-Client header included), its forged reports change nothing, 100
#        idle connections of its do not stop an install;
#      - ps: no dnsmasq or nginx worker runs as root, the service runs as the tree's owner;
#        the server user can read neither the kickstarts nor connect... only nginx may.
# The stand-in installer prints its command line, the kickstart it fetched, %pre's exit
# status and the install report's (boot-lib.sh: pre_ok, report_ok). Each boot is timed.
source "$(dirname "$0")/common.sh"
: "${FIXTURES:?set FIXTURES to the fixtures folder}"
BOOT=$FIXTURES/boot-media/boot
[ -f "$BOOT/el7-dvd.iso" ] || skip "no stand-in DVDs in $BOOT (tests/fixtures/make-boot-media.sh)"
[ -f "$FIXTURES/tarballs/openstack_Q.tar.gz" ] || skip "no fixture repos in $FIXTURES (tests/fixtures/make-repos.sh)"
source "$(dirname "$0")/boot-lib.sh"
reason=$(qemu_skip_reason)
[ -z "$reason" ] || skip "$reason"
for tool in nginx dnsmasq curl tar setpriv; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install nginx dnsmasq-base curl tar util-linux)"
done
[ -r /usr/lib/PXELINUX/pxelinux.0 ] || skip "no /usr/lib/PXELINUX/pxelinux.0 (apt-get install pxelinux syslinux-common)"
BOOT_TIMEOUT=${BOOT_TIMEOUT:-150}
COMPUTE_MAC=00:0c:29:5e:12:12
STRANGER_MAC=52:54:00:99:99:99
COMPUTE_ID=01-00-0c-29-5e-12-12
OWNER=daemon        # the tree's owner: the service runs as it
SERVERS=nobody      # dnsmasq and nginx's workers

SERVE_PIDS=()
NS=
ATTACKER=
HOLDER=
cleanup() {
    local p
    [ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null
    for p in "${SERVE_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${SERVE_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    [ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
    [ -n "$ATTACKER" ] && ip netns del "$ATTACKER" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

source "$(dirname "$0")/media-secrets.sh"
seconds_since() { python3 -c "import sys,time; print(round(time.time() - float(sys.argv[1]), 1))" "$1"; }
# The users the children of serve (pid $1) run as: dnsmasq, nginx's workers, the service.
users_of() {
    local master
    case $1 in
        dnsmasq) ps -o user=,comm= --ppid "$2" | awk '$2 == "dnsmasq" {print $1}' | sort -u | tr '\n' ' ' ;;
        nginx-workers)
            master=$(ps -o pid=,comm= --ppid "$2" | awk '$2 == "nginx" {print $1}')
            [ -n "$master" ] && ps -o user= --ppid "$master" | sort -u | tr '\n' ' ' ;;
        service) ps -o user=,comm= --ppid "$2" | awk '$2 == "airstrap" {print $1}' | sort -u | tr '\n' ' ' ;;
    esac
}
# check_boot LOG NODE ROLE URL: the markers of a node installed from URL: its own kickstart,
# %pre exited 0 with the site repository URLairstrap/repo, the install report exited 0.
check_boot() {
    local log=$1 node=$2 role=$3 url=$4 cmdline ks picked
    cmdline=$(marker "$log" cmdline || true)
    [ -n "$cmdline" ] || fail "$node: the installer never ran; serial log:"$'\n'"$(tail -c 3000 "$log")"
    grep -q "inst.ks=${url}ks/nodes/$node.ks" <<<"$cmdline" || fail "$node: no inst.ks=${url}ks/nodes/$node.ks in: $cmdline"
    grep -q "inst.repo=$url" <<<"$cmdline" || fail "$node: no inst.repo=$url in: $cmdline"
    grep -q "inst.stage2=" <<<"$cmdline" && fail "$node: the DVD's inst.stage2 is still there: $cmdline"
    ks=$(ks_text "$log" || true)
    [ -n "$ks" ] || fail "$node: no kickstart read: $(marker "$log" ks || true)"
    grep -q "kickstart: node $node ($role) of site lab3" <<<"$ks" || fail "$node: not $node's own kickstart: $(head -3 <<<"$ks")"
    picked=$(marker "$log" node || true)
    [ "$picked" = "$node" ] || fail "$node: %pre picked '$picked'"
    pre_ok "$log" "${url}airstrap/repo" || fail "$node: %pre did not succeed (see pre_ok above)"
    report_ok "$log" || fail "$node: the install report failed:"$'\n'"$(report_text "$log")"
}
# state_of NODE: build|local, from `serve --status --json`.
state_of() {
    "$AIRSTRAP" serve "$NP" --status --json | python3 -c '
import json, sys
doc = json.load(sys.stdin)
print([n for n in doc["nodes"] if n["node"] == sys.argv[1]][0]["state"])' "$1"
}
# serve_lines_after N PATTERN: serve's log after its first N lines has PATTERN.
serve_lines_after() { tail -n +"$(($1 + 1))" "$WORK/serve.log" | grep -q "$2"; }

# ---- 1. the site, its mirror, the PXE tree -------------------------------------------------
mkdir -p "$WORK/el7"
sed -e "s|^  vendor_iso: .*|  vendor_iso: $BOOT/el7-dvd.iso|" \
    -e "s|^      tarball: .*|      tarball: $FIXTURES/tarballs/openstack_Q.tar.gz|" \
    "$SRC/examples/lab3/site.yaml" >"$WORK/el7/site.yaml"
make_secrets "$WORK/el7"
mkdir -p "$WORK/el7/images"
head -c 300000 /dev/urandom >"$WORK/el7/images/cirros-0.3.4-x86_64-disk.img"
expect_exit 0 "$AIRSTRAP" mirror "$WORK/el7/site.yaml" -o "$WORK/repo7"

# A cloud user (uat) without a password: refused at build time, nothing written.
sed '/^  users:/,$d' "$WORK/el7/secrets.yaml" >"$WORK/no-users.yaml"
chmod 0600 "$WORK/no-users.yaml"
NP=$WORK/pxe
expect_exit 2 "$AIRSTRAP" build pxe "$WORK/el7/site.yaml" -o "$NP" --repo "$WORK/repo7" \
    --server-ip 192.168.111.1 --secrets "$WORK/no-users.yaml"
grep -q "no password for cloud user 'uat' (.*site.yaml line [0-9]*): add passwords.users.uat" <<<"$OUT" \
    || fail "build pxe without uat's password: $OUT"
[ ! -e "$NP" ] || fail "a build refused for a missing password left $NP"
# Outside the management network: refused, nothing written.
expect_exit 2 "$AIRSTRAP" build pxe "$WORK/el7/site.yaml" -o "$NP" --repo "$WORK/repo7" --server-ip 10.9.9.9
grep -q "not in the site's management network 'management' (192.168.111.0/24)" <<<"$OUT" || fail "server-ip check: $OUT"
[ ! -e "$NP" ] || fail "a refused build left $NP"

NS_URL=http://192.168.111.1:8080/
t0=$(date +%s.%N)
expect_exit 0 "$AIRSTRAP" build pxe "$WORK/el7/site.yaml" -o "$NP" --repo "$WORK/repo7" \
    --server-ip 192.168.111.1 --timeout 1 --append console=ttyS0 --json
echo "build pxe (el7): $(seconds_since "$t0") s"
python3 - "$OUT" <<'PY' || fail "build pxe --json: $OUT"
import json, sys
doc = json.loads(sys.argv[1][sys.argv[1].index("{"):])
assert doc["ok"] and doc["grub"] == "vendor" and doc["entries"] == 3, doc
assert doc["uefi_boot_file"] == "shimx64.efi", doc
assert doc["kickstarts"] == ["private/ks/nodes/controller-node.ks", "private/ks/nodes/network-node.ks", "private/ks/nodes/compute-node.ks"], doc
assert [m["node"] for m in doc["per_mac"]] == ["controller-node", "network-node", "network-node", "compute-node"], doc
assert doc["repo_files"] > 10 and doc["menu_only_nodes"] == [], doc
PY
for f in tftp/pxelinux.0 tftp/ldlinux.c32 tftp/menu.c32 tftp/grubx64.efi tftp/shimx64.efi tftp/grub.cfg \
         tftp/pxelinux.cfg/default tftp/pxelinux.cfg/$COMPUTE_ID tftp/grub.cfg-$COMPUTE_ID \
         tftp/images/pxeboot/vmlinuz tftp/images/pxeboot/initrd.img \
         http/.treeinfo http/repodata/repomd.xml http/airstrap/repo/airstrap.lock http/airstrap/repo.tar \
         private/service.json private/ks/nodes/compute-node.ks state/nodes.json dnsmasq.conf nginx.conf README.txt; do
    [ -f "$NP/$f" ] || fail "no $f in the PXE tree"
done
[ ! -e "$NP/http/ks" ] || fail "the tree still has http/ks (a static file server would hand it to anyone): $(find "$NP/http/ks")"
[ "$(cd "$NP/private/ks" && find . -type f | sort | tr '\n' ' ')" = \
  "./nodes/compute-node.ks ./nodes/controller-node.ks ./nodes/network-node.ks " ] \
    || fail "the kickstarts are not exactly one per node: $(cd "$NP/private/ks" && find . -type f)"
for f in "$NP"/private/ks/nodes/*.ks "$NP/private/service.json" "$NP/state/nodes.json"; do
    [ "$(stat -c %a "$f")" = 600 ] || fail "$f is not 0600"
done
for d in private state; do
    [ "$(stat -c %a "$NP/$d")" = 700 ] || fail "$NP/$d is not 0700"
done
grep -q "# airstrap-install-report" "$NP/private/ks/nodes/compute-node.ks" || fail "compute-node.ks has no install report"
# The shim: the DVD's EFI/BOOT/BOOTX64.EFI byte for byte, grubx64.efi beside it.
xorriso -osirrox on -indev "$BOOT/el7-dvd.iso" -extract /EFI/BOOT/BOOTX64.EFI "$WORK/dvd-shim.efi" \
    -extract /EFI/BOOT/grubx64.efi "$WORK/dvd-grub.efi" -extract /images/pxeboot/initrd.img "$WORK/dvd-initrd.img" \
    >/dev/null 2>&1 || fail "cannot extract the DVD's EFI/BOOT files"
cmp -s "$WORK/dvd-shim.efi" "$WORK/dvd-grub.efi" && fail "the fixture's shim stand-in is grubx64.efi itself: the byte-for-byte check would prove nothing"
cmp -s "$NP/tftp/shimx64.efi" "$WORK/dvd-shim.efi" || fail "tftp/shimx64.efi is not the DVD's BOOTX64.EFI"
cmp -s "$NP/tftp/grubx64.efi" "$WORK/dvd-grub.efi" || fail "tftp/grubx64.efi is not the DVD's grubx64.efi"
cmp -s "$NP/tftp/images/pxeboot/initrd.img" "$WORK/dvd-initrd.img" || fail "initrd.img differs from the DVD's"
grep -q "shimx64.efi" "$NP/dnsmasq.conf" || fail "dnsmasq.conf does not boot UEFI clients with the shim: $(cat "$NP/dnsmasq.conf")"
diff <(cd "$WORK/repo7" && find . -type f | sed 's|^\./||' | sort) <(tar -tf "$NP/http/airstrap/repo.tar" | grep -v '/$' | sort) \
    || fail "repo.tar does not hold the mirror's files"
# No secret outside each node's own kickstart: http/, tftp/, the configs, service.json
# (which holds report keys only) and the state.
media_keys "$WORK/el7/site.yaml" "$WORK/el7/secrets.yaml"
check_media "the PXE tree" none="$NP" controller-node="$NP/private/ks/nodes/controller-node.ks" \
    network-node="$NP/private/ks/nodes/network-node.ks" compute-node="$NP/private/ks/nodes/compute-node.ks"

# A rebuild replaces the tree in one rename, leaves nothing beside it, and keeps each
# node's state (shown with compute-node put into local by hand, then rebuilt).
python3 - "$NP/state/nodes.json" <<'PY'
import json, sys
p = sys.argv[1]; d = json.load(open(p)); d["nodes"]["compute-node"]["state"] = "local"
json.dump(d, open(p, "w"))
PY
ino=$(stat -c %i "$NP")
expect_exit 0 "$AIRSTRAP" build pxe "$WORK/el7/site.yaml" -o "$NP" --repo "$WORK/repo7" \
    --server-ip 192.168.111.1 --timeout 1 --append console=ttyS0
[ "$(stat -c %i "$NP")" != "$ino" ] || fail "the rebuild did not swap a new tree in"
[ -z "$(ls -A "$WORK" | grep -F '.pxe.')" ] || fail "leftovers beside the tree: $(ls -A "$WORK")"
[ "$(state_of compute-node)" = local ] || fail "the rebuild forgot that compute-node is installed"
grep -q "localboot" "$NP/tftp/pxelinux.cfg/$COMPUTE_ID" || fail "the rebuilt tree would reinstall compute-node: $(cat "$NP/tftp/pxelinux.cfg/$COMPUTE_ID")"
grep -q "^ *kernel\|^ *linux" "$NP/tftp/pxelinux.cfg/$COMPUTE_ID" && fail "compute-node's local config loads a kernel"
expect_exit 0 "$AIRSTRAP" serve "$NP" --rebuild compute-node
grep -q "compute-node: back in build" <<<"$OUT" || fail "--rebuild: $OUT"
[ "$(state_of compute-node)" = build ] || fail "--rebuild left compute-node in $(state_of compute-node)"
grep -q "inst.ks=" "$NP/tftp/pxelinux.cfg/$COMPUTE_ID" || fail "--rebuild did not restore the install entry"
expect_exit 2 "$AIRSTRAP" serve "$NP" --rebuild compute
grep -q "has no such node (it serves controller-node, network-node, compute-node)" <<<"$OUT" || fail "--rebuild compute: $OUT"
# A damaged state file: refused with its path, by --status and by serve.
cp "$NP/state/nodes.json" "$WORK/nodes.json.good"
printf '{"format": 1,\n "nodes": {"compute-node": {"state": "maybe"' >"$NP/state/nodes.json"
expect_exit 2 "$AIRSTRAP" serve "$NP" --status
grep -q "$NP/state/nodes.json:2:.*not valid JSON" <<<"$OUT" || fail "--status on a damaged state: $OUT"
cp "$WORK/nodes.json.good" "$NP/state/nodes.json"

# ---- 2. serve in a network namespace --------------------------------------------------------
[ "$(id -u)" -eq 0 ] || skip "not root (ip netns, tap devices, the service's user): the tree was checked, no boot"
command -v ip >/dev/null || skip "no ip (apt-get install iproute2)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
# As root, a tree owned by root is refused (its service would run as root), so is a server
# user that is the tree's owner.
expect_exit 2 "$AIRSTRAP" serve "$NP"
grep -q "$NP/private is owned by root (uid 0, gid 0): the provisioning service .* will not run as root.*chown -R" <<<"$OUT" \
    || fail "serve on a tree owned by root: $OUT"
chmod 0711 "$WORK"
chown -R "$OWNER:$OWNER" "$NP"
expect_exit 2 "$AIRSTRAP" serve "$NP" --server-user "$OWNER"
grep -q "is (or shares a group with) the tree's owner $OWNER" <<<"$OUT" || fail "serve --server-user $OWNER: $OUT"
# The server user cannot read the kickstarts or the service's keys.
setpriv --reuid="$SERVERS" --regid=nogroup --clear-groups cat "$NP/private/ks/nodes/compute-node.ks" >/dev/null 2>&1 \
    && fail "$SERVERS can read compute-node.ks"
setpriv --reuid="$SERVERS" --regid=nogroup --clear-groups cat "$NP/private/service.json" >/dev/null 2>&1 \
    && fail "$SERVERS can read service.json"

NS=airstrap-pxe-$$
ATTACKER=airstrap-pxe-attacker-$$
ip netns add "$NS"
ip netns add "$ATTACKER"
nsx() { ip netns exec "$NS" "$@"; }
atx() { ip netns exec "$ATTACKER" "$@"; }
{
    nsx ip link set lo up &&
        nsx ip link add br0 type bridge &&
        nsx ip addr add 192.168.111.1/24 dev br0 &&
        nsx ip link set br0 up &&
        for tap in tap0 tap1; do
            nsx ip tuntap add dev "$tap" mode tap && nsx ip link set "$tap" master br0 && nsx ip link set "$tap" up || exit 1
        done &&
        nsx ip link add veth0 type veth peer name veth1 &&
        nsx ip link set veth1 netns "$ATTACKER" &&
        nsx ip link set veth0 master br0 && nsx ip link set veth0 up &&
        atx ip link set lo up && atx ip addr add 192.168.111.66/24 dev veth1 && atx ip link set veth1 up
} 2>"$WORK/netns.err" || fail "cannot make the bridge, taps and veth: $(cat "$WORK/netns.err")"
ip -o addr show | grep >/dev/null "192\.168\.111\." && fail "192.168.111.x appeared in the host's namespace"

ip netns exec "$NS" "$AIRSTRAP" serve "$NP" --interface br0 >"$WORK/serve.log" 2>&1 &  # ip execs: $! is airstrap
SERVE_PIDS+=($!)
for i in $(seq 50); do
    atx curl -s -o /dev/null "${NS_URL}.treeinfo" 2>/dev/null && grep -q "TFTP root is" "$WORK/serve.log" \
        && grep -q "provision: serving the kickstarts" "$WORK/serve.log" && break
    sleep 0.2
done
grep -q "provision: serving the kickstarts and install reports of 3 nodes" "$WORK/serve.log" \
    || fail "serve did not come up:"$'\n'"$(cat "$WORK/serve.log")"
SERVE=${SERVE_PIDS[0]}
[ "$(users_of dnsmasq "$SERVE")" = "$SERVERS " ] || fail "dnsmasq runs as '$(users_of dnsmasq "$SERVE")', not $SERVERS"
[ "$(users_of nginx-workers "$SERVE")" = "$SERVERS " ] || fail "nginx's workers run as '$(users_of nginx-workers "$SERVE")', not $SERVERS"
[ "$(users_of service "$SERVE")" = "$OWNER " ] || fail "the service runs as '$(users_of service "$SERVE")', not $OWNER"
# Only nginx's workers (the server user's group) reach the service's socket: another user
# cannot connect and claim to be a node.
sock=$(find /tmp -maxdepth 3 -path '*airstrap-serve*/service/http.sock' -newer "$NP/nginx.conf" 2>/dev/null | head -1)
[ -S "$sock" ] || fail "no service socket under /tmp/*airstrap-serve*/service"
rc=0
setpriv --reuid=bin --regid=bin --clear-groups curl -s --unix-socket "$sock" -o /dev/null \
    http://x/airstrap/v1/nonce 2>/dev/null || rc=$?
[ "$rc" = 7 ] || fail "user bin and the service's socket $sock: curl exited $rc, expected 7 (cannot connect)"
code=$(setpriv --reuid="$SERVERS" --regid=nogroup --clear-groups curl -s --unix-socket "$sock" -o /dev/null \
    -w '%{http_code}' http://x/airstrap/v1/nonce) || true
[ "$code" = 403 ] || fail "$SERVERS (nginx's workers) cannot reach the service's socket: HTTP '$code'"

# The attacker: 403 for every kickstart, with or without a forged client header; a forged
# report (no nonce of its own: refused; with compute's address in a header: still refused).
before=$(sha256sum <"$NP/state/nodes.json")
for node in compute-node controller-node network-node; do
    code=$(atx curl -s -o "$WORK/got.ks" -w '%{http_code}' "${NS_URL}ks/nodes/$node.ks")
    [ "$code" = 403 ] || fail "the attacker got HTTP $code for $node.ks: $(head -c 300 "$WORK/got.ks")"
done
code=$(atx curl -s -o /dev/null -w '%{http_code}' -H "X-Airstrap-Client: 192.168.111.12" "${NS_URL}ks/nodes/compute-node.ks")
[ "$code" = 403 ] || fail "a forged X-Airstrap-Client header got HTTP $code"
code=$(atx curl -s -o /dev/null -w '%{http_code}' "${NS_URL}airstrap/v1/nonce?node=compute-node")
[ "$code" = 403 ] || fail "the attacker got a nonce for compute-node (HTTP $code)"
code=$(atx curl -s -o /dev/null -w '%{http_code}' -H "X-Airstrap-Client: 192.168.111.12" \
    -d "node=compute-node&nonce=$(printf '%064d' 0)&time=1&mac=$(printf '%064d' 0)" "${NS_URL}airstrap/v1/installed")
[ "$code" = 403 ] || fail "a forged install report got HTTP $code"
[ "$(sha256sum <"$NP/state/nodes.json")" = "$before" ] || fail "the attacker's requests changed the state"
grep -q "provision: refused 192.168.111.66: asked for compute-node's kickstart, which goes only to compute-node's address 192.168.111.12" "$WORK/serve.log" \
    || fail "the refusal was not logged: $(grep provision "$WORK/serve.log")"
[ "$(grep -c "refused 192.168.111.66: asked for compute-node's kickstart" "$WORK/serve.log")" = 1 ] \
    || fail "one refusal a minute per address and reason: $(grep -c "refused 192.168.111.66" "$WORK/serve.log") lines"
# 100 idle connections of the attacker's to nginx, held through the first install.
atx python3 -c '
import socket, sys, time
s = [socket.create_connection(("192.168.111.1", 8080)) for _ in range(100)]
print(len(s), flush=True)
time.sleep(600)' >"$WORK/idle.out" 2>&1 &
HOLDER=$!
for i in $(seq 50); do [ -s "$WORK/idle.out" ] && break; sleep 0.1; done
[ "$(cat "$WORK/idle.out")" = 100 ] || fail "the attacker could not open its idle connections: $(cat "$WORK/idle.out")"

# QEMU inside the namespace, on a tap there.
cat >"$WORK/qemu-in-ns" <<EOF
#!/bin/sh
exec ip netns exec $NS ${BOOT_QEMU} "\$@"
EOF
chmod +x "$WORK/qemu-in-ns"
truncate -s 1M "$WORK/disk.img"   # the node's disk (and the stand-in stops waiting for one)
# boot_ns MODE(bios|uefi) TAP MAC LOG: a network boot on TAP; the result in BOOT_RC.
boot_ns() {
    local mode=$1 tap=$2 mac=$3 log=$4 fw nic=e1000 saved=$BOOT_QEMU
    [ "$mode" = uefi ] && nic=virtio-net-pci
    fw=$(_boot_firmware "$mode")
    BOOT_QEMU=$WORK/qemu-in-ns
    BOOT_RC=0
    # shellcheck disable=SC2086
    _boot_run "$log" $fw -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
        -device "$nic,netdev=n0,mac=$mac,bootindex=0" \
        -drive "if=virtio,format=raw,file=$WORK/disk.img" 2>"$log.err" || BOOT_RC=$?
    BOOT_QEMU=$saved
}
# local_boot_ok MODE CONFIG MARK LOG: after line MARK of serve's log, TFTP sent the node its
# per-MAC CONFIG (now the local-boot text), no installer kernel, and the console shows no
# installer.
local_boot_ok() {
    local mode=$1 config=$2 mark=$3 log=$4
    serve_lines_after "$mark" "dnsmasq: .*sent $NP/tftp/$config to 192.168.111.12" \
        || fail "$mode: the second boot was not sent $config:"$'\n'"$(tail -n +"$((mark + 1))" "$WORK/serve.log")"
    serve_lines_after "$mark" "sent $NP/tftp/images/pxeboot/vmlinuz" \
        && fail "$mode: the second boot loaded the installer kernel again"
    [ -z "$(marker "$log" cmdline)" ] || fail "$mode: the installer ran again: $(marker "$log" cmdline)"
    serve_lines_after "$mark" "provision: compute-node: local boot (tftp/$config: boot the local disk)" \
        || fail "$mode: serve did not log the local boot"
}

# BIOS: install, report, then the next boot of the same VM boots its disk.
mark=$(wc -l <"$WORK/serve.log")
boot_ns bios tap0 "$COMPUTE_MAC" "$WORK/bios.log"
[ "$BOOT_RC" = 0 ] || fail "BIOS PXE install failed; serial log:"$'\n'"$(tail -c 3000 "$WORK/bios.log")"$'\n'"serve:"$'\n'"$(tail -30 "$WORK/serve.log")"
echo "boot pxe bios install (dnsmasq, compute-node, 100 idle attacker connections): ${BOOT_SECONDS} s"
check_boot "$WORK/bios.log" compute-node compute "$NS_URL"
for phase in "dhcp (192.168.111.12 to $COMPUTE_MAC)" "boot file sent (tftp/pxelinux.0)" \
             "kickstart fetched (from 192.168.111.12)" "installed (report verified, from 192.168.111.12"; do
    serve_lines_after "$mark" "provision: compute-node: $phase" || fail "serve did not log 'compute-node: $phase':"$'\n'"$(grep provision "$WORK/serve.log")"
done
grep -q "DHCPACK(br0) 192.168.111.12 $COMPUTE_MAC compute-node" "$WORK/serve.log" || fail "no lease for compute-node"
[ "$(state_of compute-node)" = local ] || fail "after its report compute-node is $(state_of compute-node)"
grep -q "localboot" "$NP/tftp/pxelinux.cfg/$COMPUTE_ID" || fail "compute-node's pxelinux config was not switched to local boot"
kill "$HOLDER" 2>/dev/null; HOLDER=
mark=$(wc -l <"$WORK/serve.log")
BOOT_TIMEOUT=45 boot_ns bios tap0 "$COMPUTE_MAC" "$WORK/bios-again.log"   # no bootable disk: ends by timeout
echo "boot pxe bios, installed (local boot): ${BOOT_SECONDS} s"
local_boot_ok bios "pxelinux.cfg/$COMPUTE_ID" "$mark" "$WORK/bios-again.log"
"$AIRSTRAP" serve "$NP" --status >"$WORK/status.txt"
grep -q "^compute-node  *local  *local boot " "$WORK/status.txt" || fail "--status: $(cat "$WORK/status.txt")"
grep -q "^controller-node  *build  *waiting " "$WORK/status.txt" || fail "--status: $(cat "$WORK/status.txt")"

# UEFI after --rebuild (while serve runs): the shim, then grub, install, report, local.
expect_exit 0 "$AIRSTRAP" serve "$NP" --rebuild compute-node
mark=$(wc -l <"$WORK/serve.log")
boot_ns uefi tap0 "$COMPUTE_MAC" "$WORK/uefi.log"
[ "$BOOT_RC" = 0 ] || fail "UEFI PXE install failed; serial log:"$'\n'"$(tail -c 3000 "$WORK/uefi.log")"$'\n'"serve:"$'\n'"$(tail -30 "$WORK/serve.log")"
echo "boot pxe uefi install (dnsmasq, OVMF, shim stand-in, compute-node): ${BOOT_SECONDS} s"
serve_lines_after "$mark" "dnsmasq: .*sent $NP/tftp/shimx64.efi to 192.168.111.12" || fail "UEFI: the shim was not sent"
serve_lines_after "$mark" "dnsmasq: .*sent $NP/tftp/grubx64.efi to 192.168.111.12" || fail "UEFI: grubx64.efi was not sent"
serve_lines_after "$mark" "dnsmasq: .*sent $NP/tftp/grub.cfg-$COMPUTE_ID to 192.168.111.12" || fail "UEFI: the per-MAC grub config was not sent"
check_boot "$WORK/uefi.log" compute-node compute "$NS_URL"
[ "$(state_of compute-node)" = local ] || fail "after its UEFI install compute-node is $(state_of compute-node)"
mark=$(wc -l <"$WORK/serve.log")
BOOT_TIMEOUT=60 boot_ns uefi tap0 "$COMPUTE_MAC" "$WORK/uefi-again.log"
echo "boot pxe uefi, installed (local boot): ${BOOT_SECONDS} s"
local_boot_ok uefi "grub.cfg-$COMPUTE_ID" "$mark" "$WORK/uefi-again.log"

# A machine the site does not list: no lease.
BOOT_TIMEOUT=30 boot_ns bios tap1 "$STRANGER_MAC" "$WORK/stranger.log"
grep -q "DHCPDISCOVER(br0) $STRANGER_MAC no address available" "$WORK/serve.log" \
    || fail "dnsmasq did not refuse the unknown MAC:"$'\n'"$(grep -i "$STRANGER_MAC" "$WORK/serve.log")"
grep -q "DHCPACK(br0) [0-9.]* $STRANGER_MAC" "$WORK/serve.log" && fail "dnsmasq leased an address to the unknown MAC"

ip -o addr show | grep >/dev/null "192\.168\.111\." && fail "192.168.111.x appeared in the host's namespace"
ip route show | grep >/dev/null "192\.168\.111\." && fail "a 192.168.111.x route appeared in the host's namespace"
kill -TERM "$SERVE"
wait "$SERVE" || fail "serve did not stop cleanly: $(tail -5 "$WORK/serve.log")"
grep -q "stopping (Terminated)" "$WORK/serve.log" || fail "serve did not log its stop"
SERVE_PIDS=()
pass "PXE tree (kickstarts private, shim byte for byte, state kept across rebuilds); BIOS and UEFI (shim) installs of compute-node through dnsmasq reported and then booted locally; --rebuild; an unknown MAC, an attacker's requests, forged reports and idle connections refused or harmless"
