#!/usr/bin/env bash
# The sandbox for `airstrap-firstboot run --exec-hook PROG`: every system command the daemon
# would run on a node arrives here as argv, with AIRSTRAP_ROOT (the node's root folder) and
# AIRSTRAP_NODE (its name) in the environment. The daemon runs inside the node's network
# namespace (tests/integration/firstboot-lib.sh), and so does this hook.
#
# Real where it can be, recorded where it cannot:
#   hostname, hostnamectl      recorded only (the host's name is never changed)
#   systemctl                  a tiny state per unit in $AIRSTRAP_ROOT/run/units/UNIT.{active,enabled},
#                              for the units the root has (usr/lib/systemd/system, etc/systemd/system,
#                              el7's SysV etc/rc.d/init.d); any other unit fails as systemd 219 does;
#                              firewalld, NetworkManager and network start "active"/"enabled" so the
#                              disable path is exercised; chronyd is real (below)
#   systemctl (re)start chronyd  a real `chronyd -x -u root` for this root: the daemon's
#                              etc/chrony.conf with its paths moved under the root, a pidfile, and a
#                              command socket at $AIRSTRAP_ROOT/run/chronyd.sock (no UDP command port)
#   chronyc ARGS               real `chronyc -h $AIRSTRAP_ROOT/run/chronyd.sock ARGS`
#   (with a file $AIRSTRAP_ROOT/run/fake-chrony, for bench/firstboot with many nodes: no chronyd;
#   `chronyc … tracking` answers "synchronised" at once, to the etc/chrony.conf's first server,
#   or to the local clock at stratum 10 when it has none)
#   getenforce / setenforce    state in $AIRSTRAP_ROOT/run/selinux ("Disabled" when absent; the
#                              test library seeds "Enforcing" on the compute nodes so the
#                              setenforce 0 path runs; setenforce 0 → "Permissive")
#   yum/dnf repolist           Debian's dnf on the root's own etc/yum.repos.d (--installroot, the
#                              files' file:// baseurls read under the root, as in a chroot): el8/9's
#                              `dnf repolist` as is (no metadata read, like theirs); el7's `yum
#                              repolist` loads every enabled repository's metadata first (dnf
#                              repoinfo) and fails as yum does when one cannot be read
#   ssh-keygen -A              `ssh-keygen -A -f $AIRSTRAP_ROOT`; any other ssh-keygen as is (the
#                              daemon already passes rooted paths)
#   rpm -q / rpm -e            installed packages listed in $AIRSTRAP_ROOT/run/rpm-installed (the
#                              library seeds libvirt-daemon-config-network on compute nodes)
#   restorecon PATH…           each PATH must exist (no labels are set); fails when the root's
#                              SELinux state is Disabled, as policycoreutils' restorecon does
#   modprobe                   recorded, exit 0
#   ip                         real (it sees the namespace's NICs)
#   ssh                        real, with the node's root key, the root's ssh_known_hosts as the only
#                              known hosts file and no user config; the daemon's options follow
#   packstack, openstack       the stand-ins in $FB_FIXTURES (tests/fixtures/stand-ins) for the
#                              release table $FB_PACKSTACK_TSV, their state under the root;
#                              with FB_PACKSTACK_REAL=1, upstream Packstack (packstack-real) for
#                              --gen-answer-file, and its --dry-run on a file before the stand-in
#                              applies it (real_packstack below)
#   anything else              recorded, exit 127
# Each command is appended to $AIRSTRAP_ROOT/hook.log as one line: time, rc=N, the argv
# (shell-quoted where needed). Output and exit code are the command's.
set -uo pipefail
: "${AIRSTRAP_ROOT:?the daemon did not set AIRSTRAP_ROOT}"
ROOT=$AIRSTRAP_ROOT
NODE=${AIRSTRAP_NODE:-unknown}
RUN=$ROOT/run
mkdir -p "$RUN/units"
chmod 0750 "$RUN"  # chronyd refuses a socket folder others can read

record() {  # record RC ARGV...
    local rc=$1 line
    shift
    printf -v line '%q ' "$@"
    printf '%s rc=%d %s\n' "$(date +%H:%M:%S.%3N)" "$rc" "${line% }" >>"$ROOT/hook.log"
}

# ---- systemctl --------------------------------------------------------------------------------
unit_name() { local u=${1%.service}; printf '%s' "$u"; }
unit_get() {  # unit_get UNIT active|enabled
    local f=$RUN/units/$1.$2
    if [ -f "$f" ]; then cat "$f"; return; fi
    case $1:$2 in
        firewalld:active | NetworkManager:active | network:active) echo active ;;
        firewalld:enabled | NetworkManager:enabled | network:enabled | chronyd:enabled | sshd:enabled) echo enabled ;;
        sshd:active) echo active ;;
        *:active) echo inactive ;;
        *:enabled) echo disabled ;;
    esac
}
unit_set() { printf '%s\n' "$3" >"$RUN/units/$1.$2"; }

chronyd_pid() {
    local pid
    if [ -f "$RUN/fake-chrony" ]; then [ "$(unit_get chronyd active)" = active ]; return; fi
    pid=$(cat "$RUN/chronyd.pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && printf '%s' "$pid"
}
chronyd_stop() {
    local pid i
    [ -f "$RUN/fake-chrony" ] && return 0
    pid=$(chronyd_pid) || return 0
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    return 0
}
# The daemon's chrony.conf, with every path moved under the root and our own command socket.
chronyd_start() {
    local conf=$ROOT/etc/chrony.conf test_conf=$RUN/chrony.test.conf i
    [ -f "$conf" ] || { echo "Job for chronyd.service failed: no $conf" >&2; return 1; }
    [ -f "$RUN/fake-chrony" ] && return 0
    chronyd_stop
    mkdir -p "$ROOT/var/lib/chrony" "$ROOT/var/log/chrony"
    awk -v root="$ROOT" '
        $1 ~ /^(pidfile|bindcmdaddress|cmdport|rtcsync|hwtimestamp|user)$/ { next }
        $1 ~ /^(driftfile|logdir|keyfile|dumpdir|ntsdumpdir)$/ && $2 ~ /^\// { $2 = root $2 }
        { print }
        END {
            print "pidfile " root "/run/chronyd.pid"
            print "bindcmdaddress " root "/run/chronyd.sock"
            print "cmdport 0"
        }' "$conf" >"$test_conf"
    rm -f "$RUN/chronyd.sock"
    # Own process group, no inherited descriptors: the daemon reading our output must see EOF.
    setsid chronyd -x -u root -f "$test_conf" </dev/null >>"$RUN/chronyd.log" 2>&1
    for i in $(seq 50); do
        [ -S "$RUN/chronyd.sock" ] && chronyd_pid >/dev/null && return 0
        sleep 0.1
    done
    echo "Job for chronyd.service failed: see $RUN/chronyd.log" >&2
    tail -5 "$RUN/chronyd.log" >&2
    return 1
}

# The unit files (or SysV script) of UNIT in the root.
unit_exists() {
    [ -f "$ROOT/usr/lib/systemd/system/$1.service" ] || [ -f "$ROOT/etc/systemd/system/$1.service" ] ||
        [ -f "$ROOT/etc/rc.d/init.d/$1" ]
}
# What systemd 219 (el7) says of a unit it does not have, and its exit code.
unit_missing() {  # unit_missing VERB UNIT
    case $1 in
        is-active) echo unknown; return 3 ;;
        is-enabled) echo "Failed to get unit file state for $2.service: No such file or directory" >&2; return 1 ;;
        enable | disable) echo "Failed to execute operation: No such file or directory" >&2; return 1 ;;
        stop) echo "Failed to stop $2.service: Unit $2.service not loaded." >&2; return 5 ;;
        *) echo "Failed to $1 $2.service: Unit not found." >&2; return 5 ;;
    esac
}

do_systemctl() {
    local verb='' now=0 units=() a u st rc=0 urc
    for a in "$@"; do
        case $a in
            --now) now=1 ;;
            -q | --quiet | --no-block | --no-pager) ;;
            -*) echo "hook: systemctl: option '$a' not modelled" >&2; return 127 ;;
            *) if [ -z "$verb" ]; then verb=$a; else units+=("$(unit_name "$a")"); fi ;;
        esac
    done
    for u in "${units[@]}"; do
        if [ "$verb" != mask ] && ! unit_exists "$u"; then
            urc=0
            unit_missing "$verb" "$u" || urc=$?
            ((rc == 0)) && rc=$urc
            continue
        fi
        case $verb in
            is-active)
                if [ "$u" = chronyd ]; then
                    if chronyd_pid >/dev/null; then st=active; else st=inactive; fi
                else
                    st=$(unit_get "$u" active)
                fi
                echo "$st"
                [ "$st" = active ] || rc=3 ;;
            is-enabled)
                st=$(unit_get "$u" enabled)
                echo "$st"
                [ "$st" = enabled ] || rc=1 ;;
            disable | mask)
                if [ "$verb" = mask ]; then unit_set "$u" enabled masked; else unit_set "$u" enabled disabled; fi
                if ((now)); then
                    [ "$u" = chronyd ] && chronyd_stop
                    unit_set "$u" active inactive
                fi ;;
            enable)
                unit_set "$u" enabled enabled
                if ((now)); then
                    if [ "$u" = chronyd ]; then chronyd_start || rc=1; fi
                    unit_set "$u" active active
                fi ;;
            start | restart | reload-or-restart | try-restart)
                if [ "$u" = chronyd ]; then
                    if [ "$verb" = start ] && chronyd_pid >/dev/null; then :; else chronyd_start || rc=1; fi
                fi
                ((rc == 0)) && unit_set "$u" active active ;;
            stop)
                [ "$u" = chronyd ] && chronyd_stop
                unit_set "$u" active inactive ;;
            *) echo "hook: systemctl $verb is not modelled" >&2; return 127 ;;
        esac
    done
    if [ -z "$verb" ] || ((${#units[@]} == 0)); then echo "hook: systemctl: no verb or unit" >&2; return 127; fi
    return $rc
}

# ---- the rest ----------------------------------------------------------------------------------
rpm_installed() { grep -qxF "$1" "$RUN/rpm-installed" 2>/dev/null; }
do_rpm() {
    local mode=$1 p rc=0
    shift
    case $mode in
        -q)
            for p in "$@"; do
                if rpm_installed "$p"; then echo "$p-4.5.0-36.el7.x86_64"; else echo "package $p is not installed"; rc=1; fi
            done ;;
        -e)
            for p in "$@"; do
                [ "$p" = --nodeps ] && continue
                if rpm_installed "$p"; then
                    grep -vxF "$p" "$RUN/rpm-installed" >"$RUN/rpm-installed.new"
                    mv "$RUN/rpm-installed.new" "$RUN/rpm-installed"
                else
                    echo "error: package $p is not installed" >&2
                    rc=1
                fi
            done ;;
        *) echo "hook: rpm $mode is not modelled" >&2; rc=127 ;;
    esac
    return $rc
}

fake_chronyc() {
    [[ " $* " == *" tracking "* ]] || return 0
    local server hex=7F7F0101 name='' stratum=10
    server=$(awk '$1 == "server" { print $2; exit }' "$ROOT/etc/chrony.conf" 2>/dev/null)
    if [ -n "$server" ]; then
        IFS=. read -r a b c d <<<"$server"
        printf -v hex '%02X%02X%02X%02X' "$a" "$b" "$c" "$d"
        name=$server stratum=11
    fi
    cat <<EOF
Reference ID    : $hex ($name)
Stratum         : $stratum
Ref time (UTC)  : $(date -u '+%a %b %d %H:%M:%S %Y')
System time     : 0.000000000 seconds fast of NTP time
Last offset     : +0.000000000 seconds
RMS offset      : 0.000000000 seconds
Frequency       : 0.000 ppm slow
Residual freq   : +0.000 ppm
Skew            : 0.000 ppm
Root delay      : 0.000000000 seconds
Root dispersion : 0.000000000 seconds
Update interval : 2.0 seconds
Leap status     : Normal
EOF
}

# ---- yum/dnf repolist --------------------------------------------------------------------------
# Debian's dnf on the root's etc/yum.repos.d: each file copied with its file:// URLs moved
# under the root (the node's / is $ROOT), no host configuration, cache and logs in run/.
root_dnf() {
    local rd=$RUN/yum.repos.d f release
    rm -rf "$rd"
    mkdir -p "$rd" "$RUN/dnf"
    for f in "$ROOT"/etc/yum.repos.d/*.repo; do
        [ -f "$f" ] || continue
        sed -E "s#^((baseurl|gpgkey)[[:space:]]*=[[:space:]]*)file://#\\1file://$ROOT#" "$f" >"$rd/${f##*/}"
    done
    printf '[main]\nlogdir=%s\n' "$RUN/dnf" >"$RUN/dnf.conf"
    release=$(sed -n 's/^ *"distro": *"el\([0-9]*\)".*/\1/p' "$ROOT/etc/airstrap/site.json" 2>/dev/null | head -1)
    dnf --installroot="$ROOT" --config="$RUN/dnf.conf" --setopt=reposdir="$rd" \
        --setopt=cachedir="$RUN/dnf/cache" --setopt=persistdir="$RUN/dnf/persist" \
        --releasever="${release:-7}" "$@"
}
repolist() {  # repolist yum|dnf ARGS...: as the node's yum (el7) or dnf (el8/9) would answer
    local tool=$1 out rc=0
    shift
    if [ "$tool" = dnf ]; then
        root_dnf "$@"
        return
    fi
    # el7's yum reads every enabled repository's metadata before it lists them.
    out=$(root_dnf -q repoinfo --enabled 2>&1) || rc=$?
    if ((rc != 0)); then
        printf 'One of the configured repositories failed\n%s\n' "$out" >&2
        return 1
    fi
    awk '
        BEGIN { printf "%-30s %-40s %s\n", "repo id", "repo name", "status" }
        /^Repo-id / { sub(/^[^:]*: /, ""); id = $0 }
        /^Repo-name / { sub(/^[^:]*: /, ""); name = $0 }
        /^Repo-pkgs / { sub(/^[^:]*: /, ""); printf "%-30s %-40s %s\n", id, name, $0; total += $0 }
        END { printf "repolist: %d\n", total }' <<<"$out"
}

selinux_mode() { cat "$RUN/selinux" 2>/dev/null || echo Disabled; }

# ---- packstack, openstack ---------------------------------------------------------------------
# The stand-ins (tests/fixtures/stand-ins) check their input strictly and keep a fixture cloud
# under the root; they reach the nodes with real ssh and the controller's root key, without host
# key checks, as packstack does, and probe the hosts' port 22 as packstack's validators do.
stand_in() {
    if [ -z "${FB_FIXTURES:-}" ]; then
        echo "hook: no stand-in for $1 (FB_FIXTURES is not set)" >&2
        return 127
    fi
    FIXTURE_ROOT=$ROOT FIXTURE_PACKSTACK_TSV=${FB_PACKSTACK_TSV:-} FIXTURE_PROBE_SSH=1 \
        FIXTURE_SSH="ssh -i $ROOT/root/.ssh/id_ed25519 ${FB_STANDIN_SSH_OPTIONS:-}" \
        "$FB_FIXTURES/$1" "${@:2}"
}
# With FB_PACKSTACK_REAL=1 (a release whose Packstack runs on Python 3): upstream Packstack
# (tests/fixtures/stand-ins/packstack-real) writes the answer file, and checks the one to apply
# with its own --dry-run (validators that connect to the hosts' port 22, ssh to every host,
# manifests generated) before the stand-in applies it (Puppet cannot run here). A refused file
# fails as packstack fails, with its output. Every real run is appended to run/packstack-real.log:
# "==== ARGS", its output, "==== exit RC after S s".
real_packstack() {
    local rc=0 t0=$SECONDS log=$RUN/packstack-real.log out=$RUN/packstack-real.out file=''
    case ${2:-} in
        --gen-answer-file=*) ;;
        --gen-answer-file) ;;
        --answer-file=*) file=${2#--answer-file=} ;;
        --answer-file) file=${3:-} ;;
        *) stand_in "$@"; return ;;
    esac
    if [ -z "$file" ]; then
        printf '==== %s\n' "${*:2}" >>"$log"
        FIXTURE_ROOT=$ROOT "$FB_FIXTURES/packstack-real" "${@:2}" >"$out" 2>&1 || rc=$?
        cat "$out" >>"$log"
        printf '==== exit %d after %d s\n' "$rc" $((SECONDS - t0)) >>"$log"
        cat "$out"
        return $rc
    fi
    printf '==== --answer-file=%s --dry-run\n' "$file" >>"$log"
    FIXTURE_ROOT=$ROOT "$FB_FIXTURES/packstack-real" --answer-file="$file" --dry-run >"$out" 2>&1 || rc=$?
    cat "$out" >>"$log"
    printf '==== exit %d after %d s\n' "$rc" $((SECONDS - t0)) >>"$log"
    if ((rc != 0)); then
        cat "$out"
        return $rc
    fi
    stand_in "$@"
}

dispatch() {
    case $1 in
        hostname | hostnamectl)
            [ $# -eq 1 ] && { cat "$ROOT/etc/hostname" 2>/dev/null || echo "$NODE"; }
            return 0 ;;
        systemctl) shift; do_systemctl "$@" ;;
        getenforce) selinux_mode ;;
        setenforce)
            case ${2:-} in
                0 | Permissive | permissive)
                    [ "$(selinux_mode)" = Disabled ] && { echo "setenforce: SELinux is disabled" >&2; return 1; }
                    echo Permissive >"$RUN/selinux" ;;
                1 | Enforcing | enforcing) echo Enforcing >"$RUN/selinux" ;;
                *) echo "usage:  setenforce [ Enforcing | Permissive | 1 | 0 ]" >&2; return 1 ;;
            esac ;;
        yum | dnf)
            if [[ " $* " == *" repolist "* ]]; then
                repolist "$@"
            else
                echo "hook: $* is not modelled" >&2
                return 127
            fi ;;
        ssh-keygen)
            if [ $# -eq 2 ] && [ "$2" = -A ]; then
                mkdir -p "$ROOT/etc/ssh"
                ssh-keygen -A -f "$ROOT"
            else
                "$@"
            fi ;;
        rpm) shift; do_rpm "$@" ;;
        restorecon)
            # No labels here: each path must exist, as restorecon's lstat needs; with SELinux
            # disabled it answers as policycoreutils does.
            shift
            [ "$(selinux_mode)" = Disabled ] && { echo "restorecon: SELinux is disabled" >&2; return 255; }
            local p
            for p in "$@"; do
                [[ $p == -* ]] && continue
                [ -e "$p" ] || { echo "restorecon:  lstat($p) failed:  No such file or directory" >&2; return 255; }
            done ;;
        modprobe) return 0 ;;
        ip | ping) "$@" ;;  # in the node's namespace: its own links
        chronyc)
            shift
            if [ -f "$RUN/fake-chrony" ]; then fake_chronyc "$@"; else chronyc -h "$RUN/chronyd.sock" "$@"; fi ;;
        ssh)
            shift
            ssh -i "$ROOT/root/.ssh/id_ed25519" -o IdentitiesOnly=yes -o UserKnownHostsFile=/dev/null \
                -o "GlobalKnownHostsFile=$ROOT/etc/ssh/ssh_known_hosts" -F /dev/null "$@" ;;
        packstack)
            if [ "${FB_PACKSTACK_REAL:-0}" = 1 ]; then real_packstack "$@"; else stand_in "$@"; fi ;;
        openstack)
            # Stand-ins (tests/fixtures/stand-ins) that check their input strictly and keep a
            # fixture cloud under the root; they reach the nodes with real ssh and the
            # controller's root key, without host key checks, as packstack does.
            if [ -z "${FB_FIXTURES:-}" ]; then
                echo "hook: no stand-in for $1 (FB_FIXTURES is not set)" >&2
                return 127
            fi
            stand_in "$@" ;;
        *)
            echo "hook: '$1' is not modelled by tests/integration/firstboot-hook.sh" >&2
            return 127 ;;
    esac
}

[ $# -ge 1 ] || { echo "hook: no command" >&2; exit 127; }
dispatch "$@"
rc=$?
record "$rc" "$@"
exit "$rc"
