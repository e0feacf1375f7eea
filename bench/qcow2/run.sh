#!/usr/bin/env bash
# bench/qcow2: `airstrap build qcow2` vs the operator's script (`dnf --installroot` +
# `virt-make-fs --format=qcow2`) for lab3's compute node on the rehearsal distro, in one run.
# See README.md.
#
#   bench/qcow2/run.sh [--runs R] [--distro DIR] [--quick]
#
# Nothing is downloaded: the rehearsal distro (tests/fixtures/make-distro.sh) is cached in
# bench/.cache/qcow2-distro, or --distro names one. Root only; QEMU runs with TCG. Prints the
# medians, airstrap/baseline and the goal (informational: exit status 0 unless a tool failed),
# airstrap's steps, lab3 --all against one node, the image sizes, and writes
# bench/qcow2/last-results.json. --quick (CI): one run of each, no warm-up and no --all run;
# it checks that both tools succeed and prints the ratio.
set -euo pipefail

RUNS=3
DISTRO=
QUICK=0
usage() { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while (($#)); do
    case $1 in
        --runs) RUNS=${2:?--runs needs a number}; shift 2 ;;
        --runs=*) RUNS=${1#*=}; shift ;;
        --distro) DISTRO=${2:?--distro needs a folder}; shift 2 ;;
        --distro=*) DISTRO=${1#*=}; shift ;;
        --quick) QUICK=1; RUNS=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
if ! [[ $RUNS =~ ^[0-9]+$ ]] || ((RUNS < 1)); then echo "run.sh: --runs must be at least 1" >&2; exit 2; fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$(dirname "$HERE")")
AIRSTRAP=${AIRSTRAP:-$ROOT/build/airstrap}
CACHE=$ROOT/bench/.cache
RESULTS=$HERE/last-results.json
WORKDIR=${BENCH_WORKDIR:-/work}
PROFILE=$ROOT/builder/profiles/el9.yaml   # the shipped el9 profile (built in: --profile el9)
MAKE_DISTRO=$ROOT/tests/fixtures/make-distro.sh
NODE=compute-node

# Under CI=true (which installs everything) a missing prerequisite is a failure.
skip() {
    echo "skipped: $*"
    [[ ${CI:-} != true ]] || exit 1
    exit 0
}
die() { echo "run.sh: $*" >&2; exit 1; }
say() { printf '==> %s\n' "$*"; }

[[ -x $AIRSTRAP ]] || skip "no airstrap binary at $AIRSTRAP (cmake --build $ROOT/build)"
(($(id -u) == 0)) || skip "not root (dnf --installroot and libguestfs's direct backend need root here)"
for tool in dnf virt-make-fs guestfish rpm python3; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install -y dnf libguestfs-tools rpm python3)"
done
[[ -x /usr/bin/time ]] || skip "/usr/bin/time is not installed (apt-get install -y time)"
compgen -G '/boot/vmlinuz-*' >/dev/null || skip "no /boot/vmlinuz-* for the libguestfs appliance (apt-get install -y linux-image-amd64)"
[[ $WORKDIR != *[[:space:]]* && $ROOT != *[[:space:]]* ]] || skip "paths with spaces are not supported"
mkdir -p "$WORKDIR"
FREE_MIB=$(($(df -Pk "$WORKDIR" | awk 'NR==2 {print $4}') / 1024))
((FREE_MIB > 2048)) || skip "$WORKDIR has $FREE_MIB MiB free; needs 2048 MiB (set BENCH_WORKDIR)"
# KVM aborts on this machine: QEMU (airstrap's appliance and virt-make-fs's) runs with TCG.
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg

# ---- inputs: the rehearsal distro (cached), the site -------------------------------------------
if [[ -n $DISTRO ]]; then
    DISTRO=$(cd "$DISTRO" 2>/dev/null && pwd) || die "--distro: no such folder"
    [[ -r $DISTRO/repo/repodata/repomd.xml ]] || die "--distro: no repo/repodata/repomd.xml in $DISTRO"
else
    DISTRO=$CACHE/qcow2-distro
    mark=$DISTRO/.airstrap-distro   # make-distro.sh writes it first, kernel-version last
    if [[ ! -r $DISTRO/repo/repodata/repomd.xml || ! -s $DISTRO/kernel-version || ! -e $mark ]] ||
        [[ -n $(find "$MAKE_DISTRO" "$ROOT/tests/fixtures/distro" -newer "$mark" -print -quit) ]]; then
        [[ -f $MAKE_DISTRO ]] || skip "no $MAKE_DISTRO (or give --distro DIR)"
        FIRSTBOOT_RPM=$(find "$ROOT/build/packaging" -maxdepth 1 -name 'airstrap-firstboot-*.rpm' 2>/dev/null | sort -V | tail -n 1 || true)
        [[ -n $FIRSTBOOT_RPM ]] || skip "no build/packaging/airstrap-firstboot-*.rpm (cmake --build build --target package-rpm, or give --distro DIR)"
        say "making the rehearsal distro in $DISTRO (once; tests/fixtures/make-distro.sh)"
        mkdir -p "$CACHE"
        bash "$MAKE_DISTRO" "$DISTRO" "$FIRSTBOOT_RPM" >"$CACHE/qcow2-distro.log" 2>&1 ||
            { tail -n 30 "$CACHE/qcow2-distro.log" >&2; die "make-distro.sh failed (log: $CACHE/qcow2-distro.log)"; }
    fi
fi
REPO=$DISTRO/repo
((QUICK)) && RESULTS=$HERE/last-quick-results.json   # a full run's results stay

SCRATCH=$(mktemp -d "$WORKDIR/airstrap-bench-qcow2.XXXXXX")
trap '[[ -n $SCRATCH && -d $SCRATCH ]] && rm -rf -- "$SCRATCH"' EXIT
mkdir -p "$SCRATCH/site" "$SCRATCH/out" "$SCRATCH/log"
# A private libguestfs appliance cache, shared by both tools: another libguestfs user on the
# machine that rebuilds the shared one (/var/tmp/.guestfs-UID) under a running appliance makes
# it fail ("Bus error" in the appliance). The warm-up below builds it.
export LIBGUESTFS_CACHEDIR=$SCRATCH/guestfs-cache
mkdir -p "$LIBGUESTFS_CACHEDIR"
# lab3 without its day-1 section (whose cirros image this benchmark has no mirror for).
sed -e '/^cloud:/,$d' "$ROOT/examples/lab3/site.yaml" >"$SCRATCH/site/site.yaml"
"$AIRSTRAP" init --secrets-only "$SCRATCH/site" >/dev/null
SITE=$SCRATCH/site/site.yaml
say "distro: $REPO ($(du -sh "$REPO" | cut -f1), kernel $(cat "$DISTRO/kernel-version" 2>/dev/null || echo '?')), scratch $SCRATCH"

# What airstrap installs for lab3's compute node with the el9 profile: the profile's
# `packages:` (@core, kernel, grub2-pc, …) and what every node's kickstart asks for besides the
# distro's environment group (chrony, openssh-server, airstrap-firstboot; and openssh-clients,
# which @core pulls in anyway). Checked below against airstrap's package count and
# installed size.
mapfile -t PACKAGES < <(python3 - "$PROFILE" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
try:
    import yaml
    pkgs = yaml.safe_load(text).get("packages") or []
except ImportError:
    m = re.search(r"^packages:\s*\[([^\]]*)\]", text, re.M)
    pkgs = [p.strip().strip("\"'") for p in m.group(1).split(",")] if m else []
seen = set()
for p in pkgs + ["chrony", "openssh-server", "openssh-clients", "airstrap-firstboot"]:
    if p and p not in seen:
        seen.add(p)
        print(p)
PY
)
((${#PACKAGES[@]} > 4)) || die "no packages: list in $PROFILE"

A_OUT=$SCRATCH/out/airstrap.qcow2
B_OUT=$SCRATCH/out/baseline.qcow2
B_ROOT=$SCRATCH/root
A_CMD=("$AIRSTRAP" build qcow2 "$SITE" --repo "$REPO" --profile el9 --node "$NODE" --size 4 -o "$A_OUT")
# The operator's script: dnf confined to the scratch folder and the local repository (no host
# repositories, cache, logs or state); the fixture packages are unsigned, hence --nogpgcheck.
DNF_CMD=(dnf "--installroot=$B_ROOT" "--repofrompath=fx,$REPO" --repo=fx --releasever=9 --nogpgcheck
    --setopt=install_weak_deps=False --setopt=reposdir=/nonexistent
    "--setopt=cachedir=$SCRATCH/dnf-cache" "--setopt=logdir=$SCRATCH/dnf-log"
    "--setopt=persistdir=$SCRATCH/dnf-persist" -y install "${PACKAGES[@]}")
VMF_CMD=(virt-make-fs --format=qcow2 --type=xfs --size=+200M "$B_ROOT" "$B_OUT")

reset() {
    rm -rf -- "$SCRATCH/out" "$B_ROOT" "$SCRATCH/dnf-cache" "$SCRATCH/dnf-log" "$SCRATCH/dnf-persist"
    mkdir -p "$SCRATCH/out" "$SCRATCH/dnf-cache" "$SCRATCH/dnf-log" "$SCRATCH/dnf-persist"
    sync
}
# timed KEY LOG CMD...: runs CMD under /usr/bin/time (wall, user, sys into $SCRATCH/log/KEY.time;
# CMD's stdout into LOG.out, stderr into LOG.err).
timed() {
    local key=$1 log=$2
    shift 2
    /usr/bin/time -f '%e %U %S' -o "$SCRATCH/log/$key.time" "$@" >"$log.out" 2>"$log.err" || {
        tail -n 30 "$log.err" >&2
        tail -n 10 "$log.out" >&2
        die "$key failed: $*"
    }
}

# ---- warm-up (untimed): airstrap --json ----------------------------------------------------------
# It checks (or builds) libguestfs's appliance cache for both tools, and its --json summary has
# the exact package count, installed bytes and file bytes. The timed runs go without --json:
# with --json airstrap prints no log, and its log lines carry the step times.
say "package set for dnf: ${PACKAGES[*]}"
if ((QUICK)); then
    say "quick: no warm-up (the first run builds libguestfs's appliance cache), no --all run"
    A_CMD+=(--json)   # its summary instead of the warm-up's (and no step log)
else
    say "warm-up (untimed): airstrap build qcow2 --json"
    reset
    timed warmup "$SCRATCH/log/warmup" "${A_CMD[@]}" --json
    cp "$SCRATCH/log/warmup.out" "$SCRATCH/airstrap.json"
fi

run_airstrap() { # RUN
    reset
    timed "airstrap-$1" "$SCRATCH/log/airstrap-$1" "${A_CMD[@]}"
    stat -c '%s %b' "$A_OUT" >"$SCRATCH/log/airstrap-$1.size"
    if ((QUICK)); then cp "$SCRATCH/log/airstrap-$1.out" "$SCRATCH/airstrap.json"; fi
}
run_baseline() { # RUN
    reset
    timed "dnf-$1" "$SCRATCH/log/dnf-$1" "${DNF_CMD[@]}"
    timed "virt-make-fs-$1" "$SCRATCH/log/virt-make-fs-$1" "${VMF_CMD[@]}"
    stat -c '%s %b' "$B_OUT" >"$SCRATCH/log/baseline-$1.size"
    rpm --root "$B_ROOT" -qa --qf '%{NAME}\n' | sort >"$SCRATCH/log/baseline-$1.names"
    rpm --root "$B_ROOT" -qa --qf '%{SIZE}\n' | awk '{s += $1} END {print s + 0}' >"$SCRATCH/log/baseline-$1.installed"
}
say "timed runs ($RUNS of each, alternating, each from an empty output folder after sync)"
for ((r = 1; r <= RUNS; r++)); do
    if ((r % 2)); then order=(airstrap baseline); else order=(baseline airstrap); fi
    for k in "${order[@]}"; do
        "run_$k" "$r"
        if [[ $k == airstrap ]]; then
            printf '    run %d  %-9s %7.1f s\n' "$r" "$k" "$(cut -d' ' -f1 "$SCRATCH/log/airstrap-$r.time")"
        else
            printf '    run %d  %-9s %7.1f s  (dnf %.1f s + virt-make-fs %.1f s)\n' "$r" "$k" \
                "$(awk '{s += $1} END {print s}' "$SCRATCH/log/dnf-$r.time" "$SCRATCH/log/virt-make-fs-$r.time")" \
                "$(cut -d' ' -f1 "$SCRATCH/log/dnf-$r.time")" "$(cut -d' ' -f1 "$SCRATCH/log/virt-make-fs-$r.time")"
        fi
    done
done
# lab3's three nodes (three roles: three trees, three images in one appliance), once.
if ((!QUICK)); then
    say "airstrap build qcow2 --all (lab3: controller, network and compute node), one run"
    reset
    timed all "$SCRATCH/log/all" "$AIRSTRAP" build qcow2 "$SITE" --repo "$REPO" --profile el9 --all \
        --size 4 -o "$SCRATCH/out"
    printf '    --all     %7.1f s\n' "$(cut -d' ' -f1 "$SCRATCH/log/all.time")"
fi
reset

export SCRATCH RESULTS RUNS NODE REPO QUICK
export A_TEXT="${A_CMD[*]}" DNF_TEXT="${DNF_CMD[*]}" VMF_TEXT="${VMF_CMD[*]}"
V_AIRSTRAP=$("$AIRSTRAP" --version | head -n 1)
V_DNF=$(dnf --version 2>/dev/null | head -n 1 || true)
V_VMF=$(virt-make-fs --version 2>/dev/null | head -n 1 || true)
V_QEMU=$(qemu-system-x86_64 --version 2>/dev/null | head -n 1 || true)
export V_AIRSTRAP V_DNF V_VMF V_QEMU
python3 - <<'EOF'
import json, os, re, statistics
E = os.environ
S, R, node = E["SCRATCH"], int(E["RUNS"]), E["NODE"]
log = lambda name: f"{S}/log/{name}"
def tm(name):  # wall, user, sys
    return [float(x) for x in open(log(name + ".time")).read().split()[-3:]]
def size(name):
    b, blocks = open(log(name + ".size")).read().split()
    return int(b), int(blocks) * 512
med = statistics.median

runs = range(1, R + 1)
a_wall = [tm(f"airstrap-{r}")[0] for r in runs]
a_cpu = [sum(tm(f"airstrap-{r}")[1:]) for r in runs]
d_wall = [tm(f"dnf-{r}")[0] for r in runs]
v_wall = [tm(f"virt-make-fs-{r}")[0] for r in runs]
b_wall = [d + v for d, v in zip(d_wall, v_wall)]
b_cpu = [sum(tm(f"dnf-{r}")[1:]) + sum(tm(f"virt-make-fs-{r}")[1:]) for r in runs]

# airstrap's steps from its stderr: "airstrap: NODE: STEP (N.N s)" in the appliance, "airstrap:
# ROLE tree: STEP (N.N s)" on this host (at the same time), and the appliance's launch.
role = node.split("-")[0]
step_re = re.compile(r"^airstrap: (" + re.escape(node) + "|" + re.escape(role) + r" tree): (.*) \(([0-9.]+) s\)$")
launch_re = re.compile(r"^airstrap: libguestfs appliance up \(([0-9.]+) s\)")
steps, order = {}, []
for r in runs:
    for line in open(log(f"airstrap-{r}.err")):
        line = line.rstrip("\n")
        m, l = step_re.match(line), launch_re.match(line)
        if l:
            name, secs = "libguestfs appliance launch", float(l.group(1))
        elif m:
            where = "host" if m.group(1).endswith(" tree") else "appliance"
            name, secs = f"{where}: {m.group(2)}", float(m.group(3))
        else:
            continue
        if name not in steps:
            steps[name] = []
            order.append(name)
        steps[name].append(secs)
step_med = {k: med(v) for k, v in steps.items()}
host = sum(v for k, v in step_med.items() if k.startswith("host: "))
appliance = sum(v for k, v in step_med.items() if not k.startswith("host: "))
all_wall = tm("all")[0] if E["QUICK"] == "0" else None

aj = json.load(open(f"{S}/airstrap.json"))
img = aj["images"][0]
wrote = re.compile(r"^wrote .*: node \S+, (\d+) packages \((\d+) MiB installed\)")
a_packages_runs = []
for r in runs:
    for line in open(log(f"airstrap-{r}.out")):
        m = wrote.match(line)
        if m:
            a_packages_runs.append(int(m.group(1)))
b_packages_runs = [len(open(log(f"baseline-{r}.names")).read().split()) for r in runs]
b_installed = int(open(log(f"baseline-{R}.installed")).read())
b_names = open(log(f"baseline-{R}.names")).read().split()
a_size, a_alloc = size(f"airstrap-{R}")
b_size, b_alloc = size(f"baseline-{R}")
a_inst = img["installed_bytes"]

ratio = med(a_wall) / med(b_wall)
ok = ratio <= 1.0
mib = lambda b: b / 1048576
print(f"\n{'':10} {'median':>8} {'min':>8} {'max':>8} {'CPU':>8}   runs")
for k, w, c in (("airstrap", a_wall, a_cpu), ("baseline", b_wall, b_cpu)):
    print(f"{k:10} {med(w):7.1f}s {min(w):7.1f}s {max(w):7.1f}s {med(c):7.1f}s   " + " ".join(f"{x:.1f}" for x in w))
print(f"  dnf      {med(d_wall):7.1f}s {min(d_wall):7.1f}s {max(d_wall):7.1f}s")
print(f"  virt-make-fs {med(v_wall):5.1f}s {min(v_wall):7.1f}s {max(v_wall):7.1f}s")
print(f"\nairstrap/baseline  {ratio:.2f}x   {'PASS' if ok else 'MISS'}  goal: at most 1.0x "
      "(the baseline does less: no partitions, bootloader, initramfs, repository or node configuration)")

if all_wall is not None:
    all_ratio = all_wall / med(a_wall)
    print(f"lab3 --all (3 nodes, 3 roles) {all_wall:.1f} s = {all_ratio:.2f}x one node   "
          f"{'PASS' if all_ratio <= 1.5 else 'MISS'}  goal: at most 1.5x")

if steps:
    print(f"\nairstrap's steps (median of {R} run{'s' if R > 1 else ''}; the host's tree and the "
          "appliance's launch and partitioning run at the same time):")
    for k in order:
        print(f"  {step_med[k]:7.1f} s  {k}")
    print(f"  {host:7.1f} s  on the host, {appliance:.1f} s in the appliance (launch included)")

print("\npackages:   airstrap " + "/".join(map(str, sorted(set(a_packages_runs)) or ["?"])) +
      f" (--json: {img['packages']}),  baseline rpm -qa: " + "/".join(map(str, sorted(set(b_packages_runs)))) +
      ("" if {img["packages"], *a_packages_runs} == set(b_packages_runs) else "   (DIFFERENT package counts)"))
print(f"installed:  airstrap {a_inst} bytes ({mib(a_inst):.1f} MiB),  baseline {b_installed} bytes ({mib(b_installed):.1f} MiB)" +
      ("" if a_inst == b_installed else "   (DIFFERENT installed sums)"))
print(f"\n{'image':10} {'file':>10} {'allocated':>10} {'virtual':>9} {'file/installed':>15} {'alloc/installed':>16}")
for k, f, al, virt in (("airstrap", a_size, a_alloc, img["virtual_bytes"]), ("baseline", b_size, b_alloc, None)):
    v = f"{virt / 1073741824:.1f} GiB" if virt else "-"
    print(f"{k:10} {mib(f):6.1f} MiB {mib(al):6.1f} MiB {v:>9} {f / b_installed:14.2f}x {al / b_installed:15.2f}x")
print(f"           (airstrap --json: file_bytes {img['file_bytes']}, installed_bytes {a_inst}: "
      f"{img['file_bytes'] / a_inst:.2f}x)")

json.dump({
    "benchmark": "qcow2", "runs": R, "node": node, "repo": E["REPO"],
    "versions": {"airstrap": E["V_AIRSTRAP"], "dnf": E["V_DNF"], "virt-make-fs": E["V_VMF"], "qemu": E["V_QEMU"]},
    "env": {"LIBGUESTFS_BACKEND": "direct", "LIBGUESTFS_BACKEND_SETTINGS": "force_tcg"},
    "commands": {"airstrap": E["A_TEXT"], "baseline": [E["DNF_TEXT"], E["VMF_TEXT"]]},
    "seconds": {
        "airstrap": {"median": med(a_wall), "times": a_wall, "cpu": a_cpu},
        "baseline": {"median": med(b_wall), "times": b_wall, "cpu": b_cpu,
                     "dnf": d_wall, "virt-make-fs": v_wall},
    },
    "ratio": {"airstrap/baseline": ratio},
    "goals": [{"goal": "airstrap at most 1.0x the baseline", "value": ratio, "pass": ok}] +
             ([{"goal": "lab3 --all at most 1.5x one node", "value": all_wall / med(a_wall),
                "pass": all_wall / med(a_wall) <= 1.5}] if all_wall is not None else []),
    "all_seconds": all_wall,
    "airstrap_steps_median_seconds": {k: step_med[k] for k in order},
    "airstrap_steps_seconds": {k: steps[k] for k in order},
    "airstrap_json": aj,
    "packages": {"airstrap": img["packages"], "baseline": b_packages_runs[-1], "baseline_names": b_names},
    "installed_bytes": {"airstrap": a_inst, "baseline": b_installed},
    "image_bytes": {
        "airstrap": {"file": a_size, "allocated": a_alloc, "virtual": img["virtual_bytes"],
                     "file/installed": a_size / b_installed, "allocated/installed": a_alloc / b_installed},
        "baseline": {"file": b_size, "allocated": b_alloc,
                     "file/installed": b_size / b_installed, "allocated/installed": b_alloc / b_installed},
    },
}, open(E["RESULTS"], "w"), indent=2)
print(f"\nresults written to {E['RESULTS']}")
EOF
