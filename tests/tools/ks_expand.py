#!/usr/bin/env python3
"""Expand an airstrap kickstart profile into one flat kickstart per node.

The profile's %pre writes each node's network and disk lines to /tmp/airstrap/node.ks and
the repository line to /tmp/airstrap/source.ks (and, in the site profile, the role's
%packages section to /tmp/airstrap/packages.ks), which the main section %include-s. A
validator does not run %pre, so this script puts each node's lines where the %include
stands, giving what Anaconda parses on that node. Usage: ks_expand.py PROFILE OUTDIR
"""
import pathlib
import re
import sys

profile = pathlib.Path(sys.argv[1])
outdir = pathlib.Path(sys.argv[2])
text = profile.read_text()
branches = re.findall(
    r"^([A-Za-z0-9-]+)\)\n    cat > /tmp/airstrap/node\.ks <<'AIRSTRAP_EOF'\n(.*?)^AIRSTRAP_EOF\n"
    r"(?:    printf '%s\\n' (.*?) > /tmp/airstrap/packages\.ks\n)?",
    text, re.S | re.M)
if not branches:
    sys.exit(f"{profile}: no node branches found in %pre")
outdir.mkdir(parents=True, exist_ok=True)
for node, lines, packages in branches:
    flat = text.replace("%include /tmp/airstrap/node.ks\n", lines)
    if packages:  # the site profile: %pre writes the node's role's %packages section
        section = "".join(w + "\n" for w in re.findall(r"'([^']*)'", packages))
        flat = flat.replace("%include /tmp/airstrap/packages.ks\n", section)
    flat = flat.replace("%include /tmp/airstrap/source.ks\n",
                        "repo --name=airstrap-site --baseurl=file:///run/install/repo/airstrap/repo\n")
    if "%include" in flat.split("%packages")[0]:
        sys.exit(f"{profile}: an %include was left unexpanded")
    out = outdir / f"{profile.stem}-{node}.ks"
    out.write_text(flat)
    print(out)
