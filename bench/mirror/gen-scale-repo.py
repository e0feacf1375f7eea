#!/usr/bin/env python3
"""Repodata (no package files) for N generated packages with a dependency graph shaped like a
distribution's, for bench/mirror/scale.sh: what the solvers read and solve, nothing to fetch.

    gen-scale-repo.py OUT N ANCHOR... [--group ID]... [--environment ID]... [--seed S]

- several versions per name (1 to 4, the newest a real upgrade), x86_64 and noarch;
- thousands of provides: each name, a shared library soname for a third of the names,
  virtual capabilities shared by several names (alternatives), /usr/bin files (in primary);
- requires of every kind: plain names, versioned (>=), sonames, file paths, rich
  dependencies ("(a or b)", "(a if b)"); recommends (weak) on a tenth of the packages; a few
  cycles;
- ANCHOR names (what the site asks for: chrony, openstack-packstack, kernel, …) each pulling in
  a large part of the graph, groups (comps) and environments holding some of them.

Writes OUT/repodata/{primary,filelists,other}.xml.gz, comps.xml and repomd.xml with their
checksums, as createrepo_c would, deterministic for the same arguments.
"""
import gzip
import hashlib
import os
import random
import sys
import time
from xml.sax.saxutils import escape, quoteattr


def main(argv):
    args, groups, envs, seed = [], [], [], 1
    it = iter(argv)
    for a in it:
        if a == "--group":
            groups.append(next(it))
        elif a == "--environment":
            envs.append(next(it))
        elif a == "--seed":
            seed = int(next(it))
        else:
            args.append(a)
    if len(args) < 2:
        sys.exit(__doc__)
    out, n, anchors = args[0], int(args[1]), args[2:]
    rnd = random.Random(seed)

    # Names, each with 1-4 versions, until there are n packages; the anchors are names too.
    names = []
    count = 0
    i = 0
    while count < n - len(anchors):
        versions = min(rnd.choice((1, 1, 2, 2, 3, 4)), n - len(anchors) - count)
        names.append((f"pkg{i:05d}", versions))
        count += versions
        i += 1
    names += [(a, 1) for a in anchors]
    index = {name: k for k, (name, _) in enumerate(names)}
    soname = {name: f"lib{name}.so.{k % 3 + 1}()(64bit)" for k, (name, _) in enumerate(names) if k % 3 == 0}
    binary = {name: f"/usr/bin/{name}" for k, (name, _) in enumerate(names) if k % 3 == 1}
    virtuals = [f"virtual-cap{j:04d}" for j in range(max(1, len(names) // 20))]
    provides_virtual = {}
    for name, _ in names:
        if rnd.random() < 0.15:
            provides_virtual[name] = rnd.choice(virtuals)
    # Every virtual capability must be provided by someone.
    for j, v in enumerate(virtuals):
        if v not in provides_virtual.values():
            provides_virtual[names[(j * 7919) % (len(names) - len(anchors))][0]] = v

    def dep_on(target):
        """A requirement satisfied by `target`, in one of the forms distributions use."""
        r = rnd.random()
        if r < 0.15 and target in soname:
            return (soname[target], None)
        if r < 0.25 and target in binary:
            return (binary[target], None)
        if r < 0.40:
            return (target, ("GE", "1.0"))
        if r < 0.45:
            other = names[rnd.randrange(len(names) - len(anchors))][0]
            return (f"({target} or {other})", None)
        if r < 0.48:
            return (f"({target} if {names[rnd.randrange(len(names) - len(anchors))][0]})", None)
        return (target, None)

    pool = len(names) - len(anchors)
    requires = {}
    recommends = {}
    for k, (name, _) in enumerate(names[:pool]):
        deps = []
        for _ in range(rnd.choice((0, 1, 2, 2, 3, 4, 5, 6))):
            # Mostly on lower-numbered names (libraries below applications), a few upward.
            j = rnd.randrange(k) if k and rnd.random() < 0.97 else rnd.randrange(pool)
            if j != k:
                deps.append(dep_on(names[j][0]))
        if provides_virtual and rnd.random() < 0.05:
            deps.append((rnd.choice(virtuals), None))
        requires[name] = deps
        if rnd.random() < 0.10:
            recommends[name] = [(names[rnd.randrange(pool)][0], None)]
    for a in anchors:
        requires[a] = [dep_on(names[rnd.randrange(pool // 2, pool)][0]) for _ in range(rnd.randint(10, 40))]

    def evr(v):
        return ("0", f"1.{v}", "1")

    def entry(name, flags=None, ver=None):
        if flags:
            return f'<rpm:entry name={quoteattr(name)} flags="{flags}" epoch="0" ver="{ver}"/>'
        return f"<rpm:entry name={quoteattr(name)}/>"

    primary, filelists, other = [], [], []
    total = 0
    for k, (name, versions) in enumerate(names):
        arch = "noarch" if k % 5 == 0 else "x86_64"
        for v in range(versions):
            e, ver, rel = evr(v)
            nevra = f"{name}-{ver}-{rel}.{arch}"
            pkgid = hashlib.sha256(nevra.encode()).hexdigest()
            prov = [f'<rpm:entry name={quoteattr(name)} flags="EQ" epoch="{e}" ver="{ver}" rel="{rel}"/>']
            if name in soname:
                prov.append(entry(soname[name]))
            if name in provides_virtual:
                prov.append(entry(provides_virtual[name]))
            req = [entry(d, *(f or ())) for d, f in requires.get(name, [])]
            rec = [entry(d) for d, _ in recommends.get(name, [])]
            files = [binary[name]] if name in binary else []
            fmt = (
                "<format><rpm:license>MIT</rpm:license><rpm:vendor/><rpm:group>Unspecified</rpm:group>"
                f"<rpm:buildhost>bench</rpm:buildhost><rpm:sourcerpm>{name}-{ver}-{rel}.src.rpm</rpm:sourcerpm>"
                '<rpm:header-range start="4504" end="8000"/>'
                f"<rpm:provides>{''.join(prov)}</rpm:provides>"
                + (f"<rpm:requires>{''.join(req)}</rpm:requires>" if req else "")
                + (f"<rpm:recommends>{''.join(rec)}</rpm:recommends>" if rec else "")
                + "".join(f"<file>{escape(f)}</file>" for f in files)
                + "</format>"
            )
            size = 20000 + (k * 37 + v) % 500000
            total += 1
            primary.append(
                f'<package type="rpm"><name>{escape(name)}</name><arch>{arch}</arch>'
                f'<version epoch="{e}" ver="{ver}" rel="{rel}"/>'
                f'<checksum type="sha256" pkgid="YES">{pkgid}</checksum>'
                f"<summary>{escape(name)}</summary><description>{escape(name)} (generated)</description>"
                f'<packager/><url/><time file="1700000000" build="1700000000"/>'
                f'<size package="{size}" installed="{size * 3}" archive="{size * 3 + 512}"/>'
                f'<location href="Packages/{name[0]}/{nevra}.rpm"/>{fmt}</package>\n'
            )
            filelists.append(
                f'<package pkgid="{pkgid}" name={quoteattr(name)} arch="{arch}">'
                f'<version epoch="{e}" ver="{ver}" rel="{rel}"/>'
                + "".join(f"<file>{escape(f)}</file>" for f in files + [f"/usr/share/doc/{name}/README"])
                + "</package>\n"
            )
            other.append(
                f'<package pkgid="{pkgid}" name={quoteattr(name)} arch="{arch}">'
                f'<version epoch="{e}" ver="{ver}" rel="{rel}"/></package>\n'
            )

    common = 'xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm"'
    docs = {
        "primary": f'<?xml version="1.0" encoding="UTF-8"?>\n<metadata {common} packages="{total}">\n'
        + "".join(primary) + "</metadata>\n",
        "filelists": '<?xml version="1.0" encoding="UTF-8"?>\n<filelists xmlns="http://linux.duke.edu/metadata/filelists" '
        f'packages="{total}">\n' + "".join(filelists) + "</filelists>\n",
        "other": '<?xml version="1.0" encoding="UTF-8"?>\n<otherdata xmlns="http://linux.duke.edu/metadata/other" '
        f'packages="{total}">\n' + "".join(other) + "</otherdata>\n",
    }
    members = [names[rnd.randrange(pool)][0] for _ in range(40)]
    comps = ['<?xml version="1.0" encoding="UTF-8"?>\n<comps>']
    for g in groups:
        comps.append(f"<group><id>{escape(g)}</id><name>{escape(g)}</name><default>true</default>"
                     "<uservisible>true</uservisible><packagelist>"
                     + "".join(f'<packagereq type="mandatory">{m}</packagereq>' for m in members)
                     + "</packagelist></group>")
    for env in envs:
        comps.append(f"<environment><id>{escape(env)}</id><name>{escape(env)}</name><grouplist>"
                     + "".join(f"<groupid>{escape(g)}</groupid>" for g in groups)
                     + "</grouplist></environment>")
    comps.append("</comps>\n")
    docs["group"] = "".join(comps)

    repodata = os.path.join(out, "repodata")
    os.makedirs(repodata, exist_ok=True)
    records = []
    now = int(time.time())
    for kind, text in docs.items():
        raw = text.encode()
        if kind == "group":
            name, data = "comps.xml", raw
        else:
            name, data = f"{kind}.xml.gz", gzip.compress(raw, 6, mtime=0)
        digest = hashlib.sha256(data).hexdigest()
        path = os.path.join(repodata, f"{digest}-{name}")
        with open(path, "wb") as f:
            f.write(data)
        open_part = ""
        if kind != "group":
            open_part = (f'<open-checksum type="sha256">{hashlib.sha256(raw).hexdigest()}</open-checksum>'
                         f"<open-size>{len(raw)}</open-size>")
        records.append(
            f'<data type="{kind}"><checksum type="sha256">{digest}</checksum>{open_part}'
            f'<location href="repodata/{digest}-{name}"/><timestamp>{now}</timestamp>'
            f"<size>{len(data)}</size></data>"
        )
    with open(os.path.join(repodata, "repomd.xml"), "w") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo" '
                'xmlns:rpm="http://linux.duke.edu/metadata/rpm">\n'
                f"<revision>{now}</revision>\n" + "\n".join(records) + "\n</repomd>\n")
    print(f"{total} packages, {len(names)} names, "
          f"{len(names) + len(soname) + len(set(provides_virtual.values()))} distinct provides, "
          f"{sum(len(v) for v in requires.values())} requires")


if __name__ == "__main__":
    main(sys.argv[1:])
