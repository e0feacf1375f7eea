# shellcheck shell=bash
# Several installed nodes on one machine, for airstrap-firstboot: one network namespace per
# node, a "switch" namespace with the bridges, a real sshd per node and the daemon started
# with tests/integration/firstboot-hook.sh as its --exec-hook. Sourced after common.sh
# (which provides WORK, fail, skip) by tests/integration/firstboot.sh and bench/firstboot/run.sh.
#
# The site's addresses (192.168.111.x for lab3) exist only inside the namespaces made here:
# the veth pairs are created directly between the switch namespace and a node namespace,
# none of them has an end in the host's namespace, and no namespace has a default route.
# Everything made here is removed on exit (fb_cleanup, installed as the EXIT trap), every
# process left in a namespace (daemons, sshd, chronyd) killed with it.
#
# Per node NAME (after fb_add_node):
#   FB_NS[NAME]    its namespace        FB_ROOT[NAME]  its root folder (the daemon's --root)
#   FB_ADDR[NAME]  management address   FB_PID[NAME]   the running daemon's pid, if any
# A node's root holds what an installed node would (host keys made like the installer does,
# `ssh-keygen -A`), plus the sandbox's own files: run/ (sshd, chronyd, hook state),
# daemon.log (the daemon's stderr/stdout), hook.log (every command the daemon ran).

# The daemon execs the hook directly: a copy that is surely executable, whatever the checkout did.
FB_HOOK=$WORK/firstboot-hook.sh
export FB_FIXTURES=${SRC:?SRC (the source tree) is not set}/tests/fixtures/stand-ins
# How the stand-ins reach the nodes (FIXTURE_SSH, after "ssh -i ROOT/root/.ssh/id_ed25519"):
# like packstack, without host key checks.
export FB_STANDIN_SSH_OPTIONS="-F /dev/null -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=5 -o LogLevel=ERROR"
install -m 0755 "$(dirname "${BASH_SOURCE[0]}")/firstboot-hook.sh" "$FB_HOOK"
FB_TAG=${FB_TAG:-fb$$}            # namespace names: $FB_TAG-sw, $FB_TAG-n0, $FB_TAG-n1, …
FB_SWITCH=$FB_TAG-sw
FB_NODES=()                      # in the order they were added
declare -A FB_NS FB_ROOT FB_ADDR FB_PID FB_ROLE
FB_NAMESPACES=()
FB_SWITCH_MADE=0
FB_KEEP=${FB_KEEP:-0}            # 1: keep $WORK (roots, logs) after the run, for a post-mortem

# Why this machine cannot run the namespaced nodes ("" when it can).
fb_skip_reason() {
    [ "$(id -u)" -eq 0 ] || { echo "not root (network namespaces, sshd)"; return; }
    command -v ip >/dev/null || { echo "no ip (apt-get install iproute2)"; return; }
    local t
    for t in /usr/sbin/sshd chronyd chronyc ssh ssh-keygen setsid; do
        command -v "$t" >/dev/null || { echo "no $t (apt-get install openssh-server openssh-client chrony)"; return; }
    done
    for t in dnf createrepo_c; do  # the hook's yum/dnf repolist, the nodes' repositories
        command -v "$t" >/dev/null || { echo "no $t (apt-get install dnf createrepo-c)"; return; }
    done
    local k310
    k310=$(fb_kernel310_skip_reason)
    [ -z "$k310" ] || { echo "$k310"; return; }
    local probe=$FB_TAG-probe
    if ! ip netns add "$probe" 2>/dev/null; then
        echo "ip netns add does not work here"
        return
    fi
    if ! ip -n "$probe" link add br0 type bridge 2>/dev/null; then
        ip netns del "$probe"
        echo "cannot make a bridge in a network namespace"
        return
    fi
    ip netns del "$probe"
}

# fb_teardown: every process in the namespaces killed, the namespaces deleted, the node
# tables emptied ($WORK stays).
fb_teardown() {
    local - ns pid
    set +e  # runs from the EXIT trap too: a process already gone must not stop the cleanup
    exec 3>&2 2>/dev/null  # bash's "Killed" notices for our daemons: nowhere
    for ns in "${FB_NAMESPACES[@]}"; do
        ip netns pids "$ns" | xargs -r kill -9
    done
    for pid in "${FB_PID[@]}"; do [ -n "$pid" ] && wait "$pid"; done
    exec 2>&3 3>&-
    for ns in "${FB_NAMESPACES[@]}"; do
        # a killed process may take a moment to let go of the namespace
        ip netns del "$ns" 2>/dev/null || { sleep 0.2; ip netns del "$ns" 2>/dev/null; }
    done
    FB_NAMESPACES=()
    FB_NODES=()
    FB_NS=() FB_ROOT=() FB_ADDR=() FB_PID=() FB_ROLE=()
    FB_SWITCH_MADE=0
}
fb_cleanup() {
    local -
    set +e
    fb_teardown
    if [ "$FB_KEEP" = 1 ]; then
        echo "kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap fb_cleanup EXIT
trap 'exit 130' INT   # bash skips the EXIT trap when a signal kills it (ctest's timeout: TERM)
trap 'exit 143' TERM

_fb_netns_add() {
    ip netns add "$1" || fail "ip netns add $1"
    FB_NAMESPACES+=("$1")
    ip -n "$1" link set lo up
}

# The switch: a namespace with a management and an external bridge, no addresses.
fb_make_switch() {
    _fb_netns_add "$FB_SWITCH"
    FB_SWITCH_MADE=1
    local br
    for br in br-mgmt br-ext; do
        ip -n "$FB_SWITCH" link add "$br" type bridge || fail "bridge $br in $FB_SWITCH"
        # forward at once (no STP listening/learning delay)
        ip -n "$FB_SWITCH" link set "$br" type bridge forward_delay 0 stp_state 0 2>/dev/null || true
        ip -n "$FB_SWITCH" link set "$br" up
    done
}

# fb_site_nodes SITE_JSON: one line per node, "NAME ROLE MGMT_NIC ADDRESS PREFIX EXT_NIC|-",
# from the site.json that `airstrap node-config` writes (etc/airstrap/site.json).
fb_site_nodes() {
    python3 - "$1" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
purpose = {name: n["purpose"] for name, n in doc["networks"].items()}
prefix = {name: n["cidr"].split("/")[1] for name, n in doc["networks"].items()}
for node in doc["nodes"]:
    mgmt = [i for i in node["interfaces"] if purpose.get(i["network"]) == "management"]
    ext = [i for i in node["interfaces"] if purpose.get(i["network"]) == "external"]
    if not mgmt or not mgmt[0]["address"]:
        sys.exit(f"{node['name']}: no management address in {sys.argv[1]}")
    m = mgmt[0]
    print(node["name"], node["role"], m["name"], m["address"], prefix[m["network"]],
          ext[0]["name"] if ext else "-")
EOF
}

# fb_add_node NAME ROLE NIC ADDRESS PREFIX [EXT_NIC]: the node's namespace (NIC on the
# management bridge, ADDRESS/PREFIX on it; EXT_NIC on the external bridge, down, no address),
# its root folder with host keys, and a running sshd on ADDRESS:22.
fb_add_node() {
    local name=$1 role=$2 nic=$3 addr=$4 prefix=$5 ext=${6:--}
    local i=${#FB_NODES[@]} ns=$FB_TAG-n${#FB_NODES[@]} root=$WORK/nodes/$1
    ((FB_SWITCH_MADE)) || fb_make_switch
    _fb_netns_add "$ns"
    ip -n "$FB_SWITCH" link add "m$i" type veth peer name "$nic" netns "$ns" || fail "veth m$i/$nic for $name"
    ip -n "$FB_SWITCH" link set "m$i" master br-mgmt up
    ip -n "$ns" addr add "$addr/$prefix" dev "$nic"
    ip -n "$ns" link set "$nic" up
    if [ "$ext" != - ]; then
        ip -n "$FB_SWITCH" link add "x$i" type veth peer name "$ext" netns "$ns" || fail "veth x$i/$ext for $name"
        ip -n "$FB_SWITCH" link set "x$i" master br-ext up
        ip -n "$ns" link set "$ext" down
    fi
    FB_NODES+=("$name")
    FB_NS[$name]=$ns
    FB_ROOT[$name]=$root
    FB_ADDR[$name]=$addr
    FB_ROLE[$name]=$role
    fb_install_root "$name"
    fb_start_sshd "$name"
}

# What the installer leaves on a node, and the sandbox's seeds: host keys (`ssh-keygen -A`,
# as Anaconda's sshd-keygen does), the units of CentOS 7's @core/@minimal and the kickstart's
# %packages (the hook's systemctl knows no other unit, as systemd would not), SELinux
# "Enforcing" and libvirt-daemon-config-network installed on compute nodes (so the daemon's
# setenforce and rpm -e paths run).
FB_UNITS=(sshd chronyd firewalld NetworkManager airstrap-firstboot)
FB_SYSV=(network)  # el7's initscripts: a SysV script that systemd wraps
fb_install_root() {
    local name=$1 root=${FB_ROOT[$1]} u
    mkdir -p "$root/etc/ssh" "$root/root/.ssh" "$root/run/units" "$root/var/lib" "$root/var/log" \
        "$root/usr/lib/systemd/system" "$root/etc/rc.d/init.d"
    chmod 0700 "$root/root/.ssh"
    chmod 0750 "$root/run"
    for u in "${FB_UNITS[@]}"; do
        printf '[Unit]\nDescription=%s (a name only: tests/integration/firstboot-hook.sh)\n' "$u" \
            >"$root/usr/lib/systemd/system/$u.service"
    done
    for u in "${FB_SYSV[@]}"; do
        printf '#!/bin/sh\n# %s (a name only: tests/integration/firstboot-hook.sh)\n' "$u" >"$root/etc/rc.d/init.d/$u"
    done
    ssh-keygen -A -f "$root" >/dev/null || fail "ssh-keygen -A -f $root"
    if [ "${FB_ROLE[$name]}" = compute ]; then
        echo Enforcing >"$root/run/selinux"
        echo libvirt-daemon-config-network >"$root/run/rpm-installed"
    fi
}

fb_start_sshd() {
    local name=$1 root=${FB_ROOT[$1]} ns=${FB_NS[$1]} i
    mkdir -p /run/sshd  # sshd's privilege separation folder (the package's tmpfiles.d makes it)
    cat >"$root/etc/ssh/sshd_config.test" <<EOF
ListenAddress ${FB_ADDR[$name]}:22
HostKey $root/etc/ssh/ssh_host_ed25519_key
HostKey $root/etc/ssh/ssh_host_ecdsa_key
HostKey $root/etc/ssh/ssh_host_rsa_key
AuthorizedKeysFile $root/root/.ssh/authorized_keys
PidFile $root/run/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
EOF
    rm -f "$root/run/sshd.pid"
    # -E: sshd's log in the root; the listen socket comes up before it writes the pidfile.
    # In a mount namespace of its own, root's home is the node's root/root: a login runs the
    # node's shell start-up files, not this machine's (~/.bashrc here may be slow).
    mkdir -p "$root/root"
    # Its own host name too (a UTS namespace): packstack's stand-in asks `ssh NODE hostname`.
    ip netns exec "$ns" unshare --mount --uts --propagation private sh -c \
        'mount --bind "$1" /root && hostname "$2" && shift 2 && exec "$@"' sh "$root/root" "$name" \
        /usr/sbin/sshd -f "$root/etc/ssh/sshd_config.test" -E "$root/run/sshd.log" ||
        fail "$name: sshd did not start: $(tail -5 "$root/run/sshd.log" 2>/dev/null)"
    for i in $(seq 50); do
        [ -s "$root/run/sshd.pid" ] && return 0
        sleep 0.1
    done
    fail "$name: sshd wrote no pidfile: $(tail -5 "$root/run/sshd.log" 2>/dev/null)"
}
fb_stop_sshd() {
    local pid
    pid=$(cat "${FB_ROOT[$1]}/run/sshd.pid" 2>/dev/null) && kill -TERM "$pid" 2>/dev/null
    rm -f "${FB_ROOT[$1]}/run/sshd.pid"
}

# fb_reinstall SITE NAME OLD: NAME's disk replaced, as a reinstall would: its daemon, sshd and
# every process of its namespace (chronyd too) stopped, its root moved to OLD, a fresh root
# with new host keys and the files of `airstrap node-config`, and sshd started. Its daemon is
# not started.
fb_reinstall() {
    local site=$1 name=$2 old=$3
    fb_stop_daemon "$name" || true
    fb_stop_sshd "$name"
    ip netns pids "${FB_NS[$name]}" | xargs -r kill -9 2>/dev/null || true
    mv "${FB_ROOT[$name]}" "$old"
    fb_install_root "$name"
    fb_node_config "$site" "$name"
    fb_start_sshd "$name"
}

# fb_in NAME CMD...: run CMD in NAME's namespace.
fb_in() { local ns=${FB_NS[$1]}; shift; ip netns exec "$ns" "$@"; }

# fb_ssh FROM TO [CMD...]: root@TO from FROM's namespace with FROM's root key and strict host
# key checking against KNOWN_HOSTS (default: FROM's etc/ssh/ssh_known_hosts); no user config.
fb_ssh() {
    local from=$1 to=$2
    shift 2
    local kh=${KNOWN_HOSTS:-${FB_ROOT[$from]}/etc/ssh/ssh_known_hosts}
    fb_in "$from" ssh -F /dev/null -i "${FB_ROOT[$from]}/root/.ssh/id_ed25519" -o IdentitiesOnly=yes \
        -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5 \
        -o UserKnownHostsFile=/dev/null -o "GlobalKnownHostsFile=$kh" \
        "root@${FB_ADDR[$to]}" "${@:-true}"
}

# fb_node_config SITE NAME: the node's etc/airstrap/{site.json,node.key,node} (and the
# controller's site.key and deploy.sealed), written by `airstrap node-config` exactly as the kickstart's %post
# would. The first call also picks the Packstack stand-in's release table from site.json.
fb_node_config() {
    "$AIRSTRAP" node-config "$1" --node "$2" --root "${FB_ROOT[$2]}" >"$WORK/node-config.out" 2>&1 ||
        fail "airstrap node-config $1 --node $2: $(cat "$WORK/node-config.out")"
    fb_install_repo "$1" "$2"
    # The SELinux mode the kickstart installs (`selinux --enforcing|--permissive`), for the
    # hook's getenforce and restorecon; "disabled" keeps fb_install_root's state.
    local selinux
    selinux=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["security"]["selinux"])' \
        "${FB_ROOT[$2]}/etc/airstrap/site.json") || fail "no security.selinux in site.json"
    case $selinux in
        enforcing) echo Enforcing >"${FB_ROOT[$2]}/run/selinux" ;;
        permissive) echo Permissive >"${FB_ROOT[$2]}/run/selinux" ;;
    esac
    if [ -z "${FB_PACKSTACK_TSV:-}" ]; then
        local release
        release=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["openstack"]["release"])' \
            "${FB_ROOT[$2]}/etc/airstrap/site.json") || fail "no openstack.release in site.json"
        export FB_PACKSTACK_TSV=$SRC/site/packstack/$release.tsv
    fi
}

# fb_install_repo SITE NAME: the repository files that site.ks's %post writes
# (every `cat > /etc/yum.repos.d/*.repo` of the kickstart airstrap renders for SITE, taken
# from it verbatim), and an empty repository with metadata (createrepo_c) in each folder a
# file:// baseurl names, as the installed node has. The hook's yum/dnf read these.
fb_install_repo() {
    local site=$1 root=${FB_ROOT[$2]} repos=$WORK/repo-files/${1//\//_} ks
    if [ ! -d "$repos" ]; then
        # The kickstarts carry the site secret: rendered into a folder of their own, read, and
        # removed at once, so that the test's no-secret check still covers everything it keeps.
        ks=$(mktemp -d "$WORK/ks.XXXXXX")
        "$AIRSTRAP" kickstart "$site" -o "$ks" >"$WORK/kickstart.out" 2>&1 ||
            fail "airstrap kickstart $site: $(cat "$WORK/kickstart.out")"
        mkdir -p "$repos"
        awk -v out="$repos" '
            /^%post/ { post = 1; next }
            /^%end/  { post = 0; next }
            post && f == "" && $1 == "cat" && $2 == ">" && $3 ~ /^\/etc\/yum\.repos\.d\/[^\/]+\.repo$/ &&
                $4 == "<<'"'"'AIRSTRAP_EOF'"'"'" { f = $3; sub(/.*\//, "", f); f = out "/" f; printf "" > f; n++; next }
            f != "" && $0 == "AIRSTRAP_EOF" { close(f); f = ""; next }
            f != "" { print > f }
            END { if (n == 0) { print "no repository file in the kickstart" > "/dev/stderr"; exit 1 } }
        ' "$ks/site.ks" || { rm -rf "$ks" "$repos"; fail "$2: site.ks's %post writes no /etc/yum.repos.d/*.repo"; }
        rm -rf "$ks"
    fi
    mkdir -p "$root/etc/yum.repos.d"
    cp "$repos"/*.repo "$root/etc/yum.repos.d/"
    local dir
    for dir in $(sed -n 's|^baseurl[[:space:]]*=[[:space:]]*file://||p' "$root"/etc/yum.repos.d/*.repo); do
        mkdir -p "$root$dir"
        createrepo_c -q "$root$dir" || fail "createrepo_c $root$dir"
    done
}

# FB_KERNEL310=1: every daemon (and `status`) runs as CentOS 7's 3.10 kernel answers it:
# tests/tools/kernel310 ($KERNEL310) fails each system call newer than 3.10 with ENOSYS in
# the airstrap-firstboot process. The commands it runs (the hook, Debian's ssh-keygen, ssh,
# dnf, chronyd) stand for CentOS 7's own, built for 3.10: their calls go to the real kernel
# (--hold; Debian's OpenSSL 3.0 cannot seed without getrandom on a kernel whose uname says
# 6.x). Each launch appends to ROOT/kernel310.log: the pid, then every call refused to it.
FB_KERNEL310=${FB_KERNEL310:-0}
fb_kernel310() {  # fb_kernel310 ROOT: the launcher's words before the daemon's argv (or none)
    [ "$FB_KERNEL310" = 1 ] || return 0
    printf '%s\n' "$KERNEL310" --log "$1/kernel310.log" --hold "$AIRSTRAP_FIRSTBOOT" --
}
# Why FB_KERNEL310=1 cannot run here ("" when it can).
fb_kernel310_skip_reason() {
    [ "$FB_KERNEL310" = 1 ] || return 0
    [ -x "${KERNEL310:-}" ] ||
        { echo "FB_KERNEL310=1 but KERNEL310 (tests/tools/kernel310; apt-get install libseccomp-dev) is not set or not executable: '${KERNEL310:-}'"; return; }
    "$KERNEL310" --hold /bin/true -- /bin/true 2>/dev/null ||
        echo "tests/tools/kernel310 cannot install its filter here: $("$KERNEL310" --hold /bin/true -- /bin/true 2>&1)"
}
# fb_kernel310_check NAME: NAME's running daemon is under the filter (/proc/PID/status says
# Seccomp: 2), the launcher refused it getrandom, and the daemon says it reads /dev/urandom.
fb_kernel310_check() {
    local name=$1 pid=${FB_PID[$1]:-} root=${FB_ROOT[$1]}
    [ -n "$pid" ] || fail "$name: no daemon running to check the 3.10 filter on"
    grep -q "^Seccomp:[[:space:]]*2\$" "/proc/$pid/status" ||
        fail "$name: the daemon (pid $pid) runs without a seccomp filter: $(grep ^Seccomp "/proc/$pid/status")"
    grep -q "^$pid .*airstrap-firstboot: getrandom (318) -> ENOSYS\$" "$root/kernel310.log" ||
        fail "$name: $root/kernel310.log shows no getrandom refused to the daemon (pid $pid):"$'\n'"$(tail -5 "$root/kernel310.log")"
    grep -q "this kernel has no getrandom" "$root/daemon.log" ||
        fail "$name: the daemon did not say it uses /dev/urandom (daemon.log)"
    echo "$name: the daemon (pid $pid) was refused: $(sed -n 's/^[0-9]* [^ ]*airstrap-firstboot: \([a-z0-9_]*\) .*/\1/p' "$root/kernel310.log" | sort | uniq -c | awk '{printf "%s%s x%s", sep, $2, $1; sep=", "}')"
}

# fb_start_daemon NAME [ARGS...]: `airstrap-firstboot run` in NAME's namespace, stdout and
# stderr appended to ROOT/daemon.log; FB_PID[NAME] is its pid (ip netns exec execs, and so
# does kernel310 under FB_KERNEL310=1).
fb_start_daemon() {
    local name=$1
    shift
    local root=${FB_ROOT[$name]} wrap
    mapfile -t wrap < <(fb_kernel310 "$root")
    echo "---- start $(date +%T.%3N) $*" >>"$root/daemon.log"
    ip netns exec "${FB_NS[$name]}" "${wrap[@]}" "$AIRSTRAP_FIRSTBOOT" run --root "$root" --exec-hook "$FB_HOOK" \
        "$@" </dev/null >>"$root/daemon.log" 2>&1 &
    FB_PID[$name]=$!
}
fb_start_all() { local n; for n in "${FB_NODES[@]}"; do fb_start_daemon "$n" "$@"; done; }

# fb_stop_daemon NAME: SIGTERM, wait up to 10 s, then SIGKILL. Returns the daemon's exit code.
fb_stop_daemon() {
    local pid=${FB_PID[$1]:-} i rc=0
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { echo "$1: daemon ignored SIGTERM for 10 s; killed" >&2; kill -KILL "$pid"; }
    wait "$pid" 2>/dev/null || rc=$?
    FB_PID[$1]=
    return $rc
}
fb_kill_daemon() {
    local pid=${FB_PID[$1]:-}
    [ -n "$pid" ] || return 0
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
    FB_PID[$1]=
}
fb_stop_all() { local n; for n in "${FB_NODES[@]}"; do fb_stop_daemon "$n" || true; done; }

# fb_daemon_state NAME: "running", "exited N" (N ≥ 128: killed by signal N-128) or "not started".
fb_daemon_state() {
    local pid=${FB_PID[$1]:-} rc=0
    [ -n "$pid" ] || { echo "not started"; return; }
    if kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid")" != Z ]; then echo running; return; fi
    { wait "$pid"; } 2>/dev/null || rc=$?
    echo "exited $rc"
}

# fb_daemon_alive NAME
fb_daemon_alive() { [ -n "${FB_PID[$1]:-}" ] && kill -0 "${FB_PID[$1]}" 2>/dev/null; }

# fb_status NAME [ARGS...]: `airstrap-firstboot status --root ROOT ARGS`, output in $OUT, exit
# code in $RC (never fails the script by itself).
fb_status() {
    local name=$1
    shift
    RC=0
    local wrap
    mapfile -t wrap < <(fb_kernel310 "${FB_ROOT[$name]}")
    OUT=$(fb_in "$name" "${wrap[@]}" "$AIRSTRAP_FIRSTBOOT" status --root "${FB_ROOT[$name]}" "$@" 2>&1) || RC=$?
}

# fb_wait SECONDS WHAT CMD...: poll CMD every 0.1 s until it succeeds; fail naming WHAT after
# SECONDS.
fb_wait() {
    local timeout=$1 what=$2 deadline
    shift 2
    deadline=$(($(date +%s%N) + timeout * 1000000000))
    until "$@"; do
        (($(date +%s%N) < deadline)) || fail "timed out after ${timeout} s waiting for $what"
        sleep 0.1
    done
}

# fb_wait_file SECONDS FILE PATTERN: until FILE has a line matching the extended regex.
fb_wait_file() {
    fb_wait "$1" "/$3/ in $2" grep -Eq -- "$3" "$2"
}

# fb_chronyc NAME ARGS...: chronyc against the node's sandboxed chronyd (see the hook).
fb_chronyc() { local root=${FB_ROOT[$1]}; shift; chronyc -h "$root/run/chronyd.sock" "$@"; }

# fb_journal_steps NAME: "STEP STATE ATTEMPTS" per line from ROOT/var/lib/airstrap/journal.json.
fb_journal_steps() {
    python3 - "${FB_ROOT[$1]}/var/lib/airstrap/journal.json" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
steps = doc["steps"] if isinstance(doc, dict) else doc
for s in steps:
    print(s["name"], s["state"], s.get("attempts", 0))
EOF
}

# fb_no_site_addresses_on_host CIDR_PREFIX: the site's addresses never reach the host namespace.
fb_no_site_addresses_on_host() {
    local re=${1//./\\.}
    ! ip -o addr show | grep -q "inet $re" || fail "a $1 address appeared in the host's namespace"
    ! ip route show | grep -q "^$re" || fail "a $1 route appeared in the host's namespace"
}

# fb_fail_with_logs MESSAGE: every node's last log lines and commands, then FAIL and exit 1.
# The scripts' own fail() calls it, so that any failure shows what the daemons were doing.
fb_fail_with_logs() {
    local n
    {
        for n in "${FB_NODES[@]}"; do
            echo "==== $n: daemon $(fb_daemon_state "$n"); daemon.log (last 25 lines)"
            tail -25 "${FB_ROOT[$n]}/daemon.log" 2>/dev/null || true
            echo "==== $n: hook.log (last 15 lines)"
            tail -15 "${FB_ROOT[$n]}/hook.log" 2>/dev/null || true
        done
        echo "FAIL: $*"
    } >&2
    exit 1
}
fb_seconds_since() { awk -v now="$EPOCHREALTIME" -v t0="$1" 'BEGIN { printf "%.1f", now - t0 }'; }

# fb_lab3: examples/lab3 in $WORK/site (short first-boot timeouts, fresh secrets), its three
# nodes added and configured as their kickstarts would; SITE, CTL, NET, CMP and C (the
# controller's root) set. The controller's copy of the site repository carries the cloud:
# section's image (a stand-in file: airstrap mirror puts the real one there).
fb_lab3() {
    SITE=$WORK/site/site.yaml
    mkdir -p "$WORK/site"
    cp "$SRC/examples/lab3/site.yaml" "$SITE"
    printf '\nfirstboot:                 # short, for the tests: iburst syncs in ~5 s\n  barrier_timeout: 120\n  sync_timeout: 60\n' >>"$SITE"
    make_secrets "$WORK/site"
    # The node list (names, NICs, addresses) from the site.json the daemon itself reads.
    "$AIRSTRAP" node-config "$SITE" --node controller-node --root "$WORK/probe" >/dev/null 2>&1 ||
        fail "airstrap node-config $SITE --node controller-node failed"
    fb_site_nodes "$WORK/probe/etc/airstrap/site.json" >"$WORK/nodes.txt" || fail "site.json: $(cat "$WORK/nodes.txt")"
    # The probe is the controller's media (site.key, deploy.sealed): gone at once, so that the
    # tests' key checks find the site secret only in the controller's own root.
    rm -rf "$WORK/probe"
    local name role nic addr prefix ext
    while read -r name role nic addr prefix ext; do
        fb_add_node "$name" "$role" "$nic" "$addr" "$prefix" "$ext"
        fb_node_config "$SITE" "$name"
    done <"$WORK/nodes.txt"
    [ "${#FB_NODES[@]}" -eq 3 ] || fail "expected 3 nodes in lab3, got: ${FB_NODES[*]}"
    CTL=controller-node CMP=compute-node NET=network-node
    C=${FB_ROOT[$CTL]}
    mkdir -p "$C/opt/airstrap/repo/images"
    head -c 65536 /dev/urandom >"$C/opt/airstrap/repo/images/cirros-0.3.4-x86_64-disk.img"
}
