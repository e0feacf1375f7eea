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
        --releasever="$RELEASEVER" --nogpgcheck --noplugins "$@"
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
expect_exit 0 "$AIRSTRAP" mirror "$WORK/el7/site.yaml" -o "$WORK/repo7" --json
python3 - "$OUT" <<'PY' || fail "mirror --json: $OUT"
import json, sys
doc = json.loads(sys.argv[1])
assert doc["ok"] and doc["packages"] > 10 and doc["reused"] == 0, doc
assert set(doc["roles"]) == {"controller", "network", "compute"}, doc
PY
[ -f "$WORK/repo7/airstrap.lock" ] || fail "no airstrap.lock"
ls -A "$WORK" | grep -q 'partial' && fail "a .partial folder was left behind"

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
expect_exit 0 "$AIRSTRAP" mirror --verify "$WORK/repo7"
victim=$(find "$WORK/repo7/Packages" -name 'chrony-*.rpm' | head -1)
printf 'x' >>"$victim"
expect_exit 1 "$AIRSTRAP" mirror --verify "$WORK/repo7"
grep -q "chrony-.*: size differs from the lock" <<<"$OUT" || fail "verify missed a changed package: $OUT"

pass "mirror: el7 DVD + tarball; dnf installs every role offline and agrees on the closure"
