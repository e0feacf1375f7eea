#!/usr/bin/env bash
# airstrap-firstboot end to end: the lab3 site's three nodes, each a network namespace with
# a real sshd (tests/integration/firstboot-lib.sh), the real daemon in each, every system
# command through tests/integration/firstboot-hook.sh (chronyd and ssh real, the rest
# recorded). The site's 192.168.111.x addresses exist only in those namespaces.
#   1. the three nodes come up: enrolment, root key on every node, every host key pinned in
#      the controller's and the compute node's ssh_known_hosts, chrony synchronised to the
#      controller, strict ssh from the controller to every node, the role steps recorded;
#   2. kill -9 of a node's daemon while it works (first step, then the chrony wait): it
#      resumes from its journal and converges;
#   3. a node with a wrong node.key is refused (its proof does not verify), saying so, without
#      any key in a log; with the right one back it enrols;
#   4. a reinstalled compute node (new host keys) is refused until `airstrap-firstboot rejoin`
#      on the controller; then its new keys replace the old ones everywhere;
#   5. the network node's repository file removed, then its metadata: the daemon's repository
#      check fails saying so (the hook's yum is Debian's dnf on the root's own repo files).
# Each scenario's duration is printed. FB_KERNEL310=1 (integration.firstboot-kernel310): every
# airstrap-firstboot command under tests/tools/kernel310, as CentOS 7's 3.10 kernel answers it
# (firstboot-lib.sh), and after scenario 1 a check that the filter held each daemon.
source "$(dirname "$0")/common.sh"
: "${AIRSTRAP_FIRSTBOOT:?set AIRSTRAP_FIRSTBOOT to the airstrap-firstboot binary}"
source "$(dirname "$0")/firstboot-lib.sh"
reason=$(fb_skip_reason)
[ -z "$reason" ] || skip "$reason"

POLL=0.2  # the daemons' --poll-interval
# the controller's check, as the hook records it (the daemon may add its sandbox's key and
# known-hosts options; the hook puts the same in front of them)
SSH_CHECK="ssh -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10"
ssh_checks() {  # ssh_checks ADDRESS: the controller's successful strict checks of ADDRESS
    grep -E " rc=0 ssh .*-o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10( .*)? root@${1//./\\.} true\$" "$C/hook.log"
}

# On failure, every node's last log lines and commands.
fail() { fb_fail_with_logs "$@"; }
seconds_since() { fb_seconds_since "$@"; }

# ---- the site and its nodes ---------------------------------------------------------------
# The controller deploys after these steps too (tests/integration/deploy.sh tests that).
fb_lab3
SECRET=$(sed -n 's/^site_secret: //p' "$WORK/site/secrets.yaml")
[[ $SECRET =~ ^[0-9a-f]{64}$ ]] || fail "no 64-hex site_secret in secrets.yaml"
WRONG_KEY=$(openssl rand -hex 32)
fb_no_site_addresses_on_host 192.168.111.

# host_keys NAME: "type base64" of every host key of the node, sorted.
host_keys() { cat "${FB_ROOT[$1]}"/etc/ssh/ssh_host_*_key.pub | cut -d' ' -f1,2 | sort; }
# known_keys FILE ADDRESS: "type base64" of every key FILE lists for ADDRESS, sorted.
known_keys() { ssh-keygen -F "$2" -f "$1" 2>/dev/null | grep -v '^#' | awk '{print $2, $3}' | sort; }
tracking() { fb_chronyc "$1" -n tracking 2>/dev/null; }
synced_to_controller() {
    local t
    t=$(tracking "$1") || return 1
    grep -q "^Reference ID *: C0A86F0A (${FB_ADDR[$CTL]})" <<<"$t" && grep -q "^Leap status *: Normal" <<<"$t"
}
# wait_status NAME SECONDS: status --wait on NAME; fails unless it says done (exit 0).
wait_status() {
    fb_status "$1" --wait --timeout "$2"
    [ "$RC" -eq 0 ] || fail "$1: status --wait --timeout $2 exited $RC:"$'\n'"$OUT"
}
# wait_done NAME SECONDS: until NAME's status exits 0. Unlike status --wait, which ends at the
# first failed step, this lets a step that is being retried succeed.
status_done() { fb_status "$1"; [ "$RC" -eq 0 ]; }
wait_done() {
    fb_wait "$2" "$1's status to say done" status_done "$1"
}
# log_lines_since NAME MARK: the node's daemon log after the line count MARK.
log_lines_since() { tail -n +"$(($2 + 1))" "${FB_ROOT[$1]}/var/log/airstrap-firstboot.log" 2>/dev/null; }
log_mark() { wc -l <"${FB_ROOT[$1]}/var/log/airstrap-firstboot.log" 2>/dev/null || echo 0; }

# ---- 1. three nodes come up ---------------------------------------------------------------
t0=$EPOCHREALTIME
fb_start_all --poll-interval "$POLL"
wait_status "$CTL" 240  # day1 through the stand-ins: ~40 s idle, minutes on a loaded machine
echo "1. three nodes done (controller's status --wait): $(seconds_since "$t0") s"
for n in "${FB_NODES[@]}"; do
    fb_daemon_alive "$n" || fail "$n: the daemon exited; it stays up when done"
    fb_status "$n"
    [ "$RC" -eq 0 ] || fail "$n: status exited $RC:"$'\n'"$OUT"
done
# Each node pinged its peers on the management network (real ping in its namespace, the
# cabling step) and the controller's status shows the links matrix: every node "ok".
fb_status "$CTL"
matrix=$(sed -n '/^links (each node/,/^$/p' <<<"$OUT")
for n in "${FB_NODES[@]}"; do
    grep -Eq "^$n( +-)* +ok( +-)*\$" <<<"$matrix" || fail "the controller's links matrix has no 'ok' row for $n:"$'\n'"$OUT"
    grep -q "rc=0 ping .* -I [a-z0-9]* ${FB_ADDR[$CTL]}\$" "${FB_ROOT[$n]}/hook.log" 2>/dev/null || [ "$n" = "$CTL" ] ||
        fail "$n: no ping of the controller in its hook.log"
done
fb_status "$CTL" --json
python3 -c 'import json,sys; json.loads(sys.argv[1])' "$OUT" || fail "status --json is not JSON: $OUT"

# The controller checked ssh to every node, strictly, through the sandbox's real ssh.
for n in "${FB_NODES[@]}"; do
    ssh_checks "${FB_ADDR[$n]}" >/dev/null ||
        fail "no successful '$SSH_CHECK root@${FB_ADDR[$n]} true' in the controller's hook.log"
done
# The controller's root key is on every node.
[ -s "$C/root/.ssh/id_ed25519.pub" ] || fail "the controller has no root key"
ctl_key=$(cut -d' ' -f1,2 "$C/root/.ssh/id_ed25519.pub")
for n in "${FB_NODES[@]}"; do
    grep -qF "$ctl_key" "${FB_ROOT[$n]}/root/.ssh/authorized_keys" 2>/dev/null ||
        fail "$n: the controller's root key is not in its authorized_keys"
done
# Every node's actual host keys, and only those, in the controller's and compute's known hosts.
for holder in "$CTL" "$CMP"; do
    kh=${FB_ROOT[$holder]}/etc/ssh/ssh_known_hosts
    [ -s "$kh" ] || fail "$holder: no ssh_known_hosts"
    for n in "${FB_NODES[@]}"; do
        [ "$(known_keys "$kh" "${FB_ADDR[$n]}")" = "$(host_keys "$n")" ] ||
            fail "$holder's ssh_known_hosts for $n (${FB_ADDR[$n]}):"$'\n'"$(known_keys "$kh" "${FB_ADDR[$n]}")"$'\n'"its host keys:"$'\n'"$(host_keys "$n")"
    done
done
# Not the hook being lenient: our own strict ssh from the controller's namespace.
for n in "${FB_NODES[@]}"; do
    fb_ssh "$CTL" "$n" true 2>"$WORK/ssh.err" || fail "strict ssh $CTL → $n: $(cat "$WORK/ssh.err")"
done
# chrony: the controller serves its own clock, the others follow it.
grep -q "^local stratum" "$C/etc/chrony.conf" || fail "controller's chrony.conf has no 'local stratum'"
grep -q "^allow 192.168.111.0/24" "$C/etc/chrony.conf" || fail "controller's chrony.conf does not allow 192.168.111.0/24"
for n in "$NET" "$CMP"; do
    grep -q "^server ${FB_ADDR[$CTL]} iburst" "${FB_ROOT[$n]}/etc/chrony.conf" || fail "$n's chrony.conf has no 'server ${FB_ADDR[$CTL]} iburst'"
    synced_to_controller "$n" || fail "$n: chronyd is not synchronised to the controller:"$'\n'"$(tracking "$n")"
done
# The role steps ran the commands the seed's manual steps were.
grep -q "rc=0 rpm -e --nodeps libvirt-daemon-config-network\$" "${FB_ROOT[$CMP]}/hook.log" ||
    fail "compute: no rpm -e --nodeps libvirt-daemon-config-network"
grep -q "rc=0 setenforce 0\$" "${FB_ROOT[$CMP]}/hook.log" || fail "compute (Enforcing at first): no setenforce 0"
for n in "${FB_NODES[@]}"; do
    grep -q "rc=0 systemctl disable --now firewalld\$" "${FB_ROOT[$n]}/hook.log" || fail "$n: no systemctl disable --now firewalld"
    grep -q "rc=0 hostname $n\.lab\.local\$" "${FB_ROOT[$n]}/hook.log" || fail "$n: no hostname $n.lab.local"
    grep " rc=127 " "${FB_ROOT[$n]}/hook.log" && fail "$n: the daemon ran a command the sandbox does not model (above)"
done
ext_link=$(fb_in "$NET" ip -o link show dev ens34)
grep -q "[<,]UP[,>]" <<<"$ext_link" || fail "network node: ens34 is not up: $ext_link"
[ -z "$(fb_in "$NET" ip -o -4 addr show dev ens34)" ] || fail "network node: ens34 has an IPv4 address: $(fb_in "$NET" ip -o -4 addr show dev ens34)"
fb_no_site_addresses_on_host 192.168.111.
echo "1. checked: keys, known hosts, strict ssh, chrony, role steps ($(seconds_since "$t0") s)"
if [ "$FB_KERNEL310" = 1 ]; then  # FB_KERNEL310=1: the 3.10 filter really held every daemon
    for n in "${FB_NODES[@]}"; do fb_kernel310_check "$n"; done
    echo "1. 3.10 filter: every daemon under seccomp, refused getrandom (ENOSYS), on /dev/urandom"
fi

# ---- 2. kill -9 mid-run, twice; the journal resumes -----------------------------------------
t0=$EPOCHREALTIME
rc=0
fb_stop_daemon "$CMP" || rc=$?
[ "$rc" -eq 0 ] || fail "compute: the daemon exited $rc on SIGTERM (expected 0: stopped cleanly)"
before=$(fb_journal_steps "$CMP")
first_step=${before%% *}
[ -n "$first_step" ] || fail "compute: empty journal"
# as after a reboot: chronyd not running yet, so chrony_wait has to wait for it
kill "$(cat "${FB_ROOT[$CMP]}/run/chronyd.pid")" || fail "compute: no chronyd to stop"
fb_start_daemon "$CMP" --poll-interval "$POLL" --rerun "$first_step"
# killed as soon as the journal shows a step of this run done or running
step_moved() { [ "$(fb_journal_steps "$CMP" 2>/dev/null)" != "$before" ]; }
fb_wait 30 "compute's journal to change after --rerun $first_step" step_moved
fb_kill_daemon "$CMP"
echo "2. killed -9 after: $(fb_journal_steps "$CMP" | grep -v ' pending ' | tr '\n' ';')"
fb_start_daemon "$CMP" --poll-interval "$POLL"
chrony_wait_running() { local j; j=$(fb_journal_steps "$CMP" 2>/dev/null) && grep -q '^chrony_wait running ' <<<"$j"; }
fb_wait 60 "compute's chrony_wait step to run" chrony_wait_running
fb_kill_daemon "$CMP"
echo "2. killed -9 during: $(fb_journal_steps "$CMP" | grep -v ' pending ' | tr '\n' ';')"
fb_start_daemon "$CMP" --poll-interval "$POLL"
wait_status "$CMP" 60
fb_journal_steps "$CMP" >"$WORK/journal.txt"
grep -vq ' done ' "$WORK/journal.txt" && fail "compute: not every step done: $(cat "$WORK/journal.txt")"
grep -Eq '^chrony_wait done ([2-9]|[1-9][0-9])$' "$WORK/journal.txt" ||
    fail "compute: chrony_wait was interrupted but its journal entry shows no second attempt: $(cat "$WORK/journal.txt")"
wait_status "$CTL" 90
echo "2. compute converged after two kill -9: $(tr '\n' ';' <"$WORK/journal.txt") ($(seconds_since "$t0") s)"

# ---- 3. a wrong node key ----------------------------------------------------------------------
t0=$EPOCHREALTIME
fb_stop_daemon "$CMP" || true
mark=$(log_mark "$CTL")
K=${FB_ROOT[$CMP]}
[ ! -e "$K/etc/airstrap/site.key" ] || fail "compute-node holds a site.key: only the controller may"
cp -p "$K/etc/airstrap/node.key" "$WORK/node.key.good"
printf '%s\n' "$WRONG_KEY" >"$K/etc/airstrap/node.key"
mv "$K/var/lib/airstrap" "$WORK/compute-state"  # not enrolled yet: it must prove its key
fb_start_daemon "$CMP" --poll-interval "$POLL"
refused() {
    fb_status "$CMP"
    [ "$RC" -ne 0 ] && grep -qi "proof does not verify" <<<"$OUT"
}
fb_wait 30 "compute's status to say that its proof does not verify" refused
echo "3. wrong node key: compute's status exits $RC and says: $(grep -i "proof does not verify" <<<"$OUT" | sed -n 1,2p | cut -c1-200)"
refusal_lines() {  # the controller's log lines since $mark about compute being turned away
    local lines
    lines=$(log_lines_since "$CTL" "$mark")
    grep -Ei "compute-node|192\.168\.111\.12" <<<"$lines" | grep -Ei "secret|refus|authent|reject|does not verify|failed in the last minute" || true
}
controller_logged_refusal() { [ -n "$(refusal_lines)" ]; }
fb_wait 70 "a line in the controller's log about compute's failed enrolment (the guard says an address's failures once a minute)" controller_logged_refusal
echo "3. controller: $(refusal_lines | sed -n 1p)"
fb_status "$CTL"
echo "3. controller's status while compute is refused: exit $RC"
fb_stop_daemon "$CMP" || true
cp -p "$WORK/node.key.good" "$K/etc/airstrap/node.key"
rm -rf "$K/var/lib/airstrap"
mv "$WORK/compute-state" "$K/var/lib/airstrap"
fb_start_daemon "$CMP" --poll-interval "$POLL"
wait_status "$CMP" 60
wait_status "$CTL" 90
echo "3. right node key back: compute done again ($(seconds_since "$t0") s)"

# ---- 4. a reinstalled compute node: new host keys, refused until rejoin -----------------------
t0=$EPOCHREALTIME
old_keys=$(host_keys "$CMP")
fb_reinstall "$SITE" "$CMP" "$WORK/compute-old-root"
new_keys=$(host_keys "$CMP")
[ "$new_keys" != "$old_keys" ] || fail "the reinstalled compute node has its old host keys"
mark=$(log_mark "$CTL")
fb_start_daemon "$CMP" --poll-interval "$POLL"
says_rejoin() {
    fb_status "$CMP"
    [ "$RC" -ne 0 ] && grep -qi "host key" <<<"$OUT" && grep -q "rejoin" <<<"$OUT"
}
fb_wait 30 "the reinstalled compute node's status to say its host key changed and name 'rejoin'" says_rejoin
echo "4. reinstalled compute refused; its status (exit $RC): $(grep -i -m2 'host key\|rejoin' <<<"$OUT" | tr '\n' ' ')"
fb_status "$CTL"
echo "4. controller's status (exit $RC): $(grep -i -m2 'host key\|rejoin' <<<"$OUT" | tr '\n' ' ')"
grep -q "rejoin" <<<"$OUT" || echo "4. note: the controller's status does not mention rejoin"
mapfile -t k310 < <(fb_kernel310 "$C")  # FB_KERNEL310=1: rejoin under the 3.10 filter too
expect_exit 0 fb_in "$CTL" "${k310[@]}" "$AIRSTRAP_FIRSTBOOT" rejoin "$CMP" --root "$C"
echo "4. rejoin: $OUT"
wait_done "$CMP" 60
wait_done "$CTL" 90  # its checks again (dnf, ssh to each node): slow on a loaded machine
for holder in "$CTL" "$CMP"; do
    kh=${FB_ROOT[$holder]}/etc/ssh/ssh_known_hosts
    [ "$(known_keys "$kh" "${FB_ADDR[$CMP]}")" = "$new_keys" ] ||
        fail "$holder's ssh_known_hosts for the reinstalled compute node:"$'\n'"$(known_keys "$kh" "${FB_ADDR[$CMP]}")"$'\n'"its new host keys:"$'\n'"$new_keys"
done
while read -r type b64; do
    grep -qF "$b64" "$C/etc/ssh/ssh_known_hosts" && fail "the compute node's old $type key is still in the controller's ssh_known_hosts"
done <<<"$old_keys"
grep -qF "$ctl_key" "${FB_ROOT[$CMP]}/root/.ssh/authorized_keys" || fail "the reinstalled compute node lacks the controller's root key"
fb_ssh "$CTL" "$CMP" true 2>"$WORK/ssh.err" || fail "strict ssh controller → reinstalled compute: $(cat "$WORK/ssh.err")"
n_checks=$(ssh_checks "${FB_ADDR[$CMP]}" | wc -l)
synced_to_controller "$CMP" || fail "reinstalled compute: chronyd is not synchronised: $(tracking "$CMP")"
echo "4. rejoined: new keys pinned, old keys gone, strict ssh works; the controller checked ssh to compute $n_checks times ($(seconds_since "$t0") s)"

# ---- 5. the site repository: its file missing, then its metadata -----------------------------
# The hook's yum is Debian's dnf on the node root's own etc/yum.repos.d (the file site.ks's
# %post writes): the daemon's check must fail with its message when either is gone.
t0=$EPOCHREALTIME
N=${FB_ROOT[$NET]}
repo_file=$N/etc/yum.repos.d/airstrap.repo
[ -f "$repo_file" ] || fail "network-node has no etc/yum.repos.d/airstrap.repo from the kickstart"
grep -q "rc=0 yum -q repolist enabled" "$N/hook.log" || fail "network-node's daemon never ran yum repolist"
fb_stop_daemon "$NET" || true
mv "$repo_file" "$WORK/airstrap.repo.good"
fb_start_daemon "$NET" --poll-interval "$POLL" --rerun checks
repo_says() {  # repo_says PATTERN: network-node's status fails and says PATTERN
    fb_status "$NET"
    [ "$RC" -ne 0 ] && grep -q -- "$1" <<<"$OUT"
}
fb_wait 60 "network-node's status to say the repository file is missing" repo_says "does not list the repository 'airstrap'"
echo "5. repository file missing: status exits $RC: $(grep -m1 -o "the local repository.*" <<<"$OUT")"
repodata=$N/opt/airstrap/repo/repodata
mv "$repodata" "$WORK/repodata.good"
mv "$WORK/airstrap.repo.good" "$repo_file"
fb_wait 60 "network-node's status to say the repository does not answer" repo_says "does not answer: 'yum -q repolist enabled' failed"
echo "5. repository metadata missing: status exits $RC: $(grep -m1 -o "the local repository.*" <<<"$OUT" | cut -c1-160)"
mv "$WORK/repodata.good" "$repodata"
wait_done "$NET" 90
echo "5. repository back: network-node done again ($(seconds_since "$t0") s)"

# ---- no secret anywhere ---------------------------------------------------------------------
# The site secret only in secrets.yaml and the controller's site.key; each node's key only in
# its own root (and this test's copies of compute's); the wrong key nowhere.
fb_stop_all
hits=$(grep -rlai -D skip -- "$SECRET" "$WORK" | grep -vxF -e "$WORK/site/secrets.yaml" -e "$C/etc/airstrap/site.key" || true)
[ -z "$hits" ] || fail "the site secret appears outside the controller's site.key: $hits"
hits=$(grep -rlai -D skip -- "$WRONG_KEY" "$WORK" || true)
[ -z "$hits" ] || fail "the wrong node key appears in: $hits"
for n in "$CTL" "$CMP" "$NET"; do
    key=$(tr -d '[:space:]' <"${FB_ROOT[$n]}/etc/airstrap/node.key")
    [[ $key =~ ^[0-9a-f]{64}$ ]] || fail "$n: node.key is not 64 hex digits"
    hits=$(grep -rlai -D skip -- "$key" "$WORK" |
        grep -v -e "^${FB_ROOT[$n]}/" -e "^$WORK/compute-old-root/" -e "^$WORK/node.key.good\$" || true)
    [ -z "$hits" ] || fail "$n's node key appears outside its own root: $hits"
done
fb_no_site_addresses_on_host 192.168.111.
pass "firstboot: 3 nodes enrolled, keys and chrony verified; kill -9 resumed; wrong node key refused; reinstalled node rejoined; a missing repository reported"
