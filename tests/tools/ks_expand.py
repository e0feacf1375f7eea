#!/usr/bin/env python3
"""What Anaconda reads from an airstrap kickstart, taken apart with pykickstart (its parser).

ks_expand.py nodes VERSION OUTDIR PROFILE...
    One flat kickstart per node each profile serves (its "# Serves:" line), printed one path a
    line. The profile's %pre really runs (bash, as EL's /bin/sh) once per node, in a stand-in
    root under OUTDIR: /proc/cmdline without airstrap.node=, /sys/class/net with lo and the
    node's NICs (the MACs of its Serves entry), /sys/block with the stand-in machine's disks
    (DISKS below), /sys/firmware/efi when KS_EXPAND_FIRMWARE=efi (BIOS otherwise), an empty
    /dev/disk, the install media's /airstrap/repo/repodata/repomd.xml, /tmp/airstrap and
    /dev/console there too. %pre must exit 0 and name the node in
    /tmp/airstrap/node; each "%include /tmp/airstrap/..." line is then replaced by the file
    %pre wrote (stand-in paths written back as the node sees them). A %pre that names any other
    absolute path is not run: it would read or write this machine's.
ks_expand.py scripts VERSION OUTDIR KICKSTART...
    The body of every %pre, %pre-install, %post, %onerror and %traceback section as pykickstart
    reads it, one file each; prints "INTERPRETER<TAB>FILE<TAB>KICKSTART: SECTION at line N" per
    body.

ks_expand.py biosboot VERSION OUTDIR KICKSTART...
    ksvalidator's check (every parse warning an error) with one warning excused: a second
    "part biosboot", which RAID1 on a BIOS machine needs (a BIOS boot partition on each disk,
    as Anaconda's own kickstart-tests write it; Anaconda logs the warning and goes on). Only
    when every biosboot partition is on a disk of its own. OUTDIR is unused. Prints one line
    per file; exits 1 at the first it refuses.

VERSION is pykickstart's (RHEL7, RHEL8, RHEL9). Needs pykickstart on PYTHONPATH.
"""
import os
import pathlib
import re
import subprocess
import sys

import warnings

from pykickstart.constants import (KS_SCRIPT_ONERROR, KS_SCRIPT_POST, KS_SCRIPT_PRE,
                                   KS_SCRIPT_PREINSTALL, KS_SCRIPT_TRACEBACK)
from pykickstart.parser import KickstartParser
from pykickstart.errors import KickstartParseWarning
from pykickstart.version import makeVersion

SECTIONS = {KS_SCRIPT_PRE: "%pre", KS_SCRIPT_POST: "%post", KS_SCRIPT_TRACEBACK: "%traceback",
            KS_SCRIPT_PREINSTALL: "%pre-install", KS_SCRIPT_ONERROR: "%onerror"}
# The paths %pre reads and writes on the installer; in the stand-in root they sit under OUTDIR.
STANDIN_PATHS = ("/proc/cmdline", "/sys/class/net", "/sys/block", "/sys/firmware", "/dev/disk",
                 "/tmp/airstrap", "/run/install/repo", "/dev/console")
# The stand-in machine's disks: kernel name, size in 512-byte sectors, model (as the kernel
# shows it, blank-padded). Two 480 GB system SSDs, two 1.92 TB data SSDs, a USB stick.
DISKS = (("sda", 937703088, "INTEL SSDSC2KB48"), ("sdb", 937703088, "INTEL SSDSC2KB48"),
         ("sdc", 3750748848, "SAMSUNG MZ7LH1T9"), ("sdd", 3750748848, "SAMSUNG MZ7LH1T9"),
         ("sde", 62521344, "Ultra Fit       "))
# %pre runs on this (test) machine, as root in CI: it may name no other path, which it would
# read or write here. An absolute path is a "/" that follows no word, ":", "/", ".", "*", "}"
# or "(" (a path in parentheses is a message's text).
ABSOLUTE_PATH = re.compile(r"(?<![\w:/.*}(-])/[\w.*-]+(?:/[\w.*-]+)*")


def die(message):
    sys.exit(f"ks_expand.py: {message}")


def scripts_of(version, text, name):
    handler = makeVersion(version)
    try:
        # Warnings were ksvalidator's to judge; here only the sections are wanted.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", KickstartParseWarning)
            KickstartParser(handler, followIncludes=False,
                            errorsAreFatal=True).readKickstartFromString(text)
    except Exception as error:  # pylint: disable=broad-except
        die(f"{name}: pykickstart {version} cannot read it: {error}")
    return handler.scripts


def section(script):
    name = SECTIONS[script.type]
    return name + (" --nochroot" if script.type == KS_SCRIPT_POST and not script.inChroot else "")


def run_pre(pre, root, node, macs, name):
    """Runs the %pre bodies in a stand-in root for a machine with these MACs."""
    (root / "proc").mkdir(parents=True)
    (root / "proc/cmdline").write_text("BOOT_IMAGE=vmlinuz inst.stage2=hd:LABEL=AIRSTRAP quiet\n")
    nics = [("lo", "00:00:00:00:00:00")] + [(f"eth{i}", mac) for i, mac in enumerate(macs)]
    for nic, mac in nics:
        (root / "sys/class/net" / nic).mkdir(parents=True)
        (root / "sys/class/net" / nic / "address").write_text(mac + "\n")
    for disk, sectors, model in DISKS:
        block = root / "sys/block" / disk
        (block / "device").mkdir(parents=True)
        (block / "size").write_text(f"{sectors}\n")
        (block / "device/model").write_text(model + "\n")
        (block / "removable").write_text("1\n" if disk == "sde" else "0\n")
    (root / "dev/disk").mkdir(parents=True)
    if os.environ.get("KS_EXPAND_FIRMWARE") == "efi":
        (root / "sys/firmware/efi").mkdir(parents=True)
    (root / "run/install/repo/airstrap/repo/repodata").mkdir(parents=True)
    # %pre takes the media's repository only with its metadata (a non-empty repomd.xml).
    (root / "run/install/repo/airstrap/repo/repodata/repomd.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo"/>\n')
    (root / "tmp").mkdir()
    for i, script in enumerate(pre):
        if script.interp not in ("/bin/sh", "/bin/bash", "/usr/bin/sh", "/usr/bin/bash"):
            die(f"{name}: %pre at line {script.lineno} runs {script.interp}; only sh/bash can run here")
        # Partitioning commands %pre writes for Anaconda name mount points (/boot, /var/lib/
        # nova/instances): data in a here-document, not paths this shell touches.
        scanned = re.sub(r"^(?:part|raid|logvol) .*$", "", script.script, flags=re.M)
        other = [p for p in ABSOLUTE_PATH.findall(scanned)
                 if not p.startswith(STANDIN_PATHS) and p != "/dev/null"]
        if other:
            die(f"{name}: %pre at line {script.lineno} names {other[0]}, which is not one of the "
                f"stand-in paths ({', '.join(STANDIN_PATHS)}); add it to STANDIN_PATHS in {__file__}")
        body = re.sub("|".join(map(re.escape, STANDIN_PATHS)), lambda m: f"{root}{m.group(0)}",
                      script.script)
        file = root / f"pre-{i}.sh"
        file.write_text(body)
        shell = ["bash", "--posix"] if script.interp.endswith("/sh") else ["bash"]
        result = subprocess.run(shell + [str(file)], cwd=root, capture_output=True, text=True,
                                timeout=60, check=False,
                                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"})
        if result.returncode != 0:
            console = root / "dev/console"
            die(f"{name}: %pre at line {script.lineno} exited {result.returncode} on {node}'s "
                f"machine (MACs {', '.join(macs)}):\n{result.stdout}{result.stderr}"
                + (console.read_text() if console.exists() else ""))
    picked = root / "tmp/airstrap/node"
    if not picked.exists() or picked.read_text().strip() != node:
        got = picked.read_text().strip() if picked.exists() else "nothing"
        die(f"{name}: %pre on {node}'s machine (MACs {', '.join(macs)}) picked {got}")


def nodes(version, profile, outdir):
    text = profile.read_text()
    served = re.search(r"^# Serves: (.+)$", text, re.M)
    if not served:
        die(f"{profile}: no '# Serves:' line names the nodes it is for")
    entries = re.findall(r"([A-Za-z0-9-]+) \(([^)]*)\)", served.group(1))
    if not entries:
        die(f"{profile}: the '# Serves:' line names no node: {served.group(1)}")
    pre = [s for s in scripts_of(version, text, profile) if s.type == KS_SCRIPT_PRE]
    if not pre:
        die(f"{profile}: no %pre section")
    outdir.mkdir(parents=True, exist_ok=True)
    # A node's own kickstart (nodes/NAME.ks) and a role profile of the same stem stay apart.
    stem = f"{profile.parent.name}.{profile.stem}" if profile.parent.name == "nodes" else profile.stem
    for node, macs in entries:
        root = outdir / f"{stem}-{node}.root"
        run_pre(pre, root, node, [m.strip() for m in macs.split(",")], profile)

        def included(match, root=root, node=node):
            written = root / match.group(1).lstrip("/")
            if not written.is_file():
                die(f"{profile}: %pre wrote no {match.group(1)} on {node}'s machine")
            return written.read_text().replace(str(root), "")

        flat = re.sub(r"^%include (/tmp/airstrap/\S+)\n", included, text, flags=re.M)
        left = re.search(r"^%include .*$", flat, re.M)
        if left:
            die(f"{profile}: '{left.group(0)}' is not a file %pre writes")
        out = outdir / f"{stem}-{node}.ks"
        out.write_text(flat)
        print(out)


def scripts(version, kickstart, outdir, index):
    # Numbered: nodes/compute.ks (a node named compute) and compute.ks (the role's) differ.
    outdir = outdir / f"{index}-{kickstart.stem}.scripts"
    outdir.mkdir(parents=True, exist_ok=True)
    for i, script in enumerate(scripts_of(version, kickstart.read_text(), kickstart)):
        what = section(script)
        body = outdir / f"{i}.{what.lstrip('%').replace(' --', '-')}"
        body.write_text(script.script)
        print(f"{script.interp}\t{body}\t{kickstart.name}: {what} at line {script.lineno}")


BIOSBOOT_TWICE = "A partition with the mountpoint biosboot has already been defined."


def biosboot(version, kickstart):
    handler = makeVersion(version)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=KickstartParseWarning)
        warnings.filterwarnings("ignore", message=re.escape(BIOSBOOT_TWICE),
                                category=KickstartParseWarning)
        try:
            KickstartParser(handler, followIncludes=False,
                            errorsAreFatal=True).readKickstartFromString(kickstart.read_text())
        except Exception as error:  # pylint: disable=broad-except
            die(f"{kickstart}: pykickstart {version}: {error}")
    disks = [p.disk for p in handler.partition.dataList() if p.mountpoint == "biosboot"]
    if len(disks) != len(set(disks)) or "" in disks:
        die(f"{kickstart}: biosboot partitions on {disks}: each must be on a disk of its own")
    print(f"{kickstart}: accepted, {len(disks)} biosboot partitions on {', '.join(disks)}")


def main():
    if len(sys.argv) < 5 or sys.argv[1] not in ("nodes", "scripts", "biosboot"):
        die("usage: ks_expand.py nodes|scripts|biosboot VERSION OUTDIR KICKSTART...")
    mode, version, outdir = sys.argv[1:4]
    for index, kickstart in enumerate(sys.argv[4:]):
        if mode == "nodes":
            nodes(version, pathlib.Path(kickstart), pathlib.Path(outdir))
        elif mode == "biosboot":
            biosboot(version, pathlib.Path(kickstart))
        else:
            scripts(version, pathlib.Path(kickstart), pathlib.Path(outdir), index)


if __name__ == "__main__":
    os.umask(0o077)
    main()
