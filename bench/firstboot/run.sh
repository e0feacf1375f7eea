#!/usr/bin/env bash
# bench/firstboot: how long airstrap-firstboot takes to bring N nodes up, each in its own
# network namespace with a real sshd (tests/integration/firstboot-lib.sh). See README.md.
#
#   bench/firstboot/run.sh [--nodes "3 50"] [--runs R] [--chrony real|fake] [--poll-interval S]
#                          [--quick]
#
# One controller and N-1 compute nodes in 192.168.111.0/24 (only inside the namespaces made
# here). Measured per run: from starting every daemon to the controller's last step done, the
# chrony wait on that path, the time without it, and the daemons' message counts. Prints a
# table and the goals (3 nodes < 2 s, 50 nodes < 10 s, chrony wait excluded; informational:
# the exit status is 0 unless a run failed), writes bench/firstboot/last-results.json.
# --quick (CI): 3 nodes, one run.
set -euo pipefail

SIZES="3 50"
RUNS=1
CHRONY=real
POLL=

usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while (($#)); do
    case $1 in
        --nodes) SIZES=${2:?--nodes needs a list}; shift 2 ;;
        --nodes=*) SIZES=${1#*=}; shift ;;
        --runs) RUNS=${2:?--runs needs a number}; shift 2 ;;
        --runs=*) RUNS=${1#*=}; shift ;;
        --chrony) CHRONY=${2:?--chrony needs real or fake}; shift 2 ;;
        --chrony=*) CHRONY=${1#*=}; shift ;;
        --poll-interval) POLL=${2:?--poll-interval needs seconds}; shift 2 ;;
        --poll-interval=*) POLL=${1#*=}; shift ;;
        --quick) QUICK=1; SIZES=3; RUNS=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
for n in $SIZES; do
    [[ $n =~ ^[0-9]+$ ]] && ((n >= 2 && n <= 200)) || {
        echo "run.sh: --nodes: each size must be 2..200" >&2; exit 2; }
done
[[ $RUNS =~ ^[0-9]+$ ]] && ((RUNS >= 1)) || { echo "run.sh: --runs must be at least 1" >&2; exit 2; }
[[ $CHRONY == real || $CHRONY == fake ]] || { echo "run.sh: --chrony must be real or fake" >&2; exit 2; }
[[ -z $POLL || $POLL =~ ^[0-9]*\.?[0-9]+$ ]] || { echo "run.sh: --poll-interval must be seconds" >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$(dirname "$HERE")")
AIRSTRAP=${AIRSTRAP:-$ROOT/build/airstrap}
AIRSTRAP_FIRSTBOOT=${AIRSTRAP_FIRSTBOOT:-$ROOT/build/airstrap-firstboot}
RESULTS=$HERE/last-results.json
((${QUICK:-0})) && RESULTS=$HERE/last-quick-results.json   # a full run's results stay

# Under CI=true (which installs everything) a missing prerequisite is a failure.
skip() {
    echo "skipped: $*"
    [[ ${CI:-} != true ]] || exit 1
    exit 0
}
fail() { echo "run.sh: $*" >&2; exit 1; }
say() { printf '==> %s\n' "$*"; }

[ -x "$AIRSTRAP" ] || skip "no $AIRSTRAP (build it, or set AIRSTRAP)"
[ -x "$AIRSTRAP_FIRSTBOOT" ] || skip "no $AIRSTRAP_FIRSTBOOT (build it, or set AIRSTRAP_FIRSTBOOT)"
"$AIRSTRAP_FIRSTBOOT" run --help >/dev/null 2>&1 || skip "$AIRSTRAP_FIRSTBOOT has no 'run' yet"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/airstrap-bench-firstboot.XXXXXX")
SRC=${SRC:-$ROOT}
source "$ROOT/tests/integration/firstboot-lib.sh"  # its EXIT trap removes namespaces and $WORK
reason=$(fb_skip_reason)
[ -z "$reason" ] || skip "$reason"

# site_yaml N: lab3 with one controller (192.168.111.10) and N-1 compute nodes (.11 …).
site_yaml() {
    python3 - "$1" "$ROOT/examples/lab3/site.yaml" <<'EOF'
import sys
n, lines = int(sys.argv[1]), open(sys.argv[2]).read().split("\n")
out = lines[:lines.index("nodes:") + 1]
for i in range(n):
    name, role = ("controller-node", "controller") if i == 0 else (f"compute-{i:03d}", "compute")
    out += [f"  - name: {name}", f"    role: {role}", "    disk: sda", "    interfaces:",
            f'      - {{name: ens32, mac: "02:00:00:00:{i // 256:02x}:{i % 256:02x}", '
            f"network: management, address: 192.168.111.{10 + i}}}"]
out += [""] + lines[lines.index("media:"):]
out += ["firstboot:", "  barrier_timeout: 600", "  sync_timeout: 120", ""]
print("\n".join(out))
EOF
}

# bench_run N RUN: one measurement; appends a JSON line to $WORK/runs.jsonl.
bench_run() {
    local n=$1 run=$2 site=$WORK/site-$1 name t0 ready deadline state args=()
    mkdir -p "$site"
    site_yaml "$n" >"$site/site.yaml"
    [ -f "$site/secrets.yaml" ] || "$AIRSTRAP" init --secrets-only "$site" >/dev/null
    rm -rf "$WORK/nodes"
    "$AIRSTRAP" node-config "$site/site.yaml" --node controller-node --root "$WORK/probe" >/dev/null 2>&1 ||
        fail "airstrap node-config $site/site.yaml failed"
    fb_site_nodes "$WORK/probe/etc/airstrap/site.json" >"$WORK/nodes.txt"
    say "$n nodes, run $run: namespaces, host keys, sshd"
    t0=$EPOCHREALTIME
    while read -r name role nic addr prefix ext; do
        fb_add_node "$name" "$role" "$nic" "$addr" "$prefix" "$ext"
        fb_node_config "$site/site.yaml" "$name"
        if [ "$CHRONY" = fake ]; then : >"${FB_ROOT[$name]}/run/fake-chrony"; fi
    done <"$WORK/nodes.txt"
    # The controller's copy of the site repository carries the cloud: section's image (day-1).
    mkdir -p "${FB_ROOT[controller-node]}/opt/airstrap/repo/images"
    head -c 65536 /dev/urandom >"${FB_ROOT[controller-node]}/opt/airstrap/repo/images/cirros-0.3.4-x86_64-disk.img"
    ready=$(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
    say "$n nodes ready in $ready s; starting every daemon"
    [ -n "$POLL" ] && args=(--poll-interval "$POLL")
    t0=$EPOCHREALTIME
    fb_start_all --exit-when-done "${args[@]}"
    # --exit-when-done: every daemon exits by itself once its steps are done
    deadline=$((SECONDS + 300))
    for name in "${FB_NODES[@]}"; do
        while fb_daemon_alive "$name" && ((SECONDS < deadline)); do sleep 0.05; done
        fb_daemon_alive "$name" && fail "$n nodes: $name's daemon still runs after 300 s:"$'\n'"$(tail -20 "${FB_ROOT[$name]}/daemon.log")"
        state=$(fb_daemon_state "$name")
        [ "$state" = "exited 0" ] || fail "$n nodes: $name's daemon $state:"$'\n'"$(tail -20 "${FB_ROOT[$name]}/daemon.log")"
    done
    local all_exited=$EPOCHREALTIME
    fb_status controller-node
    [ "$RC" -eq 0 ] || echo "warning: the controller's status exits $RC after every daemon is done: $(sed -n 1,3p <<<"$OUT")" >&2
    # each node's journal and its last "sessions=… frames=… beacons=…" line
    for name in "${FB_NODES[@]}"; do
        printf '%s\t%s\t%s\t%s\n' "$name" "${FB_ROLE[$name]}" "${FB_ROOT[$name]}/var/lib/airstrap/journal.json" \
            "$(grep -ho 'sessions=[0-9]* frames=[0-9]* beacons=[0-9]*' "${FB_ROOT[$name]}/var/log/airstrap-firstboot.log" \
                "${FB_ROOT[$name]}/daemon.log" 2>/dev/null | tail -1)"
    done >"$WORK/nodes-$n-$run.tsv"
    python3 - "$n" "$run" "$t0" "$all_exited" "$ready" "$WORK/nodes-$n-$run.tsv" >>"$WORK/runs.jsonl" <<'EOF'
import json, re, sys
n, run, t0, all_exited, ready, tsv = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
nodes = {}
for line in open(tsv):
    name, role, journal, counts = line.rstrip("\n").split("\t")
    doc = json.load(open(journal))
    steps = doc["steps"] if isinstance(doc, dict) else doc
    undone = [s["name"] for s in steps if s["state"] != "done"]
    if undone:
        sys.exit(f"{name}: steps not done: {', '.join(undone)}")
    m = re.match(r"sessions=(\d+) frames=(\d+) beacons=(\d+)", counts)
    nodes[name] = {"role": role, "steps": {s["name"]: s for s in steps},
                   "counts": dict(zip(("sessions", "frames", "beacons"), map(int, m.groups()))) if m else None}
ctl = nodes["controller-node"]
# The site is up when every node's first-boot steps are done: the last one finished anywhere.
# The controller's deployment (packstack and its checks, here the stand-ins of
# tests/fixtures/stand-ins) follows; it is timed on its own, since real Packstack takes tens
# of minutes and the stand-in's time says nothing about it.
DEPLOY = {"answers", "packstack", "verify_token", "verify_users", "verify_images",
          "verify_compute", "verify_network", "day1"}
done_at = max(s["finished"] for v in nodes.values() for k, s in v["steps"].items() if k not in DEPLOY)
deploy_steps = [s for k, s in ctl["steps"].items() if k in DEPLOY]
deploy_s = (max(s["finished"] for s in deploy_steps) - ctl["steps"]["verify_ssh"]["finished"]) if deploy_steps else 0.0
wall = done_at - t0
# The chrony wait on that path: the longest one of any node (they run in parallel; a node is
# done only after its own).
def chrony(node):
    s = node["steps"].get("chrony_wait")
    return (s["finished"] - s["started"]) if s and s["finished"] else 0.0
ctl_chrony = chrony(ctl)
node_chrony = max((chrony(v) for k, v in nodes.items() if k != "controller-node"), default=0.0)
chrony_s = max(ctl_chrony, node_chrony)
per_step = {}
for v in nodes.values():
    for name, s in v["steps"].items():
        if s["finished"]:
            per_step.setdefault(name, []).append(s["finished"] - s["started"])
counts = [v["counts"] for v in nodes.values() if v["counts"]]
msgs = {k: (sum(c[k] for c in counts) / len(counts)) for k in ("sessions", "frames", "beacons")} if counts else None
print(json.dumps({
    "nodes": n, "run": run, "setup_s": ready, "wall_s": wall, "all_exited_s": all_exited - t0,
    "chrony_wait_s": chrony_s, "controller_chrony_wait_s": ctl_chrony, "node_chrony_wait_max_s": node_chrony,
    "without_chrony_s": wall - chrony_s, "deploy_stand_ins_s": deploy_s,
    "step_max_s": {k: max(v) for k, v in per_step.items()},
    "messages_per_node": msgs, "nodes_reporting_counts": len(counts),
}))
EOF
    fb_teardown
}

: >"$WORK/runs.jsonl"
for n in $SIZES; do
    for run in $(seq "$RUNS"); do bench_run "$n" "$run"; done
done

export RESULTS CHRONY POLL RUNS
AIRSTRAP_BIN="$("$AIRSTRAP_FIRSTBOOT" --version 2>/dev/null | head -1), built $(date -u -r "$AIRSTRAP_FIRSTBOOT" +%FT%TZ), sha256 $(sha256sum "$AIRSTRAP_FIRSTBOOT" | cut -c1-12)"
AIRSTRAP_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
CPUS=$(nproc)
CHRONY_VERSION=$(chronyd --version | cut -d' ' -f4)
SSHD_VERSION=$(ssh -V 2>&1 | cut -d, -f1)
export AIRSTRAP_BIN AIRSTRAP_REV CPUS CHRONY_VERSION SSHD_VERSION
python3 - "$WORK/runs.jsonl" <<'EOF'
import json, os, statistics, sys
E = os.environ
runs = [json.loads(l) for l in open(sys.argv[1])]
goals_s = {3: 2.0, 50: 10.0}
print()
print(f"airstrap-firstboot benchmark: {E['AIRSTRAP_BIN']} (checkout at {E['AIRSTRAP_REV']}), {E['CPUS']} CPUs, "
      f"chrony {E['CHRONY']} ({E['CHRONY_VERSION']}), {E['SSHD_VERSION']}, poll interval {E['POLL'] or 'default'}")
print()
print(f"{'nodes':>5} {'run':>3} {'setup':>7} {'wall':>7} {'chrony':>7} {'w/o chrony':>10} {'sessions':>8} {'frames':>7} {'beacons':>7} {'deploy*':>8}")
for r in runs:
    m = r["messages_per_node"] or {}
    f = lambda k: f"{m[k]:.1f}" if k in m else "-"
    print(f"{r['nodes']:>5} {r['run']:>3} {r['setup_s']:6.1f}s {r['wall_s']:6.2f}s {r['chrony_wait_s']:6.2f}s "
          f"{r['without_chrony_s']:9.2f}s {f('sessions'):>8} {f('frames'):>7} {f('beacons'):>7} {r['deploy_stand_ins_s']:7.2f}s")
print("(setup: namespaces, host keys and sshd, not timed; messages: mean per node, from the daemons' final log line;")
print(" deploy*: the controller's deployment steps after verify_ssh, with the Packstack/OpenStack stand-ins)")
goals = []
for n in sorted({r["nodes"] for r in runs}):
    vals = [r["without_chrony_s"] for r in runs if r["nodes"] == n]
    mean = statistics.mean(vals)
    if n in goals_s:
        goals.append({"goal": f"{n} nodes up in under {goals_s[n]:g} s (chrony wait excluded)", "value": mean,
                      "target": f"< {goals_s[n]:g} s", "pass": mean < goals_s[n]})
print()
for g in goals:
    print(f"{'PASS' if g['pass'] else 'FAIL'}  {g['goal']:<50} {g['value']:.2f} s")
print()
print("slowest node's time per step (last run of each size):")
last = {r["nodes"]: r for r in runs}
for n, r in sorted(last.items()):
    print(f"  {n} nodes: " + ", ".join(f"{k} {v:.2f}s" for k, v in r["step_max_s"].items()))
with open(E["RESULTS"], "w") as out:
    json.dump({"benchmark": "firstboot",
               "config": {"chrony": E["CHRONY"], "poll_interval": E["POLL"] or "default", "runs": int(E["RUNS"]),
                          "cpus": int(E["CPUS"])},
               "versions": {"airstrap-firstboot": E["AIRSTRAP_BIN"], "checkout_head": E["AIRSTRAP_REV"],
                            "chrony": E["CHRONY_VERSION"], "ssh": E["SSHD_VERSION"]},
               "runs": runs, "goals": goals}, out, indent=2)
    out.write("\n")
print()
print(f"results written to {E['RESULTS']}")
EOF
