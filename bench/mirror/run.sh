#!/usr/bin/env bash
# bench/mirror: `airstrap mirror --all` vs `dnf reposync` vs `curl --parallel` (the floor),
# all fetching the same N tiny RPMs from nginx on this machine, in one run. See README.md.
#
#   bench/mirror/run.sh [--packages N] [--delay-ms D] [--runs R] [--jobs J] [--quick]
#
# dnf runs twice: at its default max_parallel_downloads and at airstrap's --jobs (dnf caps it
# at 20); the goals compare with the faster. --quick (CI): 200 packages, one run of each; it
# checks that every tool succeeds and prints the ratios.
# Nothing is downloaded: the RPMs are generated locally (cached in bench/.cache/), the server
# is nginx on 127.0.0.1 (or, with --delay-ms, inside a network namespace this script creates),
# and every client is pointed at it only. Prints a table, the ratios and the goals (informational:
# the exit status is 0 unless a tool failed), and writes bench/mirror/last-results.json.
set -euo pipefail

PACKAGES=2000
DELAY_MS=0
RUNS=3
JOBS=16

usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while (($#)); do
    case $1 in
        --packages) PACKAGES=${2:?--packages needs a number}; shift 2 ;;
        --packages=*) PACKAGES=${1#*=}; shift ;;
        --delay-ms) DELAY_MS=${2:?--delay-ms needs a number}; shift 2 ;;
        --delay-ms=*) DELAY_MS=${1#*=}; shift ;;
        --runs) RUNS=${2:?--runs needs a number}; shift 2 ;;
        --runs=*) RUNS=${1#*=}; shift ;;
        --jobs) JOBS=${2:?--jobs needs a number}; shift 2 ;;
        --jobs=*) JOBS=${1#*=}; shift ;;
        --quick) QUICK=1; PACKAGES=200; RUNS=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
for v in PACKAGES DELAY_MS RUNS JOBS; do
    [[ ${!v} =~ ^[0-9]+$ ]] || { echo "run.sh: ${v,,} must be a whole number" >&2; exit 2; }
done
((PACKAGES >= 1 && PACKAGES <= 9999)) || { echo "run.sh: --packages must be 1..9999" >&2; exit 2; }
((RUNS >= 1)) || { echo "run.sh: --runs must be at least 1" >&2; exit 2; }
((JOBS >= 1 && JOBS <= 64)) || { echo "run.sh: --jobs must be 1..64" >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH=$(dirname "$HERE")
ROOT=$(dirname "$BENCH")
AIRSTRAP=${AIRSTRAP:-$ROOT/build/airstrap}
SITE_TEMPLATE=$ROOT/examples/lab3/site.yaml
CACHE=$BENCH/.cache
RESULTS=$HERE/last-results.json
((${QUICK:-0})) && RESULTS=$HERE/last-quick-results.json   # a full run's results stay
WORKDIR=${BENCH_WORKDIR:-/work}   # the scratch folder goes here (not /tmp: it holds the outputs)
GEN_VERSION=1                     # bump when the generated repository changes

# Under CI=true (which installs everything) a missing prerequisite is a failure.
skip() {
    echo "skipped: $*"
    [[ ${CI:-} != true ]] || exit 1
    exit 0
}
die() { echo "run.sh: $*" >&2; exit 1; }
say() { printf '==> %s\n' "$*"; }

# ---- prerequisites -----------------------------------------------------------------------------
[[ -x $AIRSTRAP ]] || skip "no airstrap binary at $AIRSTRAP (cmake --build $ROOT/build)"
[[ -f $SITE_TEMPLATE ]] || skip "no $SITE_TEMPLATE"
for tool in nginx rpmbuild createrepo_c dnf curl python3; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install -y nginx rpm createrepo-c dnf-plugins-core curl python3)"
done
[[ -x /usr/bin/time ]] || skip "/usr/bin/time is not installed (apt-get install -y time)"
python3 -c 'import random; random.Random(1).randbytes(1)' 2>/dev/null || skip "python3 is older than 3.9"
HYPERFINE=$(command -v hyperfine || true)
[[ -n ${BENCH_NO_HYPERFINE:-} ]] && HYPERFINE=''   # force the date loop
[[ -d $WORKDIR && -w $WORKDIR ]] || skip "scratch parent $WORKDIR is not a writable folder (set BENCH_WORKDIR)"

# ---- scratch folder, cleanup -------------------------------------------------------------------
SCRATCH=$(mktemp -d "$WORKDIR/airstrap-bench.XXXXXX")
NGINX_PID=
NETNS=
VETH_HOST=
cleanup() {
    local status=$?
    if [[ -n $NGINX_PID ]]; then
        kill -TERM "$NGINX_PID" 2>/dev/null || true
        wait "$NGINX_PID" 2>/dev/null || true
    fi
    [[ -n $VETH_HOST ]] && ip link del "$VETH_HOST" 2>/dev/null
    [[ -n $NETNS ]] && ip netns del "$NETNS" 2>/dev/null
    # Only the folder mktemp made above, by its exact path.
    [[ -n $SCRATCH && -d $SCRATCH ]] && rm -rf -- "$SCRATCH"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
say "scratch folder $SCRATCH"

# dnf confined to the scratch folder: no host repositories, cache, logs or state.
D_DIR=$SCRATCH/dnf        # download path $D_DIR/download, cache $D_DIR/cache, logs $D_DIR/log
DNF_CONF=$SCRATCH/dnf.conf
mkdir -p "$SCRATCH/dnf-repos.d"
cat >"$DNF_CONF" <<EOF
[main]
reposdir=$SCRATCH/dnf-repos.d
cachedir=$D_DIR/cache
logdir=$D_DIR/log
persistdir=$D_DIR/persist
gpgcheck=0
EOF
dnf -q -c "$DNF_CONF" --releasever=9 reposync --help >/dev/null 2>&1 ||
    skip "dnf reposync is not available (apt-get install -y dnf-plugins-core)"

# ---- 1. the repository: N noarch RPMs from one spec, cached -------------------------------------
REPO=$CACHE/repo-$PACKAGES-v$GEN_VERSION
repo_ok() {
    [[ -f $REPO/repodata/repomd.xml && -f $REPO/.complete ]] &&
        [[ $(find "$REPO/Packages" -maxdepth 1 -name '*.rpm' | wc -l) -eq $PACKAGES ]]
}
if repo_ok; then
    say "repository: $PACKAGES packages cached in $REPO"
else
    say "generating $PACKAGES RPMs (one spec, one rpmbuild; cached for later runs)"
    started=$EPOCHREALTIME
    top=$SCRATCH/rpmbuild
    mkdir -p "$top/SOURCES/data" "$top/tmp"
    # A few KiB of pseudo-random (incompressible, reproducible) data per package.
    python3 - "$top/SOURCES/data" "$PACKAGES" <<'EOF'
import random, sys
out, n = sys.argv[1], int(sys.argv[2])
r = random.Random(20240601)
for i in range(1, n + 1):
    with open(f"{out}/{i:04d}", "wb") as f:
        f.write(r.randbytes(r.randint(2048, 12288)))
EOF
    spec=$top/benchpkg.spec
    {
        cat <<'EOF'
Name:           benchpkg
Version:        1.0
Release:        1
Summary:        airstrap mirror benchmark packages
License:        MIT
BuildArch:      noarch
%global debug_package %{nil}
%global __os_install_post %{nil}
%global _build_id_links none

%description
Generated by bench/mirror/run.sh; only the subpackages are built.

%install
mkdir -p %{buildroot}/usr/share/benchpkg
cp -p %{_sourcedir}/data/* %{buildroot}/usr/share/benchpkg/
EOF
        for ((i = 1; i <= PACKAGES; i++)); do
            printf -v n '%04d' "$i"
            printf '\n%%package -n benchpkg-%s\nSummary: benchmark package %s\n' "$n" "$n"
            printf '%%description -n benchpkg-%s\nBenchmark package %s.\n' "$n" "$n"
            printf '%%files -n benchpkg-%s\n/usr/share/benchpkg/%s\n' "$n" "$n"
        done
    } >"$spec"
    rpmbuild -bb --quiet \
        --define "_topdir $top" \
        --define "_tmppath $top/tmp" \
        --define "_binary_payload w9.gzdio" \
        "$spec" >"$SCRATCH/rpmbuild.log" 2>&1 || { tail -20 "$SCRATCH/rpmbuild.log" >&2; die "rpmbuild failed"; }
    new=$SCRATCH/repo
    mkdir -p "$new"
    mv "$top/RPMS/noarch" "$new/Packages"
    createrepo_c --quiet --general-compress-type=gz "$new" || die "createrepo_c failed"
    touch "$new/.complete"
    mkdir -p "$CACHE"
    # A stale cached repository is moved into the scratch folder (removed with it at exit).
    [[ -e $REPO ]] && mv "$REPO" "$SCRATCH/stale-repo"
    mv "$new" "$REPO"
    repo_ok || die "the generated repository is incomplete"
    say "generated in $(python3 -c "print(f'{$EPOCHREALTIME - $started:.1f}')") s"
fi
REPO_BYTES=$(du -sb --apparent-size "$REPO/Packages" | cut -f1)

# The package locations, from the repository's own primary.xml (what every client reads).
python3 - "$REPO" >"$SCRATCH/locations.txt" <<'EOF'
import gzip, re, sys, xml.etree.ElementTree as ET
repo = sys.argv[1]
md = ET.parse(f"{repo}/repodata/repomd.xml").getroot()
ns = {"r": "http://linux.duke.edu/metadata/repo"}
href = next(d.find("r:location", ns).get("href") for d in md.findall("r:data", ns) if d.get("type") == "primary")
for _, el in ET.iterparse(gzip.open(f"{repo}/{href}")):
    if el.tag.endswith("}location") and el.get("href", "").endswith(".rpm"):
        print(el.get("href"))
EOF
[[ $(wc -l <"$SCRATCH/locations.txt") -eq $PACKAGES ]] || die "primary.xml does not list $PACKAGES packages"

# ---- 2./3. nginx, with the delay if asked for ---------------------------------------------------
NGX=$SCRATCH/nginx
mkdir -p "$NGX/logs"
DELAY_METHOD=none
DELAY_NOTE=""
NGINX_WRAP=()
LISTEN_HOST=127.0.0.1
ECHO_MODULE=/usr/lib/nginx/modules/ngx_http_echo_module.so

teardown_netns() {
    [[ -n $VETH_HOST ]] && ip link del "$VETH_HOST" 2>/dev/null
    [[ -n $NETNS ]] && ip netns del "$NETNS" 2>/dev/null
    VETH_HOST=''
    NETNS=''
    return 0
}
# netem: nginx in a namespace of its own behind a veth pair (10.203.0.1 here, 10.203.0.2 there);
# the namespace's end delays every packet it sends by D ms, so each request/response round trip
# (and the TCP handshake) takes D ms longer. The addresses exist only on this pair.
try_netem() {
    ((EUID == 0)) || { DELAY_NOTE="netem needs root"; return 1; }
    if ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
        DELAY_NOTE="ip/tc missing (apt-get install -y iproute2)"
        return 1
    fi
    if ip -o addr show | grep -q ' 10\.203\.0\.'; then DELAY_NOTE="10.203.0.0/24 already in use here"; return 1; fi
    NETNS=airstrap-bench-$$
    VETH_HOST=abh$$
    local veth_ns=abn$$ err
    ip netns add "$NETNS" 2>"$SCRATCH/netns.err" || { NETNS=; DELAY_NOTE="ip netns add: $(head -1 "$SCRATCH/netns.err")"; return 1; }
    if ! { ip link add "$VETH_HOST" type veth peer name "$veth_ns" &&
        ip link set "$veth_ns" netns "$NETNS" &&
        ip addr add 10.203.0.1/24 dev "$VETH_HOST" && ip link set "$VETH_HOST" up &&
        ip netns exec "$NETNS" ip link set lo up &&
        ip netns exec "$NETNS" ip addr add 10.203.0.2/24 dev "$veth_ns" &&
        ip netns exec "$NETNS" ip link set "$veth_ns" up; } 2>"$SCRATCH/netns.err"; then
        DELAY_NOTE="veth: $(head -1 "$SCRATCH/netns.err")"
        ip link show "$VETH_HOST" >/dev/null 2>&1 || VETH_HOST=
        teardown_netns
        return 1
    fi
    if ! err=$(ip netns exec "$NETNS" tc qdisc add dev "$veth_ns" root netem delay "${DELAY_MS}ms" limit 100000 2>&1); then
        DELAY_NOTE="tc netem: ${err:-failed} (kernel without sch_netem?)"
        teardown_netns
        return 1
    fi
    NGINX_WRAP=(ip netns exec "$NETNS")
    LISTEN_HOST=10.203.0.2
    DELAY_METHOD=netem
    DELAY_NOTE="tc netem delay ${DELAY_MS}ms on the server's end of a veth pair (namespace $NETNS)"
    return 0
}
if ((DELAY_MS > 0)); then
    if ! try_netem; then
        netem_why=$DELAY_NOTE
        if [[ -f $ECHO_MODULE ]]; then
            DELAY_METHOD=nginx-echo_sleep
            DELAY_NOTE="nginx echo_sleep ${DELAY_MS} ms before every response (netem unavailable: $netem_why)"
        else
            skip "delay case (netem unavailable: $netem_why; fallback nginx echo module missing: apt-get install -y libnginx-mod-http-echo)"
        fi
    fi
    say "delay: $DELAY_NOTE"
fi

if [[ $LISTEN_HOST == 127.0.0.1 ]]; then
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
else
    PORT=8080
fi
URL=http://$LISTEN_HOST:$PORT/
{
    echo "worker_processes auto;"
    echo "pid $NGX/nginx.pid;"
    echo "error_log $NGX/logs/error.log warn;"
    [[ $DELAY_METHOD == nginx-echo_sleep ]] && echo "load_module $ECHO_MODULE;"
    cat <<EOF
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $NGX/client_body;
    proxy_temp_path $NGX/proxy;
    fastcgi_temp_path $NGX/fastcgi;
    uwsgi_temp_path $NGX/uwsgi;
    scgi_temp_path $NGX/scgi;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 100000;
    keepalive_timeout 75s;
    default_type application/octet-stream;
    server {
        listen $LISTEN_HOST:$PORT;
        server_name bench;
        root $REPO;
EOF
    if [[ $DELAY_METHOD == nginx-echo_sleep ]]; then
        printf '        location / { echo_sleep %s; echo_exec @repo; }\n' \
            "$(python3 -c "print($DELAY_MS / 1000)")"
        echo "        location @repo { }"
    fi
    echo "    }"
    echo "}"
} >"$NGX/nginx.conf"
"${NGINX_WRAP[@]}" nginx -e "$NGX/logs/error.log" -p "$NGX" -c "$NGX/nginx.conf" -g 'daemon off;' \
    >"$NGX/logs/stdout.log" 2>&1 &
NGINX_PID=$!
for ((i = 0; i < 100; i++)); do
    curl -sf -o /dev/null "${URL}repodata/repomd.xml" && break
    kill -0 "$NGINX_PID" 2>/dev/null || { cat "$NGX/logs/error.log" >&2; NGINX_PID=; die "nginx did not start"; }
    sleep 0.05
done
curl -sf -o /dev/null "${URL}repodata/repomd.xml" || die "nginx does not answer on $URL"
first_pkg=$(head -1 "$SCRATCH/locations.txt")
# Three requests on one connection (the first also connects); the median, in ms.
REQUEST_MS=$(curl -sf -w '%{time_total}\n' -o /dev/null "$URL$first_pkg" -o /dev/null "$URL$first_pkg" \
    -o /dev/null "$URL$first_pkg" |
    python3 -c 'import sys,re; t=[float(x) for x in re.findall(r"\d+\.\d+", sys.stdin.read())]; print(f"{sorted(t)[len(t)//2]*1000:.1f}")')
say "nginx $(nginx -v 2>&1 | sed 's|.*/||') serving $REPO at $URL (one package request: $REQUEST_MS ms)"

# ---- 4. the clients' inputs ---------------------------------------------------------------------
SITE=$SCRATCH/site.yaml
python3 "$HERE/bench-site.py" "$SITE_TEMPLATE" "$SITE" url "$URL"

A_DIR=$SCRATCH/airstrap   # output $A_DIR/mirror, download folder $A_DIR/.mirror.download
C_DIR=$SCRATCH/curl       # files $C_DIR/files/<location>
RESET=$SCRATCH/reset.sh
cat >"$RESET" <<EOF
#!/bin/bash
# Empties one of this run's own output folders (they all live in $SCRATCH).
set -eu
case \$1 in $A_DIR | $D_DIR | $C_DIR) ;; *) echo "reset.sh: refusing \$1" >&2; exit 1 ;; esac
rm -rf -- "\$1"
mkdir -p -- "\$1"
# Write back what earlier runs left dirty, so no run pays for the one before it.
sync
EOF
chmod +x "$RESET"

while read -r loc; do
    printf 'url = "%s%s"\noutput = "%s/files/%s"\n' "$URL" "$loc" "$C_DIR" "$loc"
done <"$SCRATCH/locations.txt" >"$SCRATCH/curl.config"

A_CMD=("$AIRSTRAP" mirror "$SITE" -o "$A_DIR/mirror" --all --jobs "$JOBS")
D_CMD=(dnf -q -c "$DNF_CONF" reposync "--repofrompath=bench,$URL" --repoid=bench
    "--download-path=$D_DIR/download" --norepopath
    --setopt=reposdir=/dev/null "--setopt=cachedir=$D_DIR/cache" --releasever=9 --nogpgcheck)
D_REFRESH_CMD=("${D_CMD[@]}" --refresh)
# dnf at airstrap's parallelism (dnf refuses more than 20).
DNF_PAR=$((JOBS < 20 ? JOBS : 20))
DP_CMD=("${D_CMD[@]}" "--setopt=max_parallel_downloads=$DNF_PAR")
C_CMD=(curl --parallel --parallel-max "$JOBS" --fail --no-progress-meter --create-dirs
    --config "$SCRATCH/curl.config")
for cmd in "${A_CMD[@]}" "${D_CMD[@]}" "${C_CMD[@]}"; do
    [[ $cmd != *[[:space:]]* ]] || die "paths with spaces are not supported: '$cmd'"
done

count_rpms() { find "$1" -name '*.rpm' -type f 2>/dev/null | wc -l; }
check_count() { # label dir
    local n
    n=$(count_rpms "$2")
    ((n == PACKAGES)) || die "$1 left $n of $PACKAGES packages in $2"
}

# Warm-up, not timed: nginx and the page cache see every file once.
"$RESET" "$C_DIR"
"${C_CMD[@]}" || die "curl warm-up failed"
check_count "curl (warm-up)" "$C_DIR/files"

# ---- 5. timings --------------------------------------------------------------------------------
# measure KEY PREPARE-DIR|- CMD...: RUNS timed runs, each after emptying PREPARE-DIR (unless -),
# into $SCRATCH/t-KEY.json (hyperfine's JSON, or the same shape from a date loop).
measure() {
    local key=$1 prep=$2
    shift 2
    local out=$SCRATCH/t-$key.json
    if [[ -n $HYPERFINE ]]; then
        local args=(-N --runs "$RUNS" --style none --export-json "$out" --command-name "$key")
        [[ $prep != - ]] && args+=(--prepare "$RESET $prep")
        "$HYPERFINE" "${args[@]}" "$*" >/dev/null 2>"$SCRATCH/t-$key.err" ||
            { cat "$SCRATCH/t-$key.err" >&2; die "$key: a timed run failed (hyperfine)"; }
    else
        local times=() r t0 t1
        for ((r = 0; r < RUNS; r++)); do
            [[ $prep != - ]] && "$RESET" "$prep"
            t0=$EPOCHREALTIME
            "$@" >/dev/null 2>"$SCRATCH/t-$key.err" || { cat "$SCRATCH/t-$key.err" >&2; die "$key failed"; }
            t1=$EPOCHREALTIME
            times+=("$(python3 -c "print($t1 - $t0)")")
        done
        python3 - "$out" "$key" "${times[@]}" <<'EOF'
import json, statistics, sys
out, key, times = sys.argv[1], sys.argv[2], [float(t) for t in sys.argv[3:]]
json.dump({"results": [{"command": key, "mean": statistics.mean(times),
           "stddev": statistics.stdev(times) if len(times) > 1 else 0.0,
           "median": statistics.median(times), "min": min(times), "max": max(times),
           "times": times}]}, open(out, "w"))
EOF
    fi
    printf '    %-16s %s\n' "$key" "$(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; print(f\"{r['mean']:.3f} s mean of {len(r['times'])}\")" "$out")"
}

# Cold runs in interleaved rounds: each round runs every tool once, the order rotating, so that
# what slows this machine for a few seconds (curl's own time moves between 0.5 and 0.9 s from
# run to run) falls on every tool alike rather than on whichever ran then.
cold_run() { # key: one run into its emptied folder, its wall time appended to t-KEY.txt
    local key=$1 dir cmd t0 t1
    case $key in
        airstrap) dir=$A_DIR; cmd=("${A_CMD[@]}") ;;
        dnf) dir=$D_DIR; cmd=("${D_CMD[@]}") ;;
        dnf-par) dir=$D_DIR; cmd=("${DP_CMD[@]}") ;;
        curl) dir=$C_DIR; cmd=("${C_CMD[@]}") ;;
    esac
    "$RESET" "$dir"
    t0=$EPOCHREALTIME
    "${cmd[@]}" >/dev/null 2>"$SCRATCH/t-$key.err" || { cat "$SCRATCH/t-$key.err" >&2; die "$key failed"; }
    t1=$EPOCHREALTIME
    echo "$t0 $t1" >>"$SCRATCH/t-$key.txt"
    case $key in
        airstrap) check_count "airstrap mirror" "$A_DIR/mirror/Packages" ;;
        dnf) check_count "dnf reposync" "$D_DIR/download" ;;
        dnf-par) check_count "dnf reposync (max_parallel_downloads=$DNF_PAR)" "$D_DIR/download" ;;
        curl) check_count "curl" "$C_DIR/files" ;;
    esac
}
say "cold runs ($RUNS rounds; each tool once a round, the order rotating; every run into an empty folder)"
COLD=(airstrap dnf dnf-par curl)
for ((r = 0; r < RUNS; r++)); do
    for ((k = 0; k < ${#COLD[@]}; k++)); do cold_run "${COLD[$(((k + r) % ${#COLD[@]}))]}"; done
done
for key in "${COLD[@]}"; do
    python3 - "$SCRATCH/t-$key.txt" "$SCRATCH/t-$key.json" "$key" <<'EOF2'
import json, statistics, sys
times = [float(b) - float(a) for a, b in (line.split() for line in open(sys.argv[1]))]
json.dump({"results": [{"command": sys.argv[3], "mean": statistics.mean(times),
           "stddev": statistics.stdev(times) if len(times) > 1 else 0.0,
           "median": statistics.median(times), "min": min(times), "max": max(times),
           "times": times}]}, open(sys.argv[2], "w"))
print(f"    {sys.argv[3]:<16} {statistics.mean(times):.3f} s mean of {len(times)}")
EOF2
done
# The re-runs below start from the last cold runs' outputs: airstrap's, and dnf's download
# folder (from whichever of its two cold runs came last: the same packages).

say "no-change re-runs ($RUNS each; same output, nothing changed on the server)"
measure airstrap-rerun - "${A_CMD[@]}"
measure dnf-rerun - "${D_CMD[@]}"
measure dnf-par-rerun - "${DP_CMD[@]}"
measure dnf-refresh - "${D_REFRESH_CMD[@]}"
"${A_CMD[@]}" --json >"$SCRATCH/airstrap-rerun.json" 2>/dev/null || die "airstrap re-run failed"
A_REUSED=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["reused"])' "$SCRATCH/airstrap-rerun.json")
check_count "dnf reposync (re-run)" "$D_DIR/download"

say "peak RSS (one cold run each, /usr/bin/time -v); airstrap's phases from its log"
rss() { # key dir cmd...
    local key=$1 dir=$2
    shift 2
    "$RESET" "$dir"
    /usr/bin/time -v -o "$SCRATCH/rss-$key.txt" "$@" >/dev/null 2>"$SCRATCH/rss-$key.err" ||
        { cat "$SCRATCH/rss-$key.err" >&2; die "$key failed under /usr/bin/time"; }
}
# airstrap's log lines on stderr, stamped as they arrive: how long each phase took.
"$RESET" "$A_DIR"
PHASE_START=$EPOCHREALTIME
if ! /usr/bin/time -v -o "$SCRATCH/rss-airstrap.txt" "${A_CMD[@]}" 2>&1 >/dev/null |
    while IFS= read -r line; do printf '%s\t%s\n' "$EPOCHREALTIME" "$line"; done >"$SCRATCH/airstrap-phases.log"; then
    cat "$SCRATCH/airstrap-phases.log" >&2
    die "airstrap failed under /usr/bin/time"
fi
check_count "airstrap mirror (RSS run)" "$A_DIR/mirror/Packages"
rss dnf "$D_DIR" "${D_CMD[@]}"
rss curl "$C_DIR" "${C_CMD[@]}"

# ---- 6. table, ratios, goals, JSON -------------------------------------------------------------
# What was measured is the binary; the checkout's HEAD may be newer than the build.
AIRSTRAP_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
AIRSTRAP_BIN="$("$AIRSTRAP" --version 2>/dev/null | head -1), built $(date -u -r "$AIRSTRAP" +%FT%TZ), sha256 $(sha256sum "$AIRSTRAP" | cut -c1-12)"
export DNF_PAR SCRATCH RESULTS PACKAGES DELAY_MS DELAY_METHOD DELAY_NOTE RUNS JOBS REPO_BYTES URL REQUEST_MS \
    A_REUSED PHASE_START AIRSTRAP_REV AIRSTRAP_BIN
TOOL_HYPERFINE=${HYPERFINE:+$("$HYPERFINE" --version)}
TOOL_NGINX=$(nginx -v 2>&1 | sed 's|.*/||')
TOOL_DNF=$(dnf --version 2>/dev/null | head -1)
TOOL_DNF_PARALLEL=$(/usr/bin/python3 -c 'import dnf; print(dnf.conf.Conf().max_parallel_downloads)' 2>/dev/null || echo unknown)
TOOL_CURL=$(curl --version | head -1 | cut -d' ' -f2)
TOOL_CREATEREPO=$(createrepo_c --version | sed -n 's/^Version: \([^ ]*\).*/\1/p')
CPUS=$(nproc)
export TOOL_HYPERFINE TOOL_NGINX TOOL_DNF TOOL_DNF_PARALLEL TOOL_CURL TOOL_CREATEREPO CPUS
export A_CMD_TEXT="${A_CMD[*]}" D_CMD_TEXT="${D_CMD[*]}" DP_CMD_TEXT="${DP_CMD[*]}" C_CMD_TEXT="${C_CMD[*]}"
python3 - <<'EOF'
import json, os, re
E = os.environ
S = E["SCRATCH"]
delay = int(E["DELAY_MS"])

def timing(key):
    r = json.load(open(f"{S}/t-{key}.json"))["results"][0]
    out = {k: r[k] for k in ("mean", "stddev", "median", "min", "max", "times") if k in r}
    if out.get("stddev") is None:  # hyperfine with --runs 1
        out["stddev"] = 0.0
    return out

def rss_kb(key):
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(f"{S}/rss-{key}.txt").read())
    return int(m.group(1))

t = {k: timing(k) for k in ("airstrap", "dnf", "dnf-par", "curl", "airstrap-rerun", "dnf-rerun",
                             "dnf-par-rerun", "dnf-refresh")}
rss = {k: rss_kb(k) for k in ("airstrap", "dnf", "curl")}

# Phases: the time from the start to each of airstrap's log lines (progress lines dropped).
phases, start, prev = [], float(E["PHASE_START"]), None
for line in open(f"{S}/airstrap-phases.log"):
    stamp, _, text = line.rstrip("\n").partition("\t")
    text = text.removeprefix("airstrap: ")
    if text.startswith("fetched ") or text.startswith("\tCommand being timed"):
        continue
    if text.startswith(("wrote ", "\t")) or not text.strip():
        continue
    phases.append({"at_s": round(float(stamp) - start, 3), "line": text})

m = lambda k: t[k]["mean"]
# The faster dnf: its default or max_parallel_downloads = --jobs.
best_dnf = min(("dnf", "dnf-par"), key=m)
best_rerun = min(("dnf-rerun", "dnf-par-rerun"), key=m)
ratios = {
    "airstrap/dnf": m("airstrap") / m(best_dnf),
    "airstrap/curl": m("airstrap") / m("curl"),
    "rerun airstrap/dnf": m("airstrap-rerun") / m(best_rerun),
    "speedup vs dnf": m(best_dnf) / m("airstrap"),
    "speedup vs dnf default": m("dnf") / m("airstrap"),
    "speedup vs dnf parallel": m("dnf-par") / m("airstrap"),
}
goals = []
if delay == 0:
    goals.append({"goal": "at least 2x faster than the faster dnf reposync (loopback)", "value": ratios["speedup vs dnf"], "target": ">= 2", "pass": ratios["speedup vs dnf"] >= 2})
    goals.append({"goal": "within 1.3x of curl --parallel (loopback)", "value": ratios["airstrap/curl"], "target": "<= 1.3", "pass": ratios["airstrap/curl"] <= 1.3})
else:
    goals.append({"goal": f"at least 4x faster than the faster dnf (+{delay} ms per request)", "value": ratios["speedup vs dnf"], "target": ">= 4", "pass": ratios["speedup vs dnf"] >= 4})
goals.append({"goal": "no-change re-run at most half dnf's", "value": ratios["rerun airstrap/dnf"], "target": "<= 0.5", "pass": ratios["rerun airstrap/dnf"] <= 0.5})
goals.append({"goal": "peak RSS under 150 MB (airstrap, cold)", "value": rss["airstrap"] / 1024, "target": "< 150 MiB", "pass": rss["airstrap"] < 150 * 1024})

n, nbytes, runs = int(E["PACKAGES"]), int(E["REPO_BYTES"]), int(E["RUNS"])
print()
print(f"airstrap mirror benchmark: {n} packages ({nbytes / 2**20:.1f} MiB), nginx {E['TOOL_NGINX']} at {E['URL']}, "
      f"delay {delay} ms ({E['DELAY_METHOD']}; one request measured {E['REQUEST_MS']} ms), "
      f"{runs} runs each, --jobs {E['JOBS']}, {E['CPUS']} CPUs")
print(f"airstrap {E['AIRSTRAP_BIN']} (checkout at {E['AIRSTRAP_REV']})")
print()
rows = [
    ("cold", "airstrap mirror --all", "airstrap", rss["airstrap"]),
    ("cold", f"dnf reposync (max_parallel_downloads={E['TOOL_DNF_PARALLEL']})", "dnf", rss["dnf"]),
    ("cold", f"dnf reposync (max_parallel_downloads={E['DNF_PAR']})", "dnf-par", None),
    ("cold", "curl --parallel (floor)", "curl", rss["curl"]),
    ("no change", "airstrap mirror --all", "airstrap-rerun", None),
    ("no change", "dnf reposync", "dnf-rerun", None),
    ("no change", f"dnf reposync (max_parallel_downloads={E['DNF_PAR']})", "dnf-par-rerun", None),
    ("no change", "dnf reposync --refresh (info)", "dnf-refresh", None),
]
print(f"{'run':<10} {'tool':<44} {'mean':>8} {'± sd':>8} {'min':>8} {'max':>8} {'peak RSS':>10}")
for kind, label, key, r in rows:
    x = t[key]
    rs = f"{r / 1024:.1f} MiB" if r else ""
    print(f"{kind:<10} {label:<44} {x['mean']:7.3f}s {x['stddev']:7.3f}s {x['min']:7.3f}s {x['max']:7.3f}s {rs:>10}")
print()
print(f"airstrap/dnf            {ratios['airstrap/dnf']:.3f}")
print(f"airstrap/curl           {ratios['airstrap/curl']:.3f}")
print(f"re-run airstrap/dnf     {ratios['rerun airstrap/dnf']:.3f}   (airstrap reused {E['A_REUSED']} of {n})")
print(f"speedup vs dnf          {ratios['speedup vs dnf']:.2f}x  (the faster dnf/airstrap; default "
      f"{ratios['speedup vs dnf default']:.2f}x, max_parallel_downloads={E['DNF_PAR']} {ratios['speedup vs dnf parallel']:.2f}x)")
print()
for g in goals:
    unit = " MiB" if "RSS" in g["goal"] else ""
    print(f"{'PASS' if g['pass'] else 'FAIL'}  {g['goal']:<58} {g['value']:.2f}{unit} (goal {g['target']})")
print()
print("airstrap's phases (cold run, seconds since start):")
for p in phases:
    print(f"  {p['at_s']:7.3f}  {p['line']}")

result = {
    "benchmark": "mirror",
    "config": {"packages": n, "bytes": nbytes, "delay_ms": delay, "delay_method": E["DELAY_METHOD"],
               "delay_note": E["DELAY_NOTE"], "request_ms": float(E["REQUEST_MS"]), "runs": runs,
               "jobs": int(E["JOBS"]), "cpus": int(E["CPUS"]), "url": E["URL"],
               "timer": E["TOOL_HYPERFINE"] or "date loop"},
    "versions": {"airstrap": E["AIRSTRAP_BIN"], "checkout_head": E["AIRSTRAP_REV"], "nginx": E["TOOL_NGINX"], "dnf": E["TOOL_DNF"],
                 "dnf_max_parallel_downloads": E["TOOL_DNF_PARALLEL"], "curl": E["TOOL_CURL"],
                 "createrepo_c": E["TOOL_CREATEREPO"]},
    "commands": {"airstrap": E["A_CMD_TEXT"], "dnf": E["D_CMD_TEXT"], "dnf-par": E["DP_CMD_TEXT"], "curl": E["C_CMD_TEXT"]},
    "seconds": t,
    "peak_rss_kib": rss,
    "airstrap_rerun_reused": int(E["A_REUSED"]),
    "ratios": ratios,
    "goals": goals,
    "airstrap_phases": phases,
}
with open(E["RESULTS"], "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")
print()
print(f"results written to {E['RESULTS']}")
EOF
