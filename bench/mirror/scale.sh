#!/usr/bin/env bash
# bench/mirror/scale.sh: reading a large repository's metadata and solving every role's
# closure: `airstrap mirror --dry-run` against dnf's own resolution of the same requests
# (`dnf --installroot … --assumeno install`), on N generated packages. See README.md.
#
#   bench/mirror/scale.sh [--packages N] [--runs R] [--quick]
#
# Nothing is downloaded and no package file exists: gen-scale-repo.py writes repodata only
# (several versions per name, thousands of provides, file and rich dependencies, weak ones),
# both tools read it from a folder. The requests are lab3's roles as its kickstarts ask for
# them (`airstrap kickstart`: groups, names, exclusions) plus the kernel. Prints both times,
# the ratio and the goal (airstrap at most 1.0x; informational: exit 0 unless a tool failed),
# each role's closure size by both, peak RSS; writes bench/mirror/last-scale-results.json.
# --quick (CI): 2000 packages, one run.
set -euo pipefail

PACKAGES=20000
RUNS=3
QUICK=0
while (($#)); do
    case $1 in
        --packages) PACKAGES=${2:?--packages needs a number}; shift 2 ;;
        --runs) RUNS=${2:?--runs needs a number}; shift 2 ;;
        --quick) QUICK=1; PACKAGES=2000; RUNS=1; shift ;;
        -h | --help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "scale.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[[ $PACKAGES =~ ^[0-9]+$ && $RUNS =~ ^[0-9]+$ ]] && ((PACKAGES >= 100 && RUNS >= 1)) ||
    { echo "scale.sh: --packages (at least 100) and --runs (at least 1) take numbers" >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$(dirname "$HERE")")
AIRSTRAP=${AIRSTRAP:-$ROOT/build/airstrap}
WORKDIR=${BENCH_WORKDIR:-/work}
RESULTS=$HERE/last-scale-results.json
((QUICK)) && RESULTS=$HERE/last-quick-scale-results.json

# Under CI=true (which installs everything) a missing prerequisite is a failure.
skip() {
    echo "skipped: $*"
    [[ ${CI:-} != true ]] || exit 1
    exit 0
}
die() { echo "scale.sh: $*" >&2; exit 1; }
say() { printf '==> %s\n' "$*"; }

[[ -x $AIRSTRAP ]] || skip "no airstrap binary at $AIRSTRAP (cmake --build $ROOT/build)"
for tool in dnf python3; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install -y dnf python3)"
done
[[ -x /usr/bin/time ]] || skip "/usr/bin/time is not installed (apt-get install -y time)"
mkdir -p "$WORKDIR"
SCRATCH=$(mktemp -d "$WORKDIR/airstrap-bench-scale.XXXXXX")
trap '[[ -n $SCRATCH && -d $SCRATCH ]] && rm -rf -- "$SCRATCH"' EXIT
REPO=$SCRATCH/repo

# ---- the site and what its roles ask for ----------------------------------------------------
SITE=$SCRATCH/site/site.yaml
mkdir -p "$SCRATCH/site"
python3 "$HERE/bench-site.py" "$ROOT/examples/lab3/site.yaml" "$SITE" directory "$REPO"
"$AIRSTRAP" init --secrets-only "$SCRATCH/site" >/dev/null
"$AIRSTRAP" kickstart "$SITE" -o "$SCRATCH/ks" >/dev/null || die "airstrap kickstart failed"
# ROLE: install names (groups as @x, environments as @^x), then -exclusions; kernel added.
python3 - "$SCRATCH/ks" >"$SCRATCH/requests.txt" <<'EOF'
import os, sys
for role in ("controller", "network", "compute"):
    path = os.path.join(sys.argv[1], role + ".ks")
    if not os.path.exists(path):
        continue
    lines, inside = [], False
    for line in open(path):
        line = line.strip()
        if line.startswith("%packages"):
            inside = True
            continue
        if line.startswith("%end"):
            inside = False
        if inside and line and not line.startswith("#"):
            lines.append(line)
    print(role, " ".join(lines + ["kernel"]))
EOF
[[ -s $SCRATCH/requests.txt ]] || die "no %packages in the kickstarts"
read -r -a GEN_ARGS < <(python3 - "$SCRATCH/requests.txt" <<'EOF'
import sys
names, groups, envs = [], [], []
for line in open(sys.argv[1]):
    for w in line.split()[1:]:
        if w.startswith("@^"):
            envs.append(w[2:])
        elif w.startswith("@"):
            groups.append(w[1:])
        elif w.startswith("-"):
            names.append(w[1:])
        else:
            names.append(w)
out = sorted(set(names))
for g in sorted(set(groups)):
    out += ["--group", g]
for e in sorted(set(envs)):
    out += ["--environment", e]
print(" ".join(out))
EOF
)
say "generating $PACKAGES packages' repodata (anchors and groups: ${GEN_ARGS[*]})"
python3 "$HERE/gen-scale-repo.py" "$REPO" "$PACKAGES" "${GEN_ARGS[@]}" | sed 's/^/    /'

# ---- the runs ----------------------------------------------------------------------------------
A_CMD=("$AIRSTRAP" mirror "$SITE" --dry-run --json)
dnf_role() { # ROLE WORDS...: dnf's resolution of one role's request into an empty root
    local role=$1 pkgs=() excl=() w
    shift
    for w in "$@"; do
        # Debian 12's dnf 4.14 finds no environment by @^ID in `install` (its `group install`
        # does): the generated environment is its groups, which the request names anyway.
        if [[ $w == @^* ]]; then continue; fi
        if [[ $w == -* ]]; then excl+=(-x "${w#-}"); else pkgs+=("$w"); fi
    done
    dnf --installroot="$SCRATCH/root-$role" "--repofrompath=scale,$REPO" --repo=scale \
        --releasever=9 --nogpgcheck --setopt=reposdir=/nonexistent \
        "--setopt=cachedir=$SCRATCH/dnf-cache" "--setopt=logdir=$SCRATCH/dnf-log" \
        "--setopt=persistdir=$SCRATCH/dnf-persist" "${excl[@]}" --assumeno install "${pkgs[@]}"
}
export -f dnf_role
export SCRATCH REPO
# Every role in turn, as one run: the cache is emptied first, so the first role pays for
# reading the metadata (dnf writes its solv cache then, the next roles use it), as airstrap
# reads it once for all roles. dnf --assumeno exits 1 ("Operation aborted") once it has a
# transaction: that is the success here; a resolution problem is a failure.
cat >"$SCRATCH/dnf-all.sh" <<'EOF'
#!/bin/bash
set -u
rm -rf "$SCRATCH/dnf-cache" "$SCRATCH"/root-*
mkdir -p "$SCRATCH/dnf-log" "$SCRATCH/dnf-persist"
while read -r role words; do
    out=$(dnf_role "$role" $words 2>&1)
    if ! grep -q 'Operation aborted' <<<"$out"; then
        echo "dnf could not resolve $role:" >&2
        echo "$out" | tail -n 20 >&2
        exit 1
    fi
    echo "$role $(grep -oE '^Install +[0-9]+ Package' <<<"$out" | grep -oE '[0-9]+' || echo 0)"
done <"$SCRATCH/requests.txt"
EOF
chmod +x "$SCRATCH/dnf-all.sh"

timed() { # KEY CMD...: RUNS runs under /usr/bin/time, stdout of the last kept
    local key=$1 r
    shift
    for ((r = 1; r <= RUNS; r++)); do
        /usr/bin/time -f '%e %M' -o "$SCRATCH/$key-$r.time" "$@" >"$SCRATCH/$key.out" 2>"$SCRATCH/$key.err" ||
            { cat "$SCRATCH/$key.err" >&2; die "$key failed: $*"; }
        printf '    %-9s run %d %7.2f s\n' "$key" "$r" "$(cut -d' ' -f1 "$SCRATCH/$key-$r.time")"
    done
}
say "timed runs ($RUNS of each, alternating order is not needed: neither writes what the other reads)"
timed airstrap "${A_CMD[@]}"
timed dnf "$SCRATCH/dnf-all.sh"

export RESULTS PACKAGES RUNS
python3 - <<'EOF'
import json, os, statistics
E = os.environ
S, R = E["SCRATCH"], int(E["RUNS"])
def runs(key):
    t = [open(f"{S}/{key}-{r}.time").read().split() for r in range(1, R + 1)]
    return [float(x[0]) for x in t], max(int(x[1]) for x in t)
a, a_rss = runs("airstrap")
d, d_rss = runs("dnf")
aj = json.load(open(f"{S}/airstrap.out"))
dn = dict(line.split() for line in open(f"{S}/dnf.out") if line.strip())
ratio = statistics.median(a) / statistics.median(d)
print(f"\n{E['PACKAGES']} packages, every role's closure (median of {R}):")
print(f"  airstrap mirror --dry-run   {statistics.median(a):7.2f} s   peak RSS {a_rss / 1024:7.1f} MiB")
print(f"  dnf --assumeno, per role    {statistics.median(d):7.2f} s   peak RSS {d_rss / 1024:7.1f} MiB (the largest of its runs)")
print(f"\nairstrap/dnf {ratio:.2f}   {'PASS' if ratio <= 1.0 else 'MISS'}  goal: at most 1.0x")
print("\nclosure sizes (airstrap adds the installer's optional packages when present; dnf counts what it would install):")
for role, n in aj["roles"].items():
    flag = "" if str(n) == dn.get(role) else "   (DIFFERENT)"
    print(f"  {role:11} airstrap {n:6}   dnf {dn.get(role, '?'):>6}{flag}")
json.dump({"benchmark": "mirror-scale", "packages": int(E["PACKAGES"]), "runs": R,
           "seconds": {"airstrap": a, "dnf": d}, "peak_rss_kib": {"airstrap": a_rss, "dnf": d_rss},
           "ratio": ratio, "goal": {"goal": "airstrap at most 1.0x dnf's resolution", "pass": ratio <= 1.0},
           "closures": {"airstrap": aj["roles"], "dnf": dn}}, open(E["RESULTS"], "w"), indent=2)
print(f"\nresults written to {E['RESULTS']}")
EOF
