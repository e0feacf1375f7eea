#!/usr/bin/env bash
# airstrap mirror on the fixture media (tests/fixtures: a CentOS 7-layout DVD, a Rocky 9-layout
# DVD with a modular AppStream, the seed's openstack_Q.tar.gz). The output is checked by an
# independent client, Debian's dnf: it installs every role's package set from the output
# repository alone, and its own solution on the same sources equals airstrap's closure.
source "$(dirname "$0")/common.sh"
: "${FIXTURES:?set FIXTURES to the output of tests/fixtures/make-repos.sh}"
command -v dnf >/dev/null || skip "dnf is not installed (apt-get install dnf)"
command -v createrepo_c >/dev/null || skip "createrepo_c is not installed"

# dnf, confined: only the repositories named; cache and install root under $WORK.
dnf_confined() {
    local root=$1
    shift
    dnf -q --installroot="$root" --setopt=reposdir=/dev/null --setopt=cachedir="$WORK/dnf-cache" \
        --releasever="$RELEASEVER" --nogpgcheck --noplugins \
        --setopt=module_platform_id=platform:el8 "$@"
}

# lock_list LOCK ROLE FIELD...: one line per item of the role's fields in airstrap.lock.
lock_list() {
    python3 - "$@" <<'PY'
import json, sys
lock = json.load(open(sys.argv[1]))
request = lock["roles"][sys.argv[2]]
for field in sys.argv[3:]:
    for item in request[field]:
        # Kickstart's @^environment is dnf's @environment.
        print("@" + item[2:] if item.startswith("@^") else item)
PY
}

site_for() {  # site_for DIR DISTRO ISO: lab3 with its media pointing at the fixtures
    mkdir -p "$1"
    sed -e "s|^  vendor_iso: .*|  vendor_iso: $3|" \
        -e "s|^      tarball: .*|      tarball: $FIXTURES/tarballs/openstack_Q.tar.gz|" \
        -e "s|^  distro: el7|  distro: $2|" \
        "$SRC/examples/lab3/site.yaml" >"$1/site.yaml"
    # lab3's cloud image, which an operator puts beside site.yaml (any bytes do here).
    mkdir -p "$1/images"
    head -c 300000 /dev/urandom >"$1/images/cirros-0.3.4-x86_64-disk.img"
}

# check_role_installs REPO ROLE: dnf installs the role's %packages from REPO alone.
check_role_installs() {
    local repo=$1 role=$2 pkgs excl log
    mapfile -t pkgs < <(lock_list "$repo/airstrap.lock" "$role" install)
    mapfile -t excl < <(lock_list "$repo/airstrap.lock" "$role" exclude | sed 's/^/--exclude=/')
    if ! log=$(dnf_confined "$WORK/root-$role" --repofrompath="airstrap,file://$repo" \
            "${excl[@]}" -y install "${pkgs[@]}" 2>&1); then
        fail "dnf could not install the $role set from the mirror alone:"$'\n'"$log"
    fi
}

# check_closure_agrees LOCK ROLE REPO...: dnf's solution on the sources = airstrap's.
check_closure_agrees() {
    local lock=$1 role=$2 pkgs excl repos=() i=0
    shift 2
    for r in "$@"; do repos+=("--repofrompath=src$i,file://$r"); i=$((i + 1)); done
    mapfile -t pkgs < <(lock_list "$lock" "$role" install optional_present)
    mapfile -t excl < <(lock_list "$lock" "$role" exclude | sed 's/^/--exclude=/')
    rm -rf "$WORK/dl"
    dnf_confined "$WORK/solve-$role" "${repos[@]}" "${excl[@]}" \
        --downloadonly --destdir="$WORK/dl" -y install "${pkgs[@]}" >/dev/null 2>&1 \
        || fail "dnf could not solve the $role set on the sources"
    diff <(ls "$WORK/dl" | sort) \
         <(python3 -c 'import json,sys; [print(p.rsplit("/",1)[1]) for p in json.load(open(sys.argv[1]))["roles"][sys.argv[2]]["packages"]]' "$lock" "$role" | sort) \
        || fail "$role: dnf's closure (<) differs from airstrap's (>)"
}

# --- EL7: vendor DVD + repo tarball -----------------------------------------------------
RELEASEVER=7
site_for "$WORK/el7" el7 "$FIXTURES/iso/el7-dvd.iso"
# --dry-run first: it solves and says what, and writes nothing (no -o needed).
before=$(ls -A "$WORK")
expect_exit 0 "$AIRSTRAP" mirror "$WORK/el7/site.yaml" --dry-run --json
DRY=$OUT
[ "$(ls -A "$WORK")" = "$before" ] || fail "mirror --dry-run wrote something: $(ls -A "$WORK")"
expect_exit 0 "$AIRSTRAP" mirror "$WORK/el7/site.yaml" --dry-run
grep -Eq '^would mirror [0-9]+ packages \([0-9]+ KiB\) from 2 sources; per role: compute [0-9]+, controller [0-9]+, network [0-9]+$' <<<"$OUT" \
    || fail "mirror --dry-run: $OUT"
expect_exit 0 "$AIRSTRAP" mirror "$WORK/el7/site.yaml" -o "$WORK/repo7" --json
python3 - "$OUT" "$DRY" <<'PY' || fail "mirror --json: $OUT (--dry-run: $DRY)"
import json, sys
doc, dry = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert doc["ok"] and doc["packages"] > 10 and doc["reused"] == 0, doc
assert set(doc["roles"]) == {"controller", "network", "compute"}, doc
# The dry run chose what the real run mirrored.
assert dry["dry_run"] and (dry["packages"], dry["bytes"], dry["roles"]) == (doc["packages"], doc["bytes"], doc["roles"]), (dry, doc)
PY
[ -f "$WORK/repo7/airstrap.lock" ] || fail "no airstrap.lock"
ls -A "$WORK" | grep >/dev/null 'partial' && fail "a .partial folder was left behind"

# Readable by EL7's yum: gzip XML and sqlite, comps carried over, no zstd or zck.
repomd="$WORK/repo7/repodata/repomd.xml"
grep -q 'type="primary_db"' "$repomd" || fail "no sqlite database in the repodata"
grep -q 'type="group"' "$repomd" || fail "comps were not carried over"
grep -q 'primary.xml.gz"' "$repomd" || fail "primary is not gzip"
grep -Eq '\.(zst|zck)"' "$repomd" && fail "zstd or zck in EL7 repodata"

for role in controller network compute; do check_role_installs "$WORK/repo7" "$role"; done
rpm --root "$WORK/root-controller" -q openstack-packstack kernel chrony airstrap-firstboot >/dev/null \
    || fail "the controller root lacks packages"
rpm --root "$WORK/root-compute" -q libvirt-daemon-config-network >/dev/null 2>&1 \
    && fail "compute got libvirt-daemon-config-network"
for role in controller network compute; do
    check_closure_agrees "$WORK/repo7/airstrap.lock" "$role" "$FIXTURES/repos/el7-base" "$FIXTURES/repos/openstack"
done

# A re-run copies nothing; --verify re-checks every package; tampering is found.
expect_exit 0 "$AIRSTRAP" mirror "$WORK/el7/site.yaml" -o "$WORK/repo7" --json
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["reused"] == d["packages"], d' "$OUT" \
    || fail "a re-run copied packages again: $OUT"
grep -q "is up to date" <<<"$("$AIRSTRAP" mirror "$WORK/el7/site.yaml" -o "$WORK/repo7" 2>&1)" \
    || fail "an unchanged re-run did not find the output up to date"
# Changed inputs, overlapping packages: what the old output has is hard-linked, not copied.
expect_exit 0 "$AIRSTRAP" mirror "$WORK/el7/site.yaml" -o "$WORK/repo7" --role compute --json
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["reused"] == d["packages"] and list(d["roles"]) == ["compute"], d' "$OUT" \
    || fail "a narrower run copied packages: $OUT"
expect_exit 0 "$AIRSTRAP" mirror "$WORK/el7/site.yaml" -o "$WORK/repo7" --json
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert 0 < d["reused"] < d["packages"], d' "$OUT" \
    || fail "widening again did not reuse the packages it had: $OUT"
# The cloud image rides along: images/<file name>, in the lock, checked by --verify; a
# re-run leaves it alone; a missing one stops the run naming its site.yaml line.
img=images/cirros-0.3.4-x86_64-disk.img
cmp "$WORK/el7/$img" "$WORK/repo7/$img" || fail "the cloud image is not in the mirror"
python3 - "$WORK/repo7/airstrap.lock" "$WORK/el7/$img" <<'PY' || fail "the lock does not list the image"
import hashlib, json, os, sys
lock = json.load(open(sys.argv[1])); data = open(sys.argv[2], "rb").read()
(entry,) = lock["images"]
assert entry["path"] == "images/cirros-0.3.4-x86_64-disk.img" and entry["name"] == "cirros-0.3.4-x86_64", entry
assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["size"] == len(data), entry
PY
grep -q "is up to date" <<<"$("$AIRSTRAP" mirror "$WORK/el7/site.yaml" -o "$WORK/repo7" 2>&1)" \
    || fail "a re-run with the same image did not find the output up to date"
head -c 1000 /dev/urandom >>"$WORK/el7/$img"
expect_exit 0 "$AIRSTRAP" mirror "$WORK/el7/site.yaml" -o "$WORK/repo7"
grep -q "copied 1 cloud images, reused 0" <<<"$OUT" || fail "a changed image was not copied: $OUT"
cmp "$WORK/el7/$img" "$WORK/repo7/$img" || fail "the mirror has the old image"
expect_exit 0 "$AIRSTRAP" mirror "$WORK/el7/site.yaml" -o "$WORK/repo7" --role compute
grep -q "copied 0 cloud images, reused 1" <<<"$OUT" || fail "an unchanged image was copied again: $OUT"
expect_exit 0 "$AIRSTRAP" mirror "$WORK/el7/site.yaml" -o "$WORK/repo7"
expect_exit 0 "$AIRSTRAP" mirror --verify "$WORK/repo7"
printf 'x' >>"$WORK/repo7/$img"
expect_exit 1 "$AIRSTRAP" mirror --verify "$WORK/repo7"
grep -q "$img: size differs from the lock" <<<"$OUT" || fail "verify missed a changed image: $OUT"
cp "$WORK/el7/$img" "$WORK/repo7/$img"
mkdir -p "$WORK/noimage"
cp "$WORK/el7/site.yaml" "$WORK/noimage/site.yaml"
expect_exit 2 "$AIRSTRAP" mirror "$WORK/noimage/site.yaml" -o "$WORK/repo-noimage"
line=$(grep -n 'source: images/cirros' "$WORK/noimage/site.yaml" | cut -d: -f1)
grep -qF "$WORK/noimage/site.yaml:$line:43: image cirros-0.3.4-x86_64: cannot read $WORK/noimage/$img (No such file or directory)" <<<"$OUT" \
    || fail "missing image: $OUT"
[ ! -e "$WORK/repo-noimage" ] || fail "a mirror without its image was published"
# The site variants below live in $WORK and $WORK/bad: the image beside them too.
mkdir -p "$WORK/images" "$WORK/bad/images"
cp "$WORK/el7/$img" "$WORK/$img"
cp "$WORK/el7/$img" "$WORK/bad/$img"

expect_exit 0 "$AIRSTRAP" mirror --verify "$WORK/repo7"
victim=$(find "$WORK/repo7/Packages" -name 'chrony-*.rpm' | head -1)
printf 'x' >>"$victim"
expect_exit 1 "$AIRSTRAP" mirror --verify "$WORK/repo7"
grep -q "chrony-.*: size differs from the lock" <<<"$OUT" || fail "verify missed a changed package: $OUT"

# A tarball of bare RPMs (no repodata) is indexed and gives the same packages.
sed -e "s|openstack_Q.tar.gz|openstack-norepodata.tar.xz|" "$WORK/el7/site.yaml" >"$WORK/el7/bare.yaml"
expect_exit 0 "$AIRSTRAP" mirror "$WORK/el7/bare.yaml" -o "$WORK/repo-bare"
diff <(cd "$WORK/repo7/Packages" && find . -type f | sort) <(cd "$WORK/repo-bare/Packages" && find . -type f | sort) \
    || fail "the bare-RPM tarball gave other packages"

# --- Faults: each a clear error, nothing published, the previous output untouched --------
before=$(cd "$WORK/repo7" && find . -type f | sort | xargs sha256sum)
published_unchanged() {
    [ "$before" = "$(cd "$WORK/repo7" && find . -type f | sort | xargs sha256sum)" ] || fail "$1: the published mirror changed"
    ls -A "$WORK" | grep >/dev/null 'partial' && fail "$1: a .partial folder was left behind"
    return 0
}
mkdir -p "$WORK/bad"
# A package whose bytes do not match its repodata.
cp -r "$FIXTURES/repos/openstack" "$WORK/bad/tampered"
tampered=$(find "$WORK/bad/tampered/Packages" -name 'python3-packstack-*.rpm' | head -1)
printf 'x' >>"$tampered"
sed -e "s|^      tarball: .*|      directory: $WORK/bad/tampered|" "$WORK/el7/site.yaml" >"$WORK/bad/tampered.yaml"
# (Into a fresh output: over repo7 the verified copy from the last run is reused.)
expect_exit 2 "$AIRSTRAP" mirror "$WORK/bad/tampered.yaml" -o "$WORK/fresh"
grep -q "python3-packstack.*bytes, repodata says\|python3-packstack.*checksum mismatch" <<<"$OUT" || fail "tampered package: $OUT"
[ ! -e "$WORK/fresh" ] || fail "a mirror with a tampered package was published"
published_unchanged "tampered package"
# A location href that climbs out of the repository.
cp -r "$FIXTURES/repos/openstack" "$WORK/bad/traversal"
python3 - "$WORK/bad/traversal" <<'PY'
import gzip, hashlib, lzma, pathlib, re, sys
sha = lambda b: hashlib.sha256(b).hexdigest()
root = pathlib.Path(sys.argv[1]); repomd = root / "repodata/repomd.xml"; md = repomd.read_text()
href = re.search(r'<data type="primary">.*?<location href="([^"]+)"', md, re.S).group(1)
old = (root / href).read_bytes()
opener = lzma if href.endswith(".xz") else gzip
xml = opener.decompress(old).decode()
xml = re.sub(r'<location href="[^"]*python3-packstack[^"]*"', '<location href="../../../etc/passwd"', xml, count=1)
new = opener.compress(xml.encode())
(root / href).unlink()
(root / href.replace(sha(old), sha(new))).write_bytes(new)  # unique names embed the checksum
md = md.replace(sha(old), sha(new)).replace(f"<size>{len(old)}</size>", f"<size>{len(new)}</size>")
md = md.replace(sha(opener.decompress(old)), sha(xml.encode()))
md = re.sub(r'(<data type="primary">.*?<open-size>)\d+(</open-size>)', lambda m: m.group(1) + str(len(xml.encode())) + m.group(2), md, flags=re.S)
repomd.write_text(md)
PY
sed -e "s|^      tarball: .*|      directory: $WORK/bad/traversal|" "$WORK/el7/site.yaml" >"$WORK/bad/traversal.yaml"
expect_exit 2 "$AIRSTRAP" mirror "$WORK/bad/traversal.yaml" -o "$WORK/repo7"
grep -q "unsafe location href '../../../etc/passwd'" <<<"$OUT" || fail "traversal href: $OUT"
published_unchanged "traversal href"
# A tarball with an entry that climbs out.
python3 - "$WORK/bad/evil.tar.gz" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz") as t:
    i = tarfile.TarInfo("openstack/../../../tmp/airstrap-pwned"); data = b"x"; i.size = 1
    t.addfile(i, io.BytesIO(data))
PY
sed -e "s|^      tarball: .*|      tarball: $WORK/bad/evil.tar.gz|" "$WORK/el7/site.yaml" >"$WORK/bad/evil.yaml"
expect_exit 2 "$AIRSTRAP" mirror "$WORK/bad/evil.yaml" -o "$WORK/repo7"
grep -q "refusing the archive: entry 'openstack/../../../tmp/airstrap-pwned'" <<<"$OUT" || fail "evil tarball: $OUT"
[ ! -e /tmp/airstrap-pwned ] || fail "the evil tarball wrote outside"
published_unchanged "evil tarball"
# A request nothing can satisfy names the package and the missing requirement.
sed -e "s|^  compute:$|  compute:\n    add: [unsatisfiable-pkg]|" "$WORK/el7/site.yaml" >"$WORK/bad/unsat.yaml"
expect_exit 2 "$AIRSTRAP" mirror "$WORK/bad/unsat.yaml" -o "$WORK/repo7"
grep -q "role compute: the packages cannot be installed together: .*nothing provides airstrap-fixture-missing-capability >= 99 needed by unsatisfiable-pkg" <<<"$OUT" \
    || fail "unsatisfiable: $OUT"
published_unchanged "unsatisfiable request"
# After all that, a good run still completes.
expect_exit 0 "$AIRSTRAP" mirror "$WORK/el7/site.yaml" -o "$WORK/repo7"

# --- EL9: BaseOS + modular AppStream on the DVD --------------------------------------------
RELEASEVER=9
site_for "$WORK/el9" el9 "$FIXTURES/iso/el9-dvd.iso"
sed -i -e 's/network_manager: false/network_manager: true/' -e 's/release: queens .*/release: "2024.1"/' \
    -e 's/^packages:$/packages:\n  common:\n    add: [nodejs, tmux]/' "$WORK/el9/site.yaml"
expect_exit 0 "$AIRSTRAP" mirror "$WORK/el9/site.yaml" -o "$WORK/repo9"
grep -q 'type="modules"' "$WORK/repo9/repodata/repomd.xml" || fail "modules.yaml was not carried over"
grep -q 'type="primary_db"' "$WORK/repo9/repodata/repomd.xml" && fail "sqlite in EL9 repodata (dnf never reads it)"
grep -q 'type="updateinfo"' "$WORK/repo9/repodata/repomd.xml" || fail "updateinfo was not carried over"
zcat "$WORK"/repo9/repodata/*-updateinfo.xml.gz | grep >/dev/null "RLSA-2021:0548" || fail "the advisory is missing"
zcat "$WORK"/repo9/repodata/*-comps.xml.gz 2>/dev/null | grep >/dev/null "<id>minimal-environment</id>" \
    || grep -rq "minimal-environment" "$WORK"/repo9/repodata/ || fail "BaseOS comps were not carried over"
ls "$WORK/repo9/Packages/n/" | grep >/dev/null '^nodejs-10\.' || fail "the default stream's nodejs is missing"
ls "$WORK/repo9/Packages/n/" | grep >/dev/null '^nodejs-12\.' && fail "a non-default stream's nodejs was picked"
rm -rf "$WORK"/root-*
for role in controller network compute; do check_role_installs "$WORK/repo9" "$role"; done
rpm --root "$WORK/root-controller" -q nodejs | grep >/dev/null '^nodejs-10\.' || fail "dnf did not install the default stream from the mirror"
expect_exit 0 "$AIRSTRAP" mirror "$WORK/el9/site.yaml" -o "$WORK/repo9-all" --all
ls "$WORK/repo9-all/Packages/n/" | grep >/dev/null '^nodejs-12\.' || fail "--all left out a module stream"

# --- Signatures: the openstack repository signed at test time with a throwaway key ---------
if command -v gpg >/dev/null && command -v rpmsign >/dev/null; then
    export GNUPGHOME="$WORK/gnupg"
    mkdir -m 700 "$GNUPGHOME"
    for who in signer other; do
        gpg -q --batch --passphrase '' --quick-gen-key "airstrap test $who <$who@airstrap.invalid>" rsa2048 sign never 2>/dev/null
        gpg -q --armor --export "$who@airstrap.invalid" >"$WORK/$who.asc"
    done
    mkdir -p "$WORK/signed"
    cp -r "$FIXTURES/repos/openstack/Packages" "$WORK/signed/"
    rpmsign --addsign --define "_gpg_name signer@airstrap.invalid" --define "__gpg $(command -v gpg)" \
        "$WORK/signed/Packages/"*.rpm >/dev/null 2>&1 || fail "rpmsign failed"
    createrepo_c -q "$WORK/signed"
    signed_site() {  # signed_site NAME KEY REQUIRE
        sed -e "s|^      tarball: .*|      directory: $WORK/signed|" \
            -e "s|^media:$|media:\n  gpg_keys: [$WORK/$2.asc]\n  require_signatures: $3|" \
            "$WORK/el7/site.yaml" >"$WORK/$1.yaml"
    }
    # The DVD's packages are unsigned: refused when signatures are required (the default
    # once keys are named), reported otherwise.
    signed_site sig-required signer true
    expect_exit 2 "$AIRSTRAP" mirror "$WORK/sig-required.yaml" -o "$WORK/repo-sig"
    grep -q "packages fail the signature check:" <<<"$OUT" && grep -q "chrony-.*: not signed" <<<"$OUT" \
        || fail "unsigned packages were not refused: $OUT"
    [ ! -e "$WORK/repo-sig" ] || fail "a refused mirror was published"
    signed_site sig-optional signer false
    expect_exit 0 "$AIRSTRAP" mirror "$WORK/sig-optional.yaml" -o "$WORK/repo-sig" --json
    python3 - "$OUT" <<'PY' || fail "signature summary: $OUT"
import json, sys
d = json.loads(sys.argv[1])
assert d["signatures_verified"] >= 3, d                      # packstack and its dependencies
assert any(u.startswith("chrony-") for u in d["unsigned"]), d  # from the unsigned DVD
assert not any(u.startswith("openstack-packstack-") for u in d["unsigned"]), d
PY
    grep -q '"signature": "verified"' "$WORK/repo-sig/airstrap.lock" || fail "the lock does not record signatures"
    # Signed, but by a key the site does not name.
    signed_site sig-wrong-key other false
    expect_exit 2 "$AIRSTRAP" mirror "$WORK/sig-wrong-key.yaml" -o "$WORK/repo-wrong"
    grep -q "openstack-packstack-.*: signed with a key not in media.gpg_keys" <<<"$OUT" || fail "wrong key: $OUT"
    unset GNUPGHOME
else
    skip_part "signature cases (gpg or rpmsign missing: apt-get install gnupg rpm)"
fi

# --- HTTP: the openstack repository served by tests/tools/fault_server.py on 127.0.0.1 -------
python3 "$SRC/tests/tools/fault_server.py" --ignore-stdin "$FIXTURES/repos" >"$WORK/port" 2>"$WORK/server.log" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
port=$(head -1 "$WORK/port")
[ -n "$port" ] || fail "the test HTTP server did not start"
RELEASEVER=7
http_site() {  # http_site NAME MODE: lab3 with the openstack repository over HTTP via MODE
    sed -e "s|^      tarball: .*|      url: \"http://127.0.0.1:$port/$2/openstack/\"|" "$WORK/el7/site.yaml" >"$WORK/$1.yaml"
}
http_site http-ok ok
expect_exit 0 "$AIRSTRAP" mirror "$WORK/http-ok.yaml" -o "$WORK/repo-http"
grep -q "fetched [0-9]*/[0-9]* packages" <<<"$OUT" || fail "no fetch progress: $OUT"
diff <(cd "$WORK/repo7/Packages" && find . -type f | sort) <(cd "$WORK/repo-http/Packages" && find . -type f | sort) \
    || fail "the HTTP mirror differs from the tarball mirror"
grep -q '"kind": "url"' "$WORK/repo-http/airstrap.lock" || fail "the lock does not list the URL source"
for mode in flaky2 truncate reset slow; do
    http_site "http-$mode" "$mode"
    expect_exit 0 "$AIRSTRAP" mirror "$WORK/http-$mode.yaml" -o "$WORK/repo-$mode"
    "$AIRSTRAP" mirror --verify "$WORK/repo-$mode" >/dev/null || fail "$mode: the result does not verify"
done
grep -q "^GET /truncate/.* range=bytes=[1-9][0-9]*- status=206" "$WORK/server.log" || fail "no transfer was resumed with Range"
http_site http-404 404
expect_exit 1 "$AIRSTRAP" mirror "$WORK/http-404.yaml" -o "$WORK/repo-404"
grep -q "http://127.0.0.1:$port/404/openstack/repodata/repomd.xml: HTTP 404" <<<"$OUT" || fail "404: $OUT"
[ ! -e "$WORK/repo-404" ] || fail "404: something was published"
http_site http-corrupt corrupt
# Every file served with one byte flipped: repomd.xml (which has no checksum of its own) no
# longer parses, or a checksum does not match; either way a refusal naming the URL.
if OUT=$("$AIRSTRAP" mirror "$WORK/http-corrupt.yaml" -o "$WORK/repo-corrupt" 2>&1); then
    fail "corrupt: accepted"
fi
grep -q "http://127.0.0.1:$port/corrupt/openstack/.*\(not valid XML\|checksum mismatch\)" <<<"$OUT" || fail "corrupt: $OUT"
[ ! -e "$WORK/repo-corrupt" ] || fail "corrupt: something was published"
# The same output, now from a good server: the later run completes.
sed -e "s|/corrupt/|/ok/|" "$WORK/http-corrupt.yaml" >"$WORK/http-later.yaml"
expect_exit 0 "$AIRSTRAP" mirror "$WORK/http-later.yaml" -o "$WORK/repo-corrupt"
ls -A "$WORK" | grep >/dev/null 'partial' && fail "a .partial folder was left behind"

pass "mirror: el7 DVD + tarball, el9 DVD with modules, HTTP with faults; dnf installs every role offline and agrees on the closure; faults refused"
