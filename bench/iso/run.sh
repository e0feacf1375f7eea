#!/usr/bin/env bash
# bench/iso: `airstrap build iso` vs the operator's manual flow (`cp` the DVD, then `xorriso
# -dev COPY -boot_image any replay -map …` appending one session) vs the same remaster as one
# full rewrite (`xorriso -indev … -outdev …`) vs `cp` (the floor), on a stand-in vendor DVD of
# SIZE MiB, in one run. See README.md.
#
#   bench/iso/run.sh [--size-mib N] [--runs R] [--quick]
#
# R interleaved rounds (default 9) after a warm-up round, every tool once a round.
# --quick (CI): a 64 MiB DVD, one round; checks that every tool succeeds, prints the ratios.
# Nothing is downloaded: the vendor DVD is tests/fixtures/make-boot-media.sh's el7 stand-in
# padded to N MiB (cached in bench/.cache/), the site repository a mirror of the test
# fixtures. Prints a table, the ratios and the goals (informational: exit status 0 unless a
# tool failed) and writes bench/iso/last-results.json.
set -euo pipefail

SIZE_MIB=2048
RUNS=9
while (($#)); do
    case $1 in
        --size-mib) SIZE_MIB=${2:?}; shift 2 ;;
        --runs) RUNS=${2:?}; shift 2 ;;
        --quick) QUICK=1; SIZE_MIB=64; RUNS=1; shift ;;
        -h | --help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[[ $SIZE_MIB =~ ^[0-9]+$ && $RUNS =~ ^[0-9]+$ ]] || { echo "run.sh: numbers only" >&2; exit 2; }
((RUNS >= 1 && SIZE_MIB >= 1)) || { echo "run.sh: --runs and --size-mib must be at least 1" >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$(dirname "$HERE")")
AIRSTRAP=${AIRSTRAP:-$ROOT/build/airstrap}
CACHE=$ROOT/bench/.cache
RESULTS=$HERE/last-results.json
((${QUICK:-0})) && RESULTS=$HERE/last-quick-results.json   # a full run's results stay
WORKDIR=${BENCH_WORKDIR:-/work}

# Under CI=true (which installs everything) a missing prerequisite is a failure.
skip() {
    echo "skipped: $*"
    [[ ${CI:-} != true ]] || exit 1
    exit 0
}
die() { echo "run.sh: $*" >&2; exit 1; }
say() { printf '==> %s\n' "$*"; }

[[ -x $AIRSTRAP ]] || skip "no airstrap binary at $AIRSTRAP (cmake --build $ROOT/build)"
[[ $WORKDIR != *[[:space:]]* && $ROOT != *[[:space:]]* ]] || skip "paths with spaces are not supported"
for tool in xorriso mtype mcopy python3; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install -y xorriso mtools python3)"
done
[[ -x /usr/bin/time ]] || skip "/usr/bin/time is not installed (apt-get install -y time)"
FREE_MIB=$(($(df -Pk "$WORKDIR" | awk 'NR==2 {print $4}') / 1024))
((FREE_MIB > SIZE_MIB * 5)) || skip "$WORKDIR has $FREE_MIB MiB free; needs $((SIZE_MIB * 5)) MiB (set BENCH_WORKDIR)"

SCRATCH=$(mktemp -d "$WORKDIR/airstrap-bench-iso.XXXXXX")
trap '[[ -n $SCRATCH && -d $SCRATCH ]] && rm -rf -- "$SCRATCH"' EXIT

# ---- inputs: the padded stand-in DVD and a site repository (cached) -------------------------
MEDIA=$CACHE/iso-$SIZE_MIB-v1
if [[ ! -f $MEDIA/boot/el7-dvd.iso || ! -d $MEDIA/fixtures/repos ]]; then
    say "making a $SIZE_MIB MiB stand-in vendor DVD in $MEDIA (once)"
    rm -rf "$MEDIA"
    mkdir -p "$MEDIA"
    bash "$ROOT/tests/fixtures/make-repos.sh" "$MEDIA/fixtures" >/dev/null
    FIXTURE_REPOS=$MEDIA/fixtures bash "$ROOT/tests/fixtures/make-boot-media.sh" --pad-mib "$SIZE_MIB" "$MEDIA/media" >/dev/null
    mv "$MEDIA/media/boot" "$MEDIA/boot"
fi
VENDOR=$MEDIA/boot/el7-dvd.iso
VENDOR_BYTES=$(stat -c %s "$VENDOR")
SITE=$SCRATCH/site/site.yaml
mkdir -p "$SCRATCH/site"
# Without the cloud: block: its images are files beside the example, not in the scratch site,
# and not what this measures.
sed -e "s|^  vendor_iso: .*|  vendor_iso: $VENDOR|" \
    -e "s|^      tarball: .*|      tarball: $MEDIA/fixtures/tarballs/openstack_Q.tar.gz|" \
    "$ROOT/examples/lab3/site.yaml" | awk '/^[a-z]/ { skip = ($1 == "cloud:") } !skip' >"$SITE"
"$AIRSTRAP" init --secrets-only "$SCRATCH/site" >/dev/null
"$AIRSTRAP" mirror "$SITE" -o "$SCRATCH/repo" >/dev/null 2>&1 || die "airstrap mirror failed"
say "vendor DVD: $VENDOR ($((VENDOR_BYTES >> 20)) MiB), scratch $SCRATCH"

# The same remaster for xorriso: the files airstrap adds and the menus it edits, taken from
# one airstrap run, so both tools write the same image content.
"$AIRSTRAP" build iso "$SITE" -o "$SCRATCH/ref.iso" --repo "$SCRATCH/repo" >/dev/null 2>&1 || die "airstrap build iso failed"
mkdir -p "$SCRATCH/edits"
xorriso -osirrox on -indev "stdio:$SCRATCH/ref.iso" -extract /ks "$SCRATCH/edits/ks" \
    -extract /isolinux/isolinux.cfg "$SCRATCH/edits/isolinux.cfg" \
    -extract /EFI/BOOT/grub.cfg "$SCRATCH/edits/grub.cfg" \
    -extract /images/efiboot.img "$SCRATCH/edits/efiboot.img" >/dev/null 2>&1
rm -f "$SCRATCH/ref.iso"

OUT=$SCRATCH/out
A_CMD=("$AIRSTRAP" build iso "$SITE" -o "$OUT/airstrap.iso" --repo "$SCRATCH/repo")
X_CMD=(xorriso -indev "stdio:$VENDOR" -outdev "stdio:$OUT/xorriso.iso" -boot_image any replay
    -map "$SCRATCH/edits/ks" /ks -map "$SCRATCH/repo" /airstrap/repo
    -map "$SCRATCH/edits/isolinux.cfg" /isolinux/isolinux.cfg -map "$SCRATCH/edits/grub.cfg" /EFI/BOOT/grub.cfg
    -map "$SCRATCH/edits/efiboot.img" /images/efiboot.img)
# The manual flow: a copy of the DVD, then one session appended to it (the DVD's own tree and
# boot images stay where they are; the new session's tree points at them).
D_CMD=(xorriso -dev "stdio:$OUT/manual.iso" -boot_image any replay
    -map "$SCRATCH/edits/ks" /ks -map "$SCRATCH/repo" /airstrap/repo
    -map "$SCRATCH/edits/isolinux.cfg" /isolinux/isolinux.cfg -map "$SCRATCH/edits/grub.cfg" /EFI/BOOT/grub.cfg
    -map "$SCRATCH/edits/efiboot.img" /images/efiboot.img -commit)
C_CMD=(cp "$VENDOR" "$OUT/cp.iso")
# airstrap syncs its output before renaming it into place (a crash never leaves a short ISO
# under the final name); the others are timed with the same guarantee: `sync FILE` after.
printf '#!/bin/sh\nset -e\n%s\nsync %s\n' "${X_CMD[*]}" "$OUT/xorriso.iso" >"$SCRATCH/xorriso.sh"
printf '#!/bin/sh\nset -e\n%s\nsync %s\n' "${C_CMD[*]}" "$OUT/cp.iso" >"$SCRATCH/cp.sh"
printf '#!/bin/sh\nset -e\ncp %s %s\n%s\nsync %s\n' "$VENDOR" "$OUT/manual.iso" "${D_CMD[*]}" "$OUT/manual.iso" >"$SCRATCH/manual.sh"
chmod +x "$SCRATCH/xorriso.sh" "$SCRATCH/cp.sh" "$SCRATCH/manual.sh"
RESET=$SCRATCH/reset.sh
printf '#!/bin/sh\nrm -rf -- "%s"\nmkdir -p -- "%s"\nsync\n' "$OUT" "$OUT" >"$RESET"
chmod +x "$RESET"
"$RESET"
cat "$VENDOR" >/dev/null   # the page cache holds the vendor DVD for every tool

# Interleaved rounds: each round runs every tool once, the order rotating from round to round,
# so that the disk's moods (the write-back of an earlier run, a copy_file_range that takes 0.5 s
# in one run and 1.7 s in the next on this VM) fall on every tool alike. Round 0 is a warm-up,
# not timed.
KEYS=(airstrap manual xorriso cp)
run_tool() { # key
    case $1 in
        airstrap) "${A_CMD[@]}" ;;
        *) "$SCRATCH/$1.sh" ;;
    esac
}
say "timed runs ($RUNS rounds after a warm-up; each into an empty folder after sync, order rotating)"
for ((r = 0; r <= RUNS; r++)); do
    for ((k = 0; k < ${#KEYS[@]}; k++)); do
        key=${KEYS[$(((k + r) % ${#KEYS[@]}))]}
        "$RESET"
        t0=$EPOCHREALTIME
        run_tool "$key" >/dev/null 2>"$SCRATCH/t-$key.err" || { cat "$SCRATCH/t-$key.err" >&2; die "$key failed"; }
        t1=$EPOCHREALTIME
        ((r == 0)) || echo "$t0 $t1" >>"$SCRATCH/t-$key.txt"
    done
done
for key in "${KEYS[@]}"; do
    "$RESET"
    cmd=("$SCRATCH/$key.sh")
    [[ $key != airstrap ]] || cmd=("${A_CMD[@]}")
    /usr/bin/time -v -o "$SCRATCH/rss-$key.txt" "${cmd[@]}" >/dev/null 2>&1 || die "$key failed under /usr/bin/time"
    python3 - "$SCRATCH/t-$key.txt" "$SCRATCH/t-$key.json" <<'EOF2'
import json, statistics as s, sys
t = [float(b) - float(a) for a, b in (line.split() for line in open(sys.argv[1]))]
json.dump({"results": [{"mean": s.mean(t), "stddev": s.stdev(t) if len(t) > 1 else 0.0, "times": t}]},
          open(sys.argv[2], "w"))
print(f"    {sys.argv[1].rsplit('t-', 1)[1][:-4]:10} {s.mean(t):.2f} s")
EOF2
done
# Each output must be a bootable remaster: the kickstarts in it and both boot images replayed.
for out in airstrap manual xorriso; do
    "$RESET"
    case $out in
        airstrap) "${A_CMD[@]}" >/dev/null 2>&1 ;;
        *) "$SCRATCH/$out.sh" >/dev/null 2>&1 ;;
    esac
    iso=$OUT/$out.iso
    report=$(xorriso -indev "stdio:$iso" -report_el_torito plain -find /ks -type f 2>&1) || die "$out: xorriso cannot read $iso"
    grep -q "El Torito boot img :   1  BIOS" <<<"$report" || die "$out: no BIOS El Torito image in $iso"
    grep -q "El Torito boot img :   2  UEFI" <<<"$report" || die "$out: no UEFI El Torito image in $iso"
    grep -q "^'/ks/" <<<"$report" || die "$out: no kickstarts in $iso"
done
say "each output read back: the kickstarts, BIOS and UEFI El Torito images"

export SCRATCH RESULTS SIZE_MIB VENDOR_BYTES RUNS
export A_TEXT="${A_CMD[*]}" X_TEXT="${X_CMD[*]} && sync" C_TEXT="${C_CMD[*]} && sync"
export D_TEXT="cp $VENDOR $OUT/manual.iso && ${D_CMD[*]} && sync"
export V_AIRSTRAP="$("$AIRSTRAP" --version | head -1)" V_XORRISO="$(xorriso -version 2>/dev/null | head -1)"
python3 - <<'EOF'
import json, os, re
E = os.environ
S = E["SCRATCH"]
t = {k: json.load(open(f"{S}/t-{k}.json"))["results"][0] for k in ("airstrap", "manual", "xorriso", "cp")}
rss = {k: int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(f"{S}/rss-{k}.txt").read()).group(1))
       for k in t}
import statistics
for k in t:
    t[k]["median"] = statistics.median(t[k]["times"])
    t[k]["min"] = min(t[k]["times"])
# The goals take the medians: on this VM one run in three or four of any tool is slowed by the
# disk (a copy of the same file takes 0.5 s or 1.7 s), which moves a mean by whole tenths.
ratio_m = t["airstrap"]["median"] / t["manual"]["median"]
ratio_x = t["airstrap"]["median"] / t["xorriso"]["median"]
ratio_c = t["airstrap"]["median"] / t["cp"]["median"]
print(f"\n{'':10} {'median':>8} {'min':>8} {'mean':>8} {'stddev':>8} {'peak RSS':>10}")
for k in ("airstrap", "manual", "xorriso", "cp"):
    print(f"{k:10} {t[k]['median']:7.2f}s {t[k]['min']:7.2f}s {t[k]['mean']:7.2f}s "
          f"{t[k].get('stddev') or 0:7.2f}s {rss[k]/1024:8.1f} MiB")
goals = [
    ("at most 1.05x cp + xorriso -dev (manual)", ratio_m, ratio_m <= 1.05),
    ("at most 1.1x xorriso replay", ratio_x, ratio_x <= 1.1),
    ("at most 1.5x cp", ratio_c, ratio_c <= 1.5),
]
print(f"\nmedians: airstrap/manual {ratio_m:.3f}  airstrap/xorriso {ratio_x:.3f}  airstrap/cp {ratio_c:.3f}")
print(f"minima:  airstrap/manual {t['airstrap']['min'] / t['manual']['min']:.3f}  "
      f"airstrap/xorriso {t['airstrap']['min'] / t['xorriso']['min']:.3f}  "
      f"airstrap/cp {t['airstrap']['min'] / t['cp']['min']:.3f}\n")
for name, value, ok in goals:
    print(f"{'PASS' if ok else 'FAIL'}  {name:40} {value:.2f}")
json.dump({"benchmark": "iso", "vendor_mib": int(E["VENDOR_BYTES"]) >> 20, "runs": int(E["RUNS"]),
           "versions": {"airstrap": E["V_AIRSTRAP"], "xorriso": E["V_XORRISO"]},
           "commands": {"airstrap": E["A_TEXT"], "manual": E["D_TEXT"], "xorriso": E["X_TEXT"], "cp": E["C_TEXT"]},
           "seconds": t, "peak_rss_kib": rss,
           "ratios": {"airstrap/manual": ratio_m, "airstrap/xorriso": ratio_x, "airstrap/cp": ratio_c},
           "goals": [{"goal": g, "value": v, "pass": ok} for g, v, ok in goals]},
          open(E["RESULTS"], "w"), indent=2)
print(f"\nresults written to {E['RESULTS']}")
EOF
