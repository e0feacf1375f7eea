#!/usr/bin/env bash
# The dependency rules hold at compile time: each library sees only the headers of the
# libraries CMake links it with (cmake/IncludeDir.cmake). For each rule, one of the
# library's own sources is compiled again (syntax only, the build's exact flags from
# compile_commands.json) with the forbidden header forced in: it must fail to find it.
# A permitted header must be found, so the probe itself is shown to work.
source "$(dirname "$0")/common.sh"
: "${BUILD:?set BUILD to the build folder}"
[ -f "$BUILD/compile_commands.json" ] || skip "no $BUILD/compile_commands.json"

python3 - "$BUILD/compile_commands.json" <<'PY' || fail "a dependency rule does not hold (above)"
import json, shlex, subprocess, sys

commands = json.load(open(sys.argv[1]))

def command_for(target):
    for c in commands:
        if f"/CMakeFiles/{target}.dir/" in c["command"]:
            return c
    raise SystemExit(f"no compile command of {target}")

# (library, header, may it include it?)
rules = [
    ("airstrap_node", "common/text.hpp", True),
    ("airstrap_node", "site/model.hpp", False),            # no yaml-cpp in the static daemon
    ("airstrap_deploy", "node/site_json.hpp", True),
    ("airstrap_deploy", "deploy/answers.hpp", False),      # the build side of deploy/
    ("airstrap_firstboot", "deploy/openstack.hpp", True),
    ("airstrap_firstboot", "site/site_file.hpp", False),
    ("airstrap_firstboot", "kickstart/node_setup.hpp", False),
    ("airstrap_site", "node/site_json.hpp", True),
    ("airstrap_site", "kickstart/render.hpp", False),      # dependencies point down
    ("airstrap_site", "builder/iso.hpp", False),
    ("airstrap_kickstart", "site/model.hpp", True),
    ("airstrap_kickstart", "builder/qcow2.hpp", False),
    ("airstrap_kickstart", "repo-mirror/mirror.hpp", False),
    ("airstrap_mirror", "site/packages.hpp", True),
    ("airstrap_mirror", "kickstart/render.hpp", False),     # a role's packages are site/'s
    ("airstrap_mirror", "builder/iso.hpp", False),
    ("airstrap_provision", "node/credentials.hpp", True),
    ("airstrap_provision", "site/model.hpp", False),        # the service needs no site.yaml
    ("airstrap_provision", "builder/pxe.hpp", False),
    ("airstrap_provision", "kickstart/render.hpp", False),
    ("airstrap_lab", "common/subprocess.hpp", True),
    ("airstrap_lab", "site/model.hpp", False),             # the CLI maps the site onto the lab
    ("airstrap_lab", "builder/qcow2.hpp", False),
    ("airstrap_lab", "firstboot/daemon.hpp", False),
]
bad = 0
for target, header, allowed in rules:
    c = command_for(target)
    args = shlex.split(c["command"])
    probe, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MT"):
            skip = True
            continue
        if a in ("-c", "-MD"):
            continue
        probe.append(a)
    probe[-1:-1] = ["-fsyntax-only", "-include", header]
    r = subprocess.run(probe, cwd=c["directory"], capture_output=True, text=True)
    found = r.returncode == 0
    ok = found == allowed
    print(f"{'ok' if ok else 'WRONG'}: {target} {'may' if allowed else 'may not'} include {header}"
          f" ({'compiles' if found else 'not found' if 'No such file' in r.stderr else 'fails'})")
    if not ok:
        bad += 1
        print(r.stderr[:2000])
sys.exit(1 if bad else 0)
PY
pass "every library sees only what it links"
