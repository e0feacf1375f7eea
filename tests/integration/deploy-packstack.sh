#!/usr/bin/env bash
# The controller's deployment with real Packstack, on lab3 in el9 on release 2025.1
# (tests/data/sites/lab3-el9-2025.1.yaml), its three nodes in network namespaces with real sshd
# (firstboot-lib.sh). With FB_PACKSTACK_REAL=1 the hook runs upstream Packstack stable/2025.1
# (../shared/third_party/packstack, tests/fixtures/stand-ins/packstack-real) for
# `--gen-answer-file` and, before each apply, `--answer-file F --dry-run`: its own validators
# (port 22 of every host), its ssh to every node, its manifest generation. Only the apply
# (Puppet) is the stand-in's.
#   1. the daemon's answer file: written by real packstack, the site's keys set; real
#      --dry-run accepts it (exit 0, "Installation completed successfully", its remote scripts
#      ran on each node, a manifest per node); the stand-in applies it and the deployment
#      converges;
#   2. wrong answer files, each the daemon's with one value changed, are refused by real
#      Packstack's --dry-run through the hook, with Packstack's own message, and nothing is
#      applied; the stand-in refuses the host without sshd with the same message.
source "$(dirname "$0")/common.sh"
: "${AIRSTRAP_FIRSTBOOT:?set AIRSTRAP_FIRSTBOOT to the airstrap-firstboot binary}"
source "$(dirname "$0")/firstboot-lib.sh"
reason=$(fb_skip_reason)
[ -z "$reason" ] || skip "$reason"
command -v python3 >/dev/null || skip "no python3 (the OpenStack stand-in)"
command -v unshare >/dev/null || skip "no unshare (apt-get install util-linux)"
PACKSTACK_DIR=$(realpath -m "$SRC/../shared/third_party/packstack")
[ -f "$PACKSTACK_DIR/packstack/installer/run_setup.py" ] ||
    skip "no upstream Packstack in $PACKSTACK_DIR (see ../shared/third_party/README.md)"
# Packstack's imports, from Debian's python3 (scripts/install-deps). Not packstack.installer
# itself: importing it makes a folder in /var/tmp/packstack (packstack-real runs it where
# /var/tmp is the node's).
missing=$(PBR_VERSION=2025.1 PYTHONPATH=$PACKSTACK_DIR /usr/bin/python3 -c '
import importlib
for m in ("pbr", "netaddr", "yaml", "docutils", "OpenSSL", "cryptography", "netifaces", "distro", "packstack"):
    try:
        importlib.import_module(m)
    except Exception as e:
        print(m, e)' 2>&1)
[ -z "$missing" ] || skip "upstream Packstack cannot start with /usr/bin/python3: $missing (scripts/install-deps)"
export FB_PACKSTACK_REAL=1 PACKSTACK_DIR
# What Packstack would leave on this machine if it ran outside the node's mount namespace.
host_leftovers() { ls -d /var/tmp/packstack/* /root/packstack-answers-* /root/keystonerc_admin 2>/dev/null || true; }
host_before=$(host_leftovers)

POLL=0.2
fail() { fb_fail_with_logs "$@"; }
status_done() { fb_status "$1"; [ "$RC" -eq 0 ]; }

# lab3-el9-2025.1 in the namespaces, as fb_lab3 makes examples/lab3 (short first-boot timeouts,
# fresh secrets, the cloud: image in the controller's repository).
SITE=$WORK/site/site.yaml
mkdir -p "$WORK/site"
cp "$SRC/tests/data/sites/lab3-el9-2025.1.yaml" "$SITE"
printf '\nfirstboot:\n  barrier_timeout: 120\n  sync_timeout: 60\n' >>"$SITE"
make_secrets "$WORK/site"
"$AIRSTRAP" node-config "$SITE" --node controller-node --root "$WORK/probe" >"$WORK/probe.out" 2>&1 ||
    fail "airstrap node-config $SITE --node controller-node: $(cat "$WORK/probe.out")"
fb_site_nodes "$WORK/probe/etc/airstrap/site.json" >"$WORK/nodes.txt" || fail "site.json: $(cat "$WORK/nodes.txt")"
while read -r name role nic addr prefix ext; do
    fb_add_node "$name" "$role" "$nic" "$addr" "$prefix" "$ext"
    fb_node_config "$SITE" "$name"
    # Packstack finds its own address through the default route's interface; the site's
    # gateway exists nowhere (nothing leaves the namespaces).
    ip -n "${FB_NS[$name]}" route add default via 192.168.111.2 dev "$nic" ||
        fail "$name: default route via 192.168.111.2"
done <"$WORK/nodes.txt"
[ "${#FB_NODES[@]}" -eq 3 ] || fail "expected 3 nodes in lab3, got: ${FB_NODES[*]}"
[ "$(basename "$FB_PACKSTACK_TSV")" = 2025.1.tsv ] || fail "the site is not on 2025.1: $FB_PACKSTACK_TSV"
CTL=controller-node
C=${FB_ROOT[$CTL]}
mkdir -p "$C/opt/airstrap/repo/images"
head -c 65536 /dev/urandom >"$C/opt/airstrap/repo/images/cirros-0.3.4-x86_64-disk.img"
REAL_LOG=$C/run/packstack-real.log
CALLS=$C/var/lib/fixture-cloud/calls.log

# ---- 1. the daemon's answer file, accepted by real Packstack's --dry-run ---------------------
t0=$EPOCHREALTIME
fb_start_all --poll-interval "$POLL"
fb_wait 280 "the controller's status to say done" status_done "$CTL"
A=$C/root/airstrap-answers.txt
G=$C/var/lib/airstrap/packstack-generated.txt
# real_log_exit ARGS_REGEX: the exit code of the (last) real run whose arguments match.
real_log_exit() {
    awk -v re="$1" '/^==== / && !/^==== exit / { m = ($0 ~ re) } m && /^==== exit / { rc = $3 } END { print rc }' "$REAL_LOG"
}
[ -f "$REAL_LOG" ] || fail "real packstack never ran (no $REAL_LOG)"
[ "$(real_log_exit '^==== --gen-answer-file=')" = 0 ] || fail "real packstack --gen-answer-file: $(cat "$REAL_LOG")"
grep -qxF "==== --answer-file=$A --dry-run" "$REAL_LOG" || fail "real --dry-run did not check $A: $(grep '^====' "$REAL_LOG")"
[ "$(real_log_exit '^==== --answer-file=.* --dry-run')" = 0 ] || fail "real packstack --dry-run: $(tail -30 "$REAL_LOG")"
grep -q 'Installation completed successfully' "$REAL_LOG" || fail "real --dry-run did not complete: $(tail -30 "$REAL_LOG")"
# Every key of the generated file is upstream's: the same set as its 2025.1 table.
keys() { grep -ao '^[A-Z][A-Z0-9_]*=' "$1" | tr -d = | sort; }
table=$(grep -v '^conf_name' "$FB_PACKSTACK_TSV" | grep -v '^#' | cut -f1 | sort)
[ "$(keys "$G")" = "$table" ] || fail "real packstack's keys differ from site/packstack/2025.1.tsv: $(diff <(keys "$G") <(echo "$table") | head)"
n_keys=$(keys "$A" | wc -l)
want_key() { grep -aqx "$1=$2" "$A" || fail "answer file: expected $1=$2, have: $(grep -a "^$1=" "$A")"; }
want_key CONFIG_CONTROLLER_HOST 192.168.111.10
want_key CONFIG_NETWORK_HOSTS 192.168.111.11
want_key CONFIG_COMPUTE_HOSTS 192.168.111.12
want_key CONFIG_NEUTRON_L2_AGENT ovn
want_key CONFIG_CINDER_VOLUMES_SIZE 10G
# What Packstack did on each node over ssh, and the manifests it generated for each (in its
# run's folder, /var/tmp/packstack/RUN under the controller's root).
run_dir=$(grep -ao 'The installation log file is available at: /var/tmp/packstack/[^/ ]*' "$REAL_LOG" | tail -1 | sed 's/.*: //')
[ -n "$run_dir" ] || fail "real --dry-run named no log folder: $(tail -30 "$REAL_LOG")"
M=$C$run_dir/manifests
for n in "${FB_NODES[@]}"; do
    rl=${FB_ROOT[$n]}/run/packstack-remote.log
    for want in "facter -p" "mkdir --mode 0700 /var/tmp/packstack/" "tar -C /var/tmp/packstack/"; do
        grep -qF -- "$want" "$rl" 2>/dev/null || fail "$n: packstack's remote scripts did not run '$want' there ($rl)"
    done
    ls "$M/${FB_ADDR[$n]}"_*.pp >/dev/null 2>&1 || fail "no manifest generated for $n (${FB_ADDR[$n]}) in $M"
done
manifests=$(find "$M" -name '*.pp' | wc -l)
# Then the stand-in applied it, once.
[ "$(grep -c '"packstack", "argv": \["--answer-file=' "$CALLS")" -eq 1 ] ||
    fail "the stand-in did not apply the answer file once: $(grep packstack "$CALLS")"
read -r _ state _ <<<"$(fb_journal_steps "$CTL" | awk '$1 == "packstack"')"
dry_s=$(grep -a '^==== exit ' "$REAL_LOG" | tail -1 | awk '{ print $5 }')
echo "1. real packstack wrote $(keys "$G" | wc -l) keys; the daemon's answer file ($n_keys keys) passed real --dry-run (exit 0, $dry_s s: validators, ssh to 3 nodes, $manifests manifests); packstack step $state, status done ($(fb_seconds_since "$t0") s)"
fb_stop_all

# ---- 2. wrong answer files, refused by real Packstack ------------------------------------------
# refused NAME SED_EXPR MESSAGE: the daemon's answer file with one value changed, handed to
# the hook as the daemon hands it; real --dry-run must refuse it with MESSAGE, and nothing is
# applied.
n_refused=0
refused() {
    local name=$1 expr=$2 msg=$3 bad=$C/root/bad-$((n_refused + 1)).txt before rc=0 out s0=$EPOCHREALTIME
    sed "$expr" "$A" >"$bad"
    cmp -s "$A" "$bad" && fail "$name: '$expr' changed nothing"
    before=$(wc -l <"$CALLS")
    out=$(fb_in "$CTL" env AIRSTRAP_ROOT="$C" AIRSTRAP_NODE="$CTL" "$FB_HOOK" packstack --answer-file="$bad" 2>&1) || rc=$?
    [ "$rc" -ne 0 ] || fail "$name: real packstack --dry-run accepted it"
    grep -qF -- "$msg" <<<"$out" || fail "$name: packstack's output lacks '$msg':"$'\n'"$out"
    [ "$(wc -l <"$CALLS")" -eq "$before" ] || fail "$name: the stand-in ran after a refused --dry-run"
    n_refused=$((n_refused + 1))
    echo "2. refused: $name — \"$msg\" (exit $rc, $(fb_seconds_since "$s0") s)"
}
refused "a compute host that is no address (CONFIG_COMPUTE_HOSTS=192.168.111.300)" \
    's/^CONFIG_COMPUTE_HOSTS=.*/CONFIG_COMPUTE_HOSTS=192.168.111.300/' \
    "Parameter CONFIG_COMPUTE_HOSTS failed validation: Given host does not listen on port 22: 192.168.111.300"
refused "an L2 agent 2025.1 does not have (CONFIG_NEUTRON_L2_AGENT=linuxbridge)" \
    's/^CONFIG_NEUTRON_L2_AGENT=.*/CONFIG_NEUTRON_L2_AGENT=linuxbridge/' \
    "Parameter CONFIG_NEUTRON_L2_AGENT failed validation: Given value is not member of allowed values ['openvswitch', 'ovn']: linuxbridge"
refused "a network host with no sshd (CONFIG_NETWORK_HOSTS=192.168.111.99)" \
    's/^CONFIG_NETWORK_HOSTS=.*/CONFIG_NETWORK_HOSTS=192.168.111.99/' \
    "Parameter CONFIG_NETWORK_HOSTS failed validation: Given host does not listen on port 22: 192.168.111.99"
refused "a Cinder volume size without its unit (CONFIG_CINDER_VOLUMES_SIZE=10)" \
    's/^CONFIG_CINDER_VOLUMES_SIZE=.*/CONFIG_CINDER_VOLUMES_SIZE=10/' \
    "ERROR : Invalid Cinder volumes VG size."
# The stand-in (queens, train) refuses the host without sshd with upstream's message too.
out=$(fb_in "$CTL" env AIRSTRAP_ROOT="$C" AIRSTRAP_NODE="$CTL" FB_PACKSTACK_REAL=0 "$FB_HOOK" \
    packstack --answer-file="$C/root/bad-3.txt" 2>&1) && fail "the stand-in accepted CONFIG_NETWORK_HOSTS=192.168.111.99"
grep -qF "Parameter CONFIG_NETWORK_HOSTS failed validation: Given host does not listen on port 22: 192.168.111.99" <<<"$out" ||
    fail "the stand-in's refusal lacks packstack's message: $out"
echo "2. the stand-in refuses CONFIG_NETWORK_HOSTS=192.168.111.99 with the same message"

fb_stop_all
fb_no_site_addresses_on_host 192.168.111.
[ "$(host_leftovers)" = "$host_before" ] || fail "Packstack wrote on this machine: $(host_leftovers)"
pass "deploy-packstack: real Packstack 2025.1 wrote the answer file and its --dry-run accepted the daemon's ($n_keys keys, 3 nodes); $n_refused wrong answer files refused with Packstack's own messages"
