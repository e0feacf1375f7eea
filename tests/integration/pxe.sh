#!/usr/bin/env bash
# airstrap build pxe + airstrap serve on the stand-in CentOS 7 DVD (tests/fixtures/
# make-boot-media.sh) and a mirror of the lab3 site, booted over the network in QEMU (TCG):
#   1. QEMU's built-in DHCP/TFTP (user networking) loads pxelinux.0 (BIOS) and grubx64.efi
#      (UEFI, OVMF); the kickstarts come from `airstrap serve --http-only` (nginx) on the
#      host's 127.0.0.1, which the guest reaches as 10.0.2.2 (slirp's gateway: host
#      loopback; nothing leaves the machine). The tree is built with --server-ip 10.0.2.2,
#      outside the site's management network, hence --allow-foreign-server-ip.
#   2. `airstrap serve` (dnsmasq + nginx) inside a network namespace made here, the VM on a
#      tap device in that namespace: the site's own 192.168.111.0/24, which only exists in
#      the namespace (no route, no link to the host's interfaces).
# The stand-in installer prints its command line, the kickstart it fetched, the node its
# %pre picked, %pre's exit status and the repository line it wrote (pre_ok checks them).
# Every boot's duration is printed.
source "$(dirname "$0")/common.sh"
: "${FIXTURES:?set FIXTURES to the fixtures folder}"
BOOT=$FIXTURES/boot-media/boot
[ -f "$BOOT/el7-dvd.iso" ] || skip "no stand-in DVDs in $BOOT (tests/fixtures/make-boot-media.sh)"
[ -f "$FIXTURES/tarballs/openstack_Q.tar.gz" ] || skip "no fixture repos in $FIXTURES (tests/fixtures/make-repos.sh)"
source "$(dirname "$0")/boot-lib.sh"
reason=$(qemu_skip_reason)
[ -z "$reason" ] || skip "$reason"
for tool in nginx dnsmasq curl tar; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install nginx dnsmasq-base curl tar)"
done
[ -r /usr/lib/PXELINUX/pxelinux.0 ] || skip "no /usr/lib/PXELINUX/pxelinux.0 (apt-get install pxelinux syslinux-common)"
BOOT_TIMEOUT=${BOOT_TIMEOUT:-120}
COMPUTE_MAC=00:0c:29:5e:12:12
CONTROLLER_MAC=00:0c:29:3a:10:10

SERVE_PIDS=()
NS=
cleanup() {
    local p
    for p in "${SERVE_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${SERVE_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    [ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

source "$(dirname "$0")/media-secrets.sh"
# give_to_nobody DIR: the tree to an unprivileged owner (nobody), its path traversable.
give_to_nobody() {
    chmod 0711 "$WORK"
    chown -R nobody:nogroup "$1"
}
# users_of dnsmasq|nginx-workers SERVE_PID: the users its dnsmasq child / nginx's workers run as.
users_of() {
    local master
    if [ "$1" = dnsmasq ]; then
        ps -o user=,comm= --ppid "$2" | awk '$2 == "dnsmasq" {print $1}' | sort -u | tr '\n' ' '
    else
        master=$(ps -o pid=,comm= --ppid "$2" | awk '$2 == "nginx" {print $1}')
        [ -n "$master" ] && ps -o user= --ppid "$master" | sort -u | tr '\n' ' '
    fi
}
seconds_since() { python3 -c "import sys,time; print(round(time.time() - float(sys.argv[1]), 1))" "$1"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {  # wait_http URL [NETNS]: until the URL answers (10 s)
    local i
    for i in $(seq 50); do
        if [ -n "${2:-}" ]; then
            ip netns exec "$2" curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        else
            curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        fi
        sleep 0.2
    done
    return 1
}
# check_boot LOG NODE ROLE URL: the markers of a node installed from URL; its %pre exited 0
# with the site repository URLairstrap/repo.
check_boot() {
    local log=$1 node=$2 role=$3 url=$4 cmdline ks picked
    cmdline=$(marker "$log" cmdline || true)  # (head/awk stop early: SIGPIPE upstream)
    [ -n "$cmdline" ] || fail "$node: the installer never ran; serial log:"$'\n'"$(tail -c 3000 "$log")"
    grep -q "inst.ks=${url}ks/nodes/$node.ks" <<<"$cmdline" || fail "$node: no inst.ks=${url}ks/nodes/$node.ks in: $cmdline"
    grep -q "inst.repo=$url" <<<"$cmdline" || fail "$node: no inst.repo=$url in: $cmdline"
    grep -q "airstrap.node=$node" <<<"$cmdline" || fail "$node: no airstrap.node=$node in: $cmdline"
    grep -q "inst.stage2=" <<<"$cmdline" && fail "$node: the DVD's inst.stage2 is still there: $cmdline"
    ks=$(ks_text "$log" || true)
    [ -n "$ks" ] || fail "$node: no kickstart read: $(marker "$log" ks || true)"
    grep -q "kickstart: node $node ($role) of site lab3" <<<"$ks" || fail "$node: not $node's own kickstart: $(head -3 <<<"$ks")"
    picked=$(marker "$log" node || true)
    [ "$picked" = "$node" ] || fail "$node: %pre picked '$picked'"
    # %pre found no repository on media (none) and took the one beside inst.repo's tree.
    pre_ok "$log" "${url}airstrap/repo" || fail "$node: %pre did not succeed (see pre_ok above)"
}

# ---- the site, its mirror, the PXE tree ----------------------------------------------------
mkdir -p "$WORK/el7"
sed -e "s|^  vendor_iso: .*|  vendor_iso: $BOOT/el7-dvd.iso|" \
    -e "s|^      tarball: .*|      tarball: $FIXTURES/tarballs/openstack_Q.tar.gz|" \
    "$SRC/examples/lab3/site.yaml" >"$WORK/el7/site.yaml"
make_secrets "$WORK/el7"
# The cloud: section's image, which airstrap mirror carries (a stand-in for cirros).
mkdir -p "$WORK/el7/images"
head -c 300000 /dev/urandom >"$WORK/el7/images/cirros-0.3.4-x86_64-disk.img"
expect_exit 0 "$AIRSTRAP" mirror "$WORK/el7/site.yaml" -o "$WORK/repo7"
PORT=$(free_port)
URL=http://10.0.2.2:$PORT/

# A cloud user (uat) without a password in the secrets: refused at build time, naming the
# user, nothing written (not found at day-1 on the controller).
sed '/^  users:/,$d' "$WORK/el7/secrets.yaml" >"$WORK/no-users.yaml"
chmod 0600 "$WORK/no-users.yaml"
expect_exit 2 "$AIRSTRAP" build pxe "$WORK/el7/site.yaml" -o "$WORK/pxe" --repo "$WORK/repo7" \
    --server-ip 192.168.111.5 --secrets "$WORK/no-users.yaml"
grep -q "no password for cloud user 'uat' (.*site.yaml line [0-9]*): add passwords.users.uat" <<<"$OUT" \
    || fail "build pxe without uat's password: $OUT"
[ ! -e "$WORK/pxe" ] || fail "a build refused for a missing password left $WORK/pxe"

# Outside the management network without the flag: refused, nothing written.
expect_exit 2 "$AIRSTRAP" build pxe "$WORK/el7/site.yaml" -o "$WORK/pxe" --repo "$WORK/repo7" \
    --server-ip 10.0.2.2 --http-port "$PORT"
grep -q "not in the site's management network 'management' (192.168.111.0/24)" <<<"$OUT" || fail "server-ip check: $OUT"
[ ! -e "$WORK/pxe" ] || fail "a refused build left $WORK/pxe"

t0=$(date +%s.%N)
expect_exit 0 "$AIRSTRAP" build pxe "$WORK/el7/site.yaml" -o "$WORK/pxe" --repo "$WORK/repo7" \
    --server-ip 10.0.2.2 --allow-foreign-server-ip --http-port "$PORT" --timeout 1 \
    --append console=ttyS0 --json
echo "build pxe (el7): $(seconds_since "$t0") s"
python3 - "$OUT" <<'PY' || fail "build pxe --json: $OUT"
import json, sys
doc = json.loads(sys.argv[1][sys.argv[1].index("{"):])
assert doc["ok"] and doc["grub"] == "vendor" and doc["entries"] == 3, doc  # one per node
assert doc["kickstarts"] == ["ks/nodes/controller-node.ks", "ks/nodes/network-node.ks", "ks/nodes/compute-node.ks"], doc
assert [m["node"] for m in doc["per_mac"]] == ["controller-node", "network-node", "network-node", "compute-node"], doc
assert doc["repo_files"] > 10 and doc["menu_only_nodes"] == [], doc
PY
P=$WORK/pxe
for f in tftp/pxelinux.0 tftp/ldlinux.c32 tftp/menu.c32 tftp/grubx64.efi tftp/grub.cfg \
         tftp/pxelinux.cfg/default tftp/pxelinux.cfg/01-00-0c-29-5e-12-12 \
         tftp/pxelinux.cfg/01-00-0c-29-2c-6f-79 tftp/grub.cfg-01-00-0c-29-3a-10-10 \
         tftp/images/pxeboot/vmlinuz tftp/images/pxeboot/initrd.img \
         http/.treeinfo http/LiveOS/squashfs.img http/repodata/repomd.xml \
         http/ks/nodes/controller-node.ks http/ks/nodes/network-node.ks http/ks/nodes/compute-node.ks \
         http/airstrap/repo/airstrap.lock http/airstrap/repo.tar \
         dnsmasq.conf nginx.conf README.txt; do
    [ -f "$P/$f" ] || fail "no $f in the PXE tree"
done
# Network installs: each node's own kickstart (0600), no profile that holds several nodes' keys.
[ "$(cd "$P/http/ks" && find . -type f | sort | tr '\n' ' ')" = \
  "./nodes/compute-node.ks ./nodes/controller-node.ks ./nodes/network-node.ks " ] \
    || fail "the PXE tree's kickstarts are not exactly one per node: $(cd "$P/http/ks" && find . -type f)"
for f in "$P"/http/ks/nodes/*.ks; do
    [ "$(stat -c %a "$f")" = 600 ] || fail "$f is not 0600"
done
# Every file of the tree: no secret but each node's own key in its kickstart, and the site
# secret and deploy.sealed in the controller's only.
media_keys "$WORK/el7/site.yaml" "$WORK/el7/secrets.yaml"
check_media "the PXE tree" none="$P" controller-node="$P/http/ks/nodes/controller-node.ks" \
    network-node="$P/http/ks/nodes/network-node.ks" compute-node="$P/http/ks/nodes/compute-node.ks"
xorriso -osirrox on -indev "$BOOT/el7-dvd.iso" -extract /images/pxeboot/initrd.img "$WORK/dvd-initrd.img" \
    >/dev/null 2>&1 || fail "cannot extract the DVD's initrd.img"
cmp -s "$P/tftp/images/pxeboot/initrd.img" "$WORK/dvd-initrd.img" || fail "initrd.img differs from the DVD's"
diff <(cd "$WORK/repo7" && find . -type f | sed 's|^\./||' | sort) <(tar -tf "$P/http/airstrap/repo.tar" | grep -v '/$' | sort) \
    || fail "repo.tar does not hold the mirror's files"

# A rebuild replaces the tree in one rename and leaves nothing beside it.
ino=$(stat -c %i "$P")
expect_exit 0 "$AIRSTRAP" build pxe "$WORK/el7/site.yaml" -o "$P" --repo "$WORK/repo7" \
    --server-ip 10.0.2.2 --allow-foreign-server-ip --http-port "$PORT" --timeout 1 --append console=ttyS0
[ "$(stat -c %i "$P")" != "$ino" ] || fail "the rebuild did not swap a new tree in"
[ -z "$(ls -A "$WORK" | grep -F '.pxe.')" ] || fail "leftovers beside the tree: $(ls -A "$WORK")"

# ---- 1. QEMU's DHCP/TFTP, HTTP from `airstrap serve --http-only` on 127.0.0.1 -----------------
# As root, serve runs nginx's workers and dnsmasq as the tree's owner: a tree owned by root is
# refused (they would run as root); given to nobody, they run as nobody.
if [ "$(id -u)" -eq 0 ]; then
    expect_exit 2 "$AIRSTRAP" serve "$P" --http-only --listen 127.0.0.1
    grep -q "$P/http is owned by root (uid 0, gid 0): nginx's workers and dnsmasq .* will not run as root.*chown -R" <<<"$OUT" \
        || fail "serve on a tree owned by root: $OUT"
    give_to_nobody "$P"
fi
"$AIRSTRAP" serve "$P" --http-only --listen 127.0.0.1 >"$WORK/serve-http.log" 2>&1 &
SERVE_PIDS+=($!)
wait_http "http://127.0.0.1:$PORT/.treeinfo" || fail "nginx did not come up:"$'\n'"$(cat "$WORK/serve-http.log")"
curl -fsS "http://127.0.0.1:$PORT/airstrap/repo.tar" -o "$WORK/repo.tar" && tar -tf "$WORK/repo.tar" | grep -x repodata/repomd.xml >/dev/null \
    || fail "http://…/airstrap/repo.tar has no repodata/repomd.xml"
# boot-lib isolates the guest (restrict=on); this test lets it reach slirp's gateway, i.e.
# the host's loopback, where nginx listens. Its only URLs are 10.0.2.2 ones.
BOOT_NETDEV_OPTS=",restrict=off"
truncate -s 1M "$WORK/disk.img"   # a disk for the node (and the stand-in stops waiting for one)
DISK=(-drive "if=virtio,format=raw,file=$WORK/disk.img")

boot_pxe_qemu "$P/tftp" pxelinux.0 bios "$COMPUTE_MAC" "$WORK/bios.log" "${DISK[@]}" \
    || fail "BIOS PXE boot failed; serial log:"$'\n'"$(tail -c 3000 "$WORK/bios.log")"
echo "boot pxe bios (QEMU TFTP, compute-node): ${BOOT_SECONDS} s"
check_boot "$WORK/bios.log" compute-node compute "$URL"
grep -q "GET /ks/nodes/compute-node.ks HTTP/1.[01]\" 200" "$WORK/serve-http.log" || fail "nginx did not serve compute-node.ks: $(cat "$WORK/serve-http.log")"
if [ "$(id -u)" -eq 0 ]; then
    [ "$(users_of nginx-workers "${SERVE_PIDS[0]}")" = "nobody " ] \
        || fail "nginx's workers run as '$(users_of nginx-workers "${SERVE_PIDS[0]}")', not nobody"
fi

boot_pxe_qemu "$P/tftp" grubx64.efi uefi "$CONTROLLER_MAC" "$WORK/uefi.log" "${DISK[@]}" \
    || fail "UEFI PXE boot failed; serial log:"$'\n'"$(tail -c 3000 "$WORK/uefi.log")"
echo "boot pxe uefi (QEMU TFTP, OVMF, controller-node): ${BOOT_SECONDS} s"
check_boot "$WORK/uefi.log" controller-node controller "$URL"
kill -TERM "${SERVE_PIDS[0]}"
wait "${SERVE_PIDS[0]}" || fail "serve --http-only did not stop cleanly on SIGTERM: $(tail -5 "$WORK/serve-http.log")"
grep -q "stopping (Terminated)" "$WORK/serve-http.log" || fail "serve did not log its stop"
SERVE_PIDS=()

# ---- 2. dnsmasq + nginx in a network namespace, the VM on a tap in it --------------------------
netns_skip=
if [ "$(id -u)" -ne 0 ]; then
    netns_skip="not root (ip netns, tap devices)"
elif ! command -v ip >/dev/null; then
    netns_skip="no ip (apt-get install iproute2)"
elif [ ! -c /dev/net/tun ]; then
    netns_skip="no /dev/net/tun"
else
    NS=airstrap-pxe-$$
    ip netns add "$NS" 2>"$WORK/netns.err" || { netns_skip="ip netns add: $(cat "$WORK/netns.err")"; NS=; }
fi
if [ -n "$netns_skip" ]; then
    skip_part "netns: $netns_skip"
    pass "PXE tree built; BIOS and UEFI PXE boots through QEMU's TFTP installed their nodes"
fi
nsx() { ip netns exec "$NS" "$@"; }
{
    nsx ip link set lo up &&
        nsx ip link add br0 type bridge &&
        nsx ip tuntap add dev tap0 mode tap &&
        nsx ip link set tap0 master br0 &&
        nsx ip addr add 192.168.111.1/24 dev br0 &&
        nsx ip link set br0 up &&
        nsx ip link set tap0 up
} 2>"$WORK/netns.err" || {
    skip_part "netns: cannot make a bridge and a tap device in it: $(cat "$WORK/netns.err")"
    pass "PXE tree built; BIOS and UEFI PXE boots through QEMU's TFTP installed their nodes"
}
ip -o addr show | grep >/dev/null "192\.168\.111\." && fail "192.168.111.x appeared in the host's namespace"

NP=$WORK/pxe-ns
NS_URL=http://192.168.111.1:8080/
expect_exit 0 "$AIRSTRAP" build pxe "$WORK/el7/site.yaml" -o "$NP" --repo "$WORK/repo7" \
    --server-ip 192.168.111.1 --timeout 1 --append console=ttyS0
grep -qx "tftp-root=$NP/tftp" "$NP/dnsmasq.conf" || fail "dnsmasq.conf: $(cat "$NP/dnsmasq.conf")"
give_to_nobody "$NP"
ip netns exec "$NS" "$AIRSTRAP" serve "$NP" --interface br0 >"$WORK/serve-ns.log" 2>&1 &  # ip execs: $! is airstrap
SERVE_PIDS+=($!)
wait_http "${NS_URL}.treeinfo" "$NS" || fail "nginx in $NS did not come up:"$'\n'"$(cat "$WORK/serve-ns.log")"
grep -q "dnsmasq: .*TFTP root is $NP/tftp" "$WORK/serve-ns.log" \
    || { sleep 1; grep -q "dnsmasq: .*TFTP root is $NP/tftp" "$WORK/serve-ns.log"; } \
    || fail "dnsmasq did not start:"$'\n'"$(cat "$WORK/serve-ns.log")"

# QEMU inside the namespace, on tap0 (the bridge's other port is dnsmasq's and nginx's side).
cat >"$WORK/qemu-in-ns" <<EOF
#!/bin/sh
exec ip netns exec $NS ${BOOT_QEMU} "\$@"
EOF
chmod +x "$WORK/qemu-in-ns"
saved_qemu=$BOOT_QEMU
BOOT_QEMU=$WORK/qemu-in-ns
_boot_run "$WORK/ns-bios.log" \
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
    -device "e1000,netdev=n0,mac=$COMPUTE_MAC,bootindex=0" "${DISK[@]}" \
    || fail "BIOS PXE boot through dnsmasq failed; serial log:"$'\n'"$(tail -c 3000 "$WORK/ns-bios.log")"$'\n'"serve:"$'\n'"$(tail -20 "$WORK/serve-ns.log")"
BOOT_QEMU=$saved_qemu
echo "boot pxe bios (dnsmasq in a netns, compute-node): ${BOOT_SECONDS} s"
check_boot "$WORK/ns-bios.log" compute-node compute "$NS_URL"
grep -q "DHCPACK(br0) 192.168.111.12 $COMPUTE_MAC compute-node" "$WORK/serve-ns.log" \
    || fail "dnsmasq did not lease 192.168.111.12 to the compute node:"$'\n'"$(grep dnsmasq "$WORK/serve-ns.log" | tail -20)"
grep -q "sent $NP/tftp/pxelinux.cfg/01-00-0c-29-5e-12-12" "$WORK/serve-ns.log" \
    || fail "dnsmasq did not send the compute node's pxelinux config:"$'\n'"$(grep -i tftp "$WORK/serve-ns.log" | tail)"
[ "$(users_of dnsmasq "${SERVE_PIDS[0]}")" = "nobody " ] \
    || fail "dnsmasq runs as '$(users_of dnsmasq "${SERVE_PIDS[0]}")', not nobody"
[ "$(users_of nginx-workers "${SERVE_PIDS[0]}")" = "nobody " ] \
    || fail "nginx's workers run as '$(users_of nginx-workers "${SERVE_PIDS[0]}")', not nobody"
ip -o addr show | grep >/dev/null "192\.168\.111\." && fail "192.168.111.x appeared in the host's namespace"
ip route show | grep >/dev/null "192\.168\.111\." && fail "a 192.168.111.x route appeared in the host's namespace"

kill -TERM "${SERVE_PIDS[0]}"
wait "${SERVE_PIDS[0]}" || fail "serve did not stop cleanly: $(tail -5 "$WORK/serve-ns.log")"
grep -q "stopping (Terminated)" "$WORK/serve-ns.log" || fail "serve in $NS did not log its stop"
SERVE_PIDS=()
pass "PXE tree built; BIOS+UEFI through QEMU's TFTP and BIOS through dnsmasq in a netns installed their nodes, %pre exiting 0 with the repository beside inst.repo"
