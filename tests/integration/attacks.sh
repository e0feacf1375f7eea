#!/usr/bin/env bash
# The attacker's test (issue 16, docs/security.md): lab3's three nodes as in firstboot.sh
# (network namespaces on one switch, real daemons, real sshd), plus an attacker namespace on
# the same management segment. The attacker is tests/tools/attacker.py (raw frames, floods,
# key derivations, deploy.sealed) and the real airstrap-firstboot run on roots it crafted
# from a node's stolen files. Each attack must be refused, and visible in `status`.
#   1. holding compute-node's whole root (its etc/airstrap: site.json, node, node.key):
#      a. it cannot enrol as network-node (from network-node's own address, before that node
#         is up): refused, counted under "unauthenticated attempts" with the address and the
#         name it claimed, nothing about network-node written to enrolled.json;
#      b. it cannot pose as the controller to network-node: see 2 (the fake controller is
#         built from exactly those files);
#      c. it cannot decrypt the controller's deploy.sealed: no 64-hex value in compute's root
#         (nor in network-node's) opens it, as a site secret or as the key itself; the real
#         site secret does (the check can fail);
#   2. a fake controller at 192.168.111.10 (the real one unplugged) running the real daemon
#      with compute's node key as its "site secret" and a site.json naming its own public
#      key: the enrolled network and compute nodes refuse its roster (their authorized_keys
#      and ssh_known_hosts stay byte for byte), and a freshly reinstalled compute node refuses
#      its challenge (no authorized_keys written);
#   3. a squatter on 192.168.111.12 (compute-node's address, compute unplugged) with a key
#      of its own: refused and shown with its address; then the real compute node enrols;
#   4. 300 idle TCP connections (from 75 addresses: the controller allows 4 per address) and
#      a beacon flood (forged beacons naming real and unknown nodes, garbage) held for 30 s: enrolled.json is not touched by it while
#      only the controller is up, then network and compute each enrol within 30 s of their
#      start during the flood, and the controller's log grows by less than 100 KiB;
#   5. an expired rejoin window (site.yaml firstboot.rejoin_window: 60, the window aged)
#      refuses the reinstalled compute node, whose status says the window expired; a fresh
#      `rejoin` lets it in;
#   and: sessions of empty frames, a hello whose type/node/purpose/keys carry newlines and
#   escape sequences (no forged log line, no raw control character in the log), a session
#   from outside the management network (closed at once, before any read) and an idle
#   session from inside (closed after the 2 s first-frame deadline).
# Each scenario's duration is printed. Root only (network namespaces), like firstboot.sh.
source "$(dirname "$0")/common.sh"
: "${AIRSTRAP_FIRSTBOOT:?set AIRSTRAP_FIRSTBOOT to the airstrap-firstboot binary}"
source "$(dirname "$0")/firstboot-lib.sh"
reason=$(fb_skip_reason)
[ -z "$reason" ] || skip "$reason"
python3 -c 'import cryptography.hazmat.primitives.ciphers.aead' 2>/dev/null ||
    skip "no python3 cryptography (apt-get install python3-cryptography)"
ATTACKER=(python3 "$SRC/tests/tools/attacker.py")
POLL=0.2
T_START=$EPOCHREALTIME

seconds_since() { fb_seconds_since "$@"; }
# On failure: every node's and every attacker root's last log lines.
fail() {
    local n
    for n in "${ATK_ROOTS[@]}"; do
        echo "==== attacker root $n: daemon $(fb_daemon_state "$n"); daemon.log (last 15 lines)" >&2
        tail -15 "${FB_ROOT[$n]}/daemon.log" 2>/dev/null >&2 || true
    done
    fb_fail_with_logs "$@"
}
ATK_ROOTS=()

# ---- the site -----------------------------------------------------------------------------
fb_lab3
# Scenario 5: a short rejoin window. fb_lab3 ends site.yaml with its firstboot: block.
printf '  rejoin_window: 60\n' >>"$SITE"
for n in "${FB_NODES[@]}"; do fb_node_config "$SITE" "$n"; done
jget() {  # jget FILE PYTHON-EXPR-ON-d
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
[ "$(jget "$C/etc/airstrap/site.json" 'd["firstboot"]["rejoin_window"]')" = 60 ] ||
    fail "site.json has no firstboot.rejoin_window 60 after adding it to site.yaml"
PORT=$(jget "$C/etc/airstrap/site.json" 'd["firstboot"]["port"]')
SECRET=$(sed -n 's/^site_secret: //p' "$WORK/site/secrets.yaml")
[[ $SECRET =~ ^[0-9a-f]{64}$ ]] || fail "no 64-hex site_secret in secrets.yaml"
K=${FB_ROOT[$CMP]}
CTL_ADDR=${FB_ADDR[$CTL]} NET_ADDR=${FB_ADDR[$NET]} CMP_ADDR=${FB_ADDR[$CMP]}
ATK_ADDR=192.168.111.99   # the attacker's own address on the management network
OUTSIDE=10.66.0.9         # an address outside it, routed to the controller
CTL_NIC=$(awk -v n="$CTL" '$1 == n { print $3 }' "$WORK/nodes.txt")

# The attacker: a namespace with a port on the management bridge. Addresses it takes over
# (another node's) are added and removed as the scenarios go.
ATK=$FB_TAG-atk
_fb_netns_add "$ATK"
# Its NIC has the nodes' management NIC name, and an ens34 like network-node's external NIC,
# so that the real daemon on a stolen root gets as far as enrolment.
ATK_NIC=$CTL_NIC
ip -n "$FB_SWITCH" link add atk0 type veth peer name "$ATK_NIC" netns "$ATK" || fail "veth for the attacker"
ip -n "$FB_SWITCH" link set atk0 master br-mgmt up
ip -n "$ATK" link set "$ATK_NIC" up
ip -n "$ATK" link add ens34 type veth peer name ens34p || fail "an ens34 for the attacker"
ip -n "$ATK" addr add "$ATK_ADDR/24" dev "$ATK_NIC"
ip -n "$ATK" addr add "$OUTSIDE/32" dev "$ATK_NIC"
# A router would do this: the controller can answer the outside address.
ip -n "${FB_NS[$CTL]}" route add "$OUTSIDE/32" dev "$CTL_NIC" || fail "route to $OUTSIDE on the controller"
atk() { ip netns exec "$ATK" "$@"; }
atk_take() { ip -n "$ATK" addr add "$1/24" dev "$ATK_NIC" && neigh_flush; }
atk_drop() { ip -n "$ATK" addr del "$1/24" dev "$ATK_NIC" && neigh_flush; }
# Every namespace forgets who had which address (the attacker's gratuitous ARP, in effect).
neigh_flush() { local ns; for ns in "${FB_NAMESPACES[@]}"; do ip -n "$ns" neigh flush all 2>/dev/null || true; done; }
# unplug NAME / plug NAME: NAME's port on the switch down / up (the node is off / on).
port_of() { local i; for i in "${!FB_NODES[@]}"; do [ "${FB_NODES[$i]}" = "$1" ] && echo "m$i"; done; }
unplug() { ip -n "$FB_SWITCH" link set "$(port_of "$1")" down; neigh_flush; }
plug() { ip -n "$FB_SWITCH" link set "$(port_of "$1")" up; neigh_flush; }

# atk_root NAME FROM: an attacker's copy of FROM's whole root (its disk: etc/airstrap, host
# keys, repository files) with no state, run by the real daemon in the attacker's namespace
# as pseudo-node NAME (fb_start_daemon/fb_status/fb_stop_daemon work on it; fb_start_all
# does not). Chrony answers at once there (the hook's run/fake-chrony).
atk_root() {
    local name=$1 from=$2 root=$WORK/attacker/$1
    rm -rf "$root"
    mkdir -p "$WORK/attacker"
    cp -a "${FB_ROOT[$from]}" "$root"
    rm -rf "$root/var/lib/airstrap" "$root/run" "$root/hook.log" "$root/daemon.log" "$root/var/log/"*
    mkdir -p "$root/run/units" "$root/var/lib"
    chmod 0750 "$root/run"
    cp -p "${FB_ROOT[$from]}"/run/{selinux,rpm-installed} "$root/run/" 2>/dev/null || true
    touch "$root/run/fake-chrony"
    FB_NS[$name]=$ATK FB_ROOT[$name]=$root FB_ROLE[$name]=${FB_ROLE[$from]}
    ATK_ROOTS+=("$name")
}

# The controller's view. unauth_shows ADDRESS [NAME]: its status lists ADDRESS (and the name
# it claimed) under "unauthenticated attempts".
unauth_section() { fb_status "$CTL"; sed -n '/[Uu]nauthenticated attempts/,/^$/p' <<<"$OUT"; }
unauth_shows() {
    local s
    s=$(unauth_section)
    grep -qF -- "$1" <<<"$s" && { [ -z "${2:-}" ] || grep -qF -- "$2" <<<"$s"; }
}
ctl_log() { cat "$C/var/log/airstrap-firstboot.log" 2>/dev/null || true; }
log_size() { stat -c %s "$C/var/log/airstrap-firstboot.log" 2>/dev/null || echo 0; }
enrolled_json() { cat "$C/var/lib/airstrap/enrolled.json" 2>/dev/null || true; }
# node_record NAME: NAME's record in enrolled.json ("" when none).
node_record() {
    python3 - "$C/var/lib/airstrap/enrolled.json" "$1" <<'EOF' 2>/dev/null || true
import json, sys
try:
    doc = json.load(open(sys.argv[1]))
except OSError:
    sys.exit(0)
nodes = doc.get("nodes", {})
rec = nodes.get(sys.argv[2]) if isinstance(nodes, dict) else next((n for n in nodes if n.get("name") == sys.argv[2]), None)
print(json.dumps(rec, sort_keys=True) if rec else "")
EOF
}
enrol_done() { fb_journal_steps "$1" 2>/dev/null | grep -q '^enrol done '; }
status_done() { fb_status "$1"; [ "$RC" -eq 0 ]; }
# node_says NAME PATTERN: NAME's status fails and matches the extended regex (any case).
node_says() { fb_status "$1"; [ "$RC" -ne 0 ] && grep -Eqi -- "$2" <<<"$OUT"; }
files_of() {  # the bytes of a node's authorized_keys and ssh_known_hosts ("absent" if none)
    local f
    for f in root/.ssh/authorized_keys etc/ssh/ssh_known_hosts; do
        echo "== $f"
        cat "${FB_ROOT[$1]}/$f" 2>/dev/null || echo absent
    done
}

# ---- 1c. compute's root does not open deploy.sealed ---------------------------------------
t0=$EPOCHREALTIME
SEALED=$C/etc/airstrap/deploy.sealed
[ -s "$SEALED" ] || fail "the controller has no etc/airstrap/deploy.sealed"
for n in "$CMP" "$NET"; do
    [ ! -e "${FB_ROOT[$n]}/etc/airstrap/deploy.sealed" ] || fail "$n's root holds deploy.sealed"
    [ ! -e "${FB_ROOT[$n]}/etc/airstrap/site.key" ] || fail "$n's root holds site.key (the site secret)"
    grep -rqiF -- "$SECRET" "${FB_ROOT[$n]}" && fail "$n's root holds the site secret"
    if out=$("${ATTACKER[@]}" open-sealed "$SEALED" "${FB_ROOT[$n]}"); then
        fail "deploy.sealed opened with a value from $n's root: $out"
    fi
    echo "1c. $n's root does not open deploy.sealed: $out"
done
printf 'site_secret: %s\n' "$SECRET" >"$WORK/real-secret.txt"
out=$("${ATTACKER[@]}" open-sealed "$SEALED" "$WORK/real-secret.txt") ||
    fail "the site secret itself does not open deploy.sealed (the check above proves nothing): $out"
rm -f "$WORK/real-secret.txt"
echo "1c. (the site secret does: $out) ($(seconds_since "$t0") s)"

# ---- the controller alone; the other two unplugged ----------------------------------------
unplug "$NET"
unplug "$CMP"
fb_start_daemon "$CTL" --poll-interval "$POLL"
ctl_listens() { atk bash -c "exec 3<>/dev/tcp/$CTL_ADDR/$PORT" 2>/dev/null; }
fb_wait 60 "the controller's enrolment service on $CTL_ADDR:$PORT" ctl_listens

# ---- sessions from outside, idle, empty frames, newlines ----------------------------------
t0=$EPOCHREALTIME
log0=$(log_size)
out=$(atk "${ATTACKER[@]}" first-frame "$CTL_ADDR" "$PORT" --source "$OUTSIDE" --timeout 8)
echo "outside ($OUTSIDE): $out"
grep -q "connected=1 closed=1 answered=0" <<<"$out" || fail "a session from $OUTSIDE was not closed unanswered: $out"
secs=${out##*seconds=}
awk -v s="$secs" 'BEGIN { exit !(s < 1.5) }' || fail "a session from $OUTSIDE stayed open ${secs} s (closed before any read: expected well under the 2 s deadline)"
out=$(atk "${ATTACKER[@]}" first-frame "$CTL_ADDR" "$PORT" --timeout 8)
echo "idle ($ATK_ADDR): $out"
grep -q "connected=1 closed=1 answered=0" <<<"$out" || fail "an idle session from $ATK_ADDR was not closed unanswered: $out"
secs=${out##*seconds=}
awk -v s="$secs" 'BEGIN { exit !(s >= 1.5 && s < 6.0) }' || fail "an idle session was closed after ${secs} s (first-frame deadline 2 s)"
out=$(atk "${ATTACKER[@]}" frames "$CTL_ADDR" "$PORT" --count 20)
echo "frames: $out"
grep -q "empty_answered=0 newline_answered=0" <<<"$out" || fail "the controller answered empty or malformed frames: $out"
fb_wait 15 "'$ATK_ADDR' under 'unauthenticated attempts' in the controller's status" unauth_shows "$ATK_ADDR"
fb_wait 15 "'$OUTSIDE' under 'unauthenticated attempts' in the controller's status" unauth_shows "$OUTSIDE"
frames_counted() { unauth_section | grep -F -- "$ATK_ADDR" | grep -Eqi "malformed|empty|length"; }
fb_wait 15 "the empty and malformed frames counted for $ATK_ADDR in the controller's status" frames_counted
if ctl_log | grep -q "^FORGED-LINE"; then fail "a peer's newline forged a line in the controller's log: $(ctl_log | grep -m1 '^FORGED-LINE')"; fi
if ctl_log | grep -q $'[\x01-\x08\x0b-\x1f\x7f]'; then fail "a raw control character in the controller's log: $(ctl_log | grep -m1 $'[\x01-\x08\x0b-\x1f\x7f]' | cat -v)"; fi
for a in "$ATK_ADDR" "$OUTSIDE"; do
    if enrolled_json | grep -qF -- "$a"; then fail "enrolled.json records $a: $(enrolled_json)"; fi
done
grew=$(($(log_size) - log0))
echo "malformed sessions: refused, counted in status; the log grew $grew bytes; $(unauth_section | grep -F -m1 -- "$ATK_ADDR") ($(seconds_since "$t0") s)"

# ---- 1a. compute's root claims network-node, from network-node's address ------------------
t0=$EPOCHREALTIME
atk_root thief "$CMP"
echo network-node >"${FB_ROOT[thief]}/etc/airstrap/node"
atk_take "$NET_ADDR"
FB_ADDR[thief]=$NET_ADDR
fb_start_daemon thief --poll-interval "$POLL"
fb_wait 30 "the controller's status to count $NET_ADDR claiming network-node" unauth_shows "$NET_ADDR" network-node
fb_wait 10 "the thief's status to say it was refused" node_says thief "refus|verif|proof|enrol"
echo "1a. compute's key as network-node: refused; thief's status: $(grep -Ei -m1 'refus|verif|proof|enrol' <<<"$OUT")"
enrol_done thief && fail "the thief's journal says enrol done"
[ -z "$(node_record "$NET")" ] || fail "enrolled.json has a record for network-node after the thief: $(node_record "$NET")"
grep -qF -- "$NET_ADDR" "$C/var/lib/airstrap/enrolled.json" 2>/dev/null &&
    fail "enrolled.json records the thief's address: $(enrolled_json)"
fb_stop_daemon thief || true
atk_drop "$NET_ADDR"
echo "1a. controller: $(unauth_section | grep -F -m1 -- "$NET_ADDR") ($(seconds_since "$t0") s)"

# ---- 3. a squatter on compute's address, with a key of its own ----------------------------
t0=$EPOCHREALTIME
atk_root squatter "$CMP"
openssl rand -hex 32 >"${FB_ROOT[squatter]}/etc/airstrap/node.key"
rm -f "${FB_ROOT[squatter]}"/etc/ssh/ssh_host_*
ssh-keygen -A -f "${FB_ROOT[squatter]}" >/dev/null
atk_take "$CMP_ADDR"
FB_ADDR[squatter]=$CMP_ADDR
fb_start_daemon squatter --poll-interval "$POLL"
fb_wait 30 "the controller's status to count $CMP_ADDR claiming compute-node" unauth_shows "$CMP_ADDR" compute-node
fb_wait 10 "the squatter's status to say it was refused" node_says squatter "refus|verif|proof|enrol"
enrol_done squatter && fail "the squatter's journal says enrol done"
if grep -q '"enrolled": *true' <<<"$(node_record "$CMP")"; then
    fail "enrolled.json enrolled compute-node for the squatter: $(node_record "$CMP")"
fi
fb_stop_daemon squatter || true
atk_drop "$CMP_ADDR"
echo "3. squatter refused: $(unauth_section | grep -F -m1 -- "$CMP_ADDR") ($(seconds_since "$t0") s)"
# (the real compute node enrols in 4, under the flood)

# ---- 4. the flood: 300 idle connections and forged beacons for 30 s -----------------------
t0=$EPOCHREALTIME
before=$(enrolled_json)
mtime0=$(stat -c %y "$C/var/lib/airstrap/enrolled.json" 2>/dev/null || echo absent)
log0=$(log_size)
# From 75 addresses (4 sessions each is what the controller allows one address), so that
# all 300 can be held at once, not only refused at the door.
flood_sources=()
for i in $(seq 100 174); do
    ip -n "$ATK" addr add "192.168.111.$i/24" dev "$ATK_NIC"
    flood_sources+=("192.168.111.$i")
done
sources=$(IFS=,; echo "${flood_sources[*]}")
atk "${ATTACKER[@]}" flood "$CTL_ADDR" "$PORT" --idle 300 --seconds 30 --sources "$sources" \
    --names "$CTL,$NET,$CMP" --broadcast 192.168.111.255 >"$WORK/flood.out" 2>&1 &
flood_pid=$!
sleep 8
flood_touched() {
    [ "$(enrolled_json)" != "$before" ] ||
        [ "$(stat -c %y "$C/var/lib/airstrap/enrolled.json" 2>/dev/null || echo absent)" != "$mtime0" ]
}
! flood_touched ||
    fail "enrolled.json changed during the flood with no node up:"$'\n'"before: $before"$'\n'"after: $(enrolled_json)"
echo "4. 8 s of flood: enrolled.json untouched"
plug "$NET"
plug "$CMP"
t1=$EPOCHREALTIME
fb_start_daemon "$NET" --poll-interval "$POLL"
fb_start_daemon "$CMP" --poll-interval "$POLL"
fb_wait 30 "network-node to enrol during the flood" enrol_done "$NET"
fb_wait 30 "compute-node to enrol during the flood" enrol_done "$CMP"
echo "4. both enrolled under the flood $(seconds_since "$t1") s after their start"
kill -0 "$flood_pid" 2>/dev/null || fail "the flood ended before both nodes enrolled: $(cat "$WORK/flood.out")"
wait "$flood_pid" || fail "the flood failed: $(cat "$WORK/flood.out")"
echo "4. flood: $(cat "$WORK/flood.out")"
grep -Eq "opened=([3-9][0-9]{2}|[0-9]{4,})" "$WORK/flood.out" || fail "the flood opened fewer than 300 connections: $(cat "$WORK/flood.out")"
grew=$(($(log_size) - log0))
((grew < 102400)) || fail "the controller's log grew $grew bytes during the flood (limit 100 KiB)"
enrolled_json | grep -qF "ghost-" && fail "enrolled.json names a node only forged beacons named: $(enrolled_json)"
grep -qF -- "$ATK_ADDR" "$C/var/lib/airstrap/enrolled.json" && fail "enrolled.json records the attacker: $(enrolled_json)"
for n in "$NET" "$CMP"; do
    grep -q '"last_refusal": *""' <<<"$(node_record "$n")" ||
        fail "$n's record carries a refusal after the flood and the attacks: $(node_record "$n")"
done
fb_wait 15 "'${flood_sources[0]}' under 'unauthenticated attempts' after the flood" unauth_shows "${flood_sources[0]}"
for a in "${flood_sources[@]}"; do
    if enrolled_json | grep -qF -- "\"$a\""; then fail "enrolled.json records $a: $(enrolled_json)"; fi
    ip -n "$ATK" addr del "$a/24" dev "$ATK_NIC"
done
echo "4. log grew $grew bytes; $(unauth_section | grep -F -m1 -- "${flood_sources[0]}") ($(seconds_since "$t0") s)"

# ---- 2. a fake controller at the controller's address -------------------------------------
t0=$EPOCHREALTIME
fb_wait 90 "network-node's status to say done" status_done "$NET"
fb_wait 90 "compute-node's status to say done" status_done "$CMP"
for n in "$NET" "$CMP"; do files_of "$n" >"$WORK/files.$n"; done
grep -q "ssh-" "$WORK/files.$CMP" || fail "compute-node has no keys to protect: $(cat "$WORK/files.$CMP")"
# Built from compute's files: its node key is the fake's "site secret"; the fake's site.json
# names the public key that secret gives, or the daemon would not start as the controller.
atk_root fake "$CMP"
F=${FB_ROOT[fake]}
stolen=$(tr -d '\n' <"$F/etc/airstrap/node.key")
echo "$CTL" >"$F/etc/airstrap/node"
printf '%s\n' "$stolen" >"$F/etc/airstrap/site.key"
"${ATTACKER[@]}" derive "$stolen" "$CTL" >"$F/etc/airstrap/node.key"
fake_pub=$("${ATTACKER[@]}" controller-key "$stolen")
python3 - "$F/etc/airstrap/site.json" "$fake_pub" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["firstboot"]["controller_key"] = sys.argv[2]
json.dump(d, open(sys.argv[1], "w"), indent=2)
EOF
cp -a "$C/opt/airstrap/repo/images" "$F/opt/airstrap/repo/" 2>/dev/null || true
unplug "$CTL"
atk_take "$CTL_ADDR"
FB_ADDR[fake]=$CTL_ADDR
fb_start_daemon fake --poll-interval "$POLL"
fake_listens() { atk bash -c "exec 3<>/dev/tcp/$CTL_ADDR/$PORT" 2>/dev/null; }
fb_wait 30 "the fake controller's enrolment service" fake_listens
marks=()  # from here on, every roster check reaches the fake (not a connection failure)
for n in "$NET" "$CMP"; do marks+=("$(wc -l <"${FB_ROOT[$n]}/var/log/airstrap-firstboot.log")"); done
# Each enrolled node asks the roster every 30 polls (6 s here): two refused rounds each.
roster_refused() {
    local n=$1 mark=$2
    [ "$(tail -n +"$((mark + 1))" "${FB_ROOT[$n]}/var/log/airstrap-firstboot.log" | grep -Eic "roster.*(signature|signed|verif)|(signature|verif).*controller")" -ge 2 ]
}
fb_wait 40 "network-node to refuse the fake controller's roster twice" roster_refused "$NET" "${marks[0]}"
fb_wait 40 "compute-node to refuse the fake controller's roster twice" roster_refused "$CMP" "${marks[1]}"
for n in "$NET" "$CMP"; do
    [ "$(files_of "$n")" = "$(cat "$WORK/files.$n")" ] ||
        fail "$n's authorized_keys or ssh_known_hosts changed under the fake controller:"$'\n'"$(diff <(cat "$WORK/files.$n") <(files_of "$n"))"
    [ -s "$F/root/.ssh/id_ed25519.pub" ] && grep -qF "$(cut -d' ' -f2 "$F/root/.ssh/id_ed25519.pub")" "${FB_ROOT[$n]}/root/.ssh/authorized_keys" &&
        fail "$n trusts the fake controller's root key"
done
echo "2. enrolled nodes refuse the fake's roster: $(tail -n +"$((marks[1] + 1))" "$K/var/log/airstrap-firstboot.log" | grep -Ei -m1 'signature|verif' | cut -c1-200)"

# ... and a reinstalled compute node (new disk, new host keys) refuses its challenge.
old_keys=$(cat "$K"/etc/ssh/ssh_host_*_key.pub | cut -d' ' -f1,2 | sort)
fb_reinstall "$SITE" "$CMP" "$WORK/compute-old-root"
[ "$(cat "$K"/etc/ssh/ssh_host_*_key.pub | cut -d' ' -f1,2 | sort)" != "$old_keys" ] || fail "the reinstalled compute node kept its host keys"
fb_start_daemon "$CMP" --poll-interval "$POLL"
fb_wait 40 "the reinstalled compute node to refuse the fake controller" node_says "$CMP" "signature|not the controller|verif"
echo "2. reinstalled compute refuses the fake; its status (exit $RC): $(grep -Ei -m1 'signature|not the controller|verif' <<<"$OUT" | cut -c1-200)"
enrol_done "$CMP" && fail "the reinstalled compute node enrolled with the fake controller"
[ ! -s "$K/root/.ssh/authorized_keys" ] || fail "the reinstalled compute node wrote authorized_keys from the fake: $(cat "$K/root/.ssh/authorized_keys")"
[ ! -s "$K/etc/ssh/ssh_known_hosts" ] || fail "the reinstalled compute node wrote ssh_known_hosts from the fake: $(cat "$K/etc/ssh/ssh_known_hosts")"
fb_stop_daemon fake || true
fb_stop_daemon "$CMP" || true
atk_drop "$CTL_ADDR"
plug "$CTL"
echo "2. fake controller refused by every node ($(seconds_since "$t0") s)"

# ---- 5. an expired rejoin window ----------------------------------------------------------
t0=$EPOCHREALTIME
expect_exit 0 fb_in "$CTL" "$AIRSTRAP_FIRSTBOOT" rejoin "$CMP" --root "$C"
echo "5. rejoin: $OUT"
# age_windows: every time in the controller's rejoin windows two hours back (JSON numbers
# that look like Unix times, or a file that is one), and the files' mtime with them.
age_windows() {
    local f
    for f in "$C"/var/lib/airstrap/rejoin/*; do
        [ -f "$f" ] || fail "no rejoin window in $C/var/lib/airstrap/rejoin after airstrap-firstboot rejoin"
        python3 - "$f" <<'EOF'
import json, sys
p = sys.argv[1]
text = open(p).read()
def age(v):
    if isinstance(v, dict):
        return {k: age(x) for k, x in v.items()}
    if isinstance(v, list):
        return [age(x) for x in v]
    if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 1_000_000_000:
        return type(v)(v - 7200)
    return v
try:
    doc = json.loads(text)
except ValueError:
    sys.exit(f"{p}: not JSON: {text!r}")
open(p, "w").write(json.dumps(age(doc)) + "\n")
EOF
        touch -d '-2 hours' "$f"
    done
}
age_windows
fb_start_daemon "$CMP" --poll-interval "$POLL"
fb_wait 30 "the reinstalled compute node's status to say its rejoin window expired" node_says "$CMP" "window.*expired|expired.*window"
echo "5. expired window: compute's status (exit $RC): $(grep -Ei -m1 'expired' <<<"$OUT" | cut -c1-200)"
grep -q "rejoin" <<<"$OUT" || fail "compute's status does not say to run rejoin again: $OUT"
enrol_done "$CMP" && fail "the reinstalled compute node enrolled through an expired window"
ctl_shows_cmp() { fb_status "$CTL"; grep -F -- "$CMP" <<<"$OUT" | grep -qi "refus\|expired"; }
fb_wait 10 "the controller's status to show compute-node refused" ctl_shows_cmp
fb_stop_daemon "$CMP" || true
expect_exit 0 fb_in "$CTL" "$AIRSTRAP_FIRSTBOOT" rejoin "$CMP" --root "$C"
fb_start_daemon "$CMP" --poll-interval "$POLL"
fb_wait 30 "the reinstalled compute node to enrol through a fresh window" enrol_done "$CMP"
echo "5. a fresh window lets it in ($(seconds_since "$t0") s)"

fb_stop_all
fb_no_site_addresses_on_host 192.168.111.
pass "attacks: stolen compute root, fake controller, squatter, flood, expired rejoin window, malformed and outside sessions all refused ($(seconds_since "$T_START") s)"
