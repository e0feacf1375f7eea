#!/usr/bin/env python3
"""Where a site's secrets are in its generated media (issue 16, "Prove it").

media_secrets.py keys SECRETS_YAML NODE... > KEYS.json
    The site secret (hex, from secrets.yaml) and each node's key, derived here independently
    of airstrap: HKDF-SHA256(site secret, salt "airstrap credentials v2",
    info b"node key\\0" + name), 32 bytes. Written as JSON (keep the file 0600).

media_secrets.py check KEYS.json CONTROLLER SEALED_FILE OWNER=PATH...
    Every file under each PATH (a file, a folder, or tar:FILE for each member of a tar) is
    searched for the site secret, each node key and the controller's deploy.sealed (a piece
    of SEALED_FILE's text), as lower- and upper-case hex and as raw bytes. A file's OWNER is
    that of the longest PATH that holds it: a node name (its own media: its key; the
    controller's also the site secret, every key and deploy.sealed), "site" (site-wide media
    such as site.ks: anything) or "none" (nothing). Fails, naming file and secret, on any
    secret outside its owners' media; also fails unless each owner's media hold what they
    must (its own key; the controller's the site secret and deploy.sealed; "site" all), so
    that a search that finds nothing cannot pass. Prints one summary line per owner.
"""
import json
import os
import re
import sys
import tarfile

from airstrap_keys import node_key

def keys(secrets_yaml, nodes):
    text = open(secrets_yaml, encoding="utf-8").read()
    m = re.search(r"^site_secret:\s*['\"]?([0-9a-fA-F]{64})['\"]?\s*$", text, re.M)
    if not m:
        sys.exit(f"media_secrets.py: {secrets_yaml}: no site_secret of 64 hex digits")
    secret = bytes.fromhex(m.group(1))
    json.dump({"site_secret": secret.hex(),
               "node_keys": {n: node_key(secret, n).hex() for n in nodes}}, sys.stdout)


def files_of(path):
    """(display name, bytes) of each regular file under path."""
    if path.startswith("tar:"):
        with tarfile.open(path[4:]) as tar:
            for member in tar:
                if member.isfile():
                    yield f"{path[4:]}:{member.name}", tar.extractfile(member).read()
        return
    if os.path.isfile(path):
        with open(path, "rb") as f:
            yield path, f.read()
        return
    if not os.path.isdir(path):
        sys.exit(f"media_secrets.py: {path}: no such file or folder")
    for root, dirs, names in os.walk(path):
        dirs.sort()
        for name in sorted(names):
            p = os.path.join(root, name)
            if os.path.isfile(p) and not os.path.islink(p):
                with open(p, "rb") as f:
                    yield p, f.read()


def check(keys_json, controller, sealed_file, pairs):
    k = json.load(open(keys_json))
    secrets = {"the site secret": bytes.fromhex(k["site_secret"])}
    for n, h in k["node_keys"].items():
        secrets[f"{n}'s key"] = bytes.fromhex(h)
    sealed = open(sealed_file, encoding="ascii").read().split()[0][:64]
    if not re.fullmatch(r"[0-9a-f]{64}", sealed):
        sys.exit(f"media_secrets.py: {sealed_file}: not a sealed deploy config")
    needles = {}
    for what, raw in secrets.items():
        needles[what] = [raw.hex().encode(), raw.hex().upper().encode(), raw]
    needles["deploy.sealed"] = [sealed.encode()]

    def allowed(owner, what):
        if owner == "site":
            return True
        if owner == "none":
            return False
        if owner == controller:
            return True
        return what == f"{owner}'s key"

    def required(owner):
        if owner == "site":
            return set(needles)
        if owner == "none":
            return set()
        if owner == controller:
            return {f"{owner}'s key", "the site secret", "deploy.sealed"}
        return {f"{owner}'s key"}

    roots = []
    for pair in pairs:
        owner, _, path = pair.partition("=")
        if not path:
            sys.exit(f"media_secrets.py: '{pair}' is not OWNER=PATH")
        if owner not in ("site", "none") and f"{owner}'s key" not in secrets:
            sys.exit(f"media_secrets.py: owner '{owner}' is no node of {keys_json}")
        roots.append((owner, path))
    by_length = sorted(roots, key=lambda r: len(r[1]), reverse=True)

    def owner_of(name):
        for owner, path in by_length:
            base = path[4:] if path.startswith("tar:") else path
            if name == base or name.startswith(base.rstrip("/") + "/") or \
                    name.startswith(base + ":"):
                return owner
        return None

    found = {}  # owner -> set of secrets found
    counts = {}
    problems = []
    seen = set()
    for owner, path in roots:
        for name, data in files_of(path):
            if name in seen:
                continue
            seen.add(name)
            file_owner = owner_of(name)
            counts[file_owner] = counts.get(file_owner, 0) + 1
            for what, forms in needles.items():
                if any(f in data for f in forms):
                    found.setdefault(file_owner, set()).add(what)
                    if not allowed(file_owner, what):
                        problems.append(f"{name} ({file_owner}'s media) holds {what}")
    for owner in dict.fromkeys(o for o, _ in roots):
        missing = required(owner) - found.get(owner, set())
        if missing:
            problems.append(f"{owner}'s media ({', '.join(p for o, p in roots if o == owner)}) "
                            f"lack {', '.join(sorted(missing))}: the search is not searching")
    if problems:
        sys.exit("media_secrets.py: " + "\n  ".join(problems))
    for owner in dict.fromkeys(o for o, _ in roots):
        held = ", ".join(sorted(found.get(owner, set()))) or "no secret"
        print(f"{owner}: {counts.get(owner, 0)} files, holding {held}")


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "keys":
        keys(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) >= 6 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
