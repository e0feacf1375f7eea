#!/usr/bin/env bash
# The airstrap-firstboot package as a CentOS 7 node would get it: a fully static binary, an
# RPM that rpm 4.11 can install (gzip payload, sha256 digests, no rpmlib features newer than
# EL7's), exactly the expected files, the unit systemd accepts, and the installed binary
# answering as `airstrap status` for a node written by `airstrap node-config`.
source "$(dirname "$0")/common.sh"
: "${AIRSTRAP_FIRSTBOOT:?set AIRSTRAP_FIRSTBOOT to the airstrap-firstboot binary}"
: "${FIRSTBOOT_RPM:?set FIRSTBOOT_RPM to the built RPM}"
for tool in rpm readelf; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install rpm binutils)"
done
[ -f "$FIRSTBOOT_RPM" ] || skip "no $FIRSTBOOT_RPM (the firstboot-rpm target needs rpmbuild; a sanitizer build makes none)"

# 1. Static: no interpreter, no shared libraries (EL7's glibc 2.17 never gets involved).
headers=$(readelf -lW "$AIRSTRAP_FIRSTBOOT")
dynamic=$(readelf -dW "$AIRSTRAP_FIRSTBOOT")
case $headers in *INTERP*) fail "airstrap-firstboot has an ELF interpreter: it is not static" ;; esac
case $dynamic in *NEEDED*) fail "airstrap-firstboot needs shared libraries:"$'\n'"$dynamic" ;; esac
expect_exit 0 "$AIRSTRAP_FIRSTBOOT" --version

# 2. The package header.
q() { rpm -qp --nosignature "$@" "$FIRSTBOOT_RPM"; }
[ "$(q --qf '%{PAYLOADCOMPRESSOR}')" = gzip ] || fail "payload is $(q --qf '%{PAYLOADCOMPRESSOR}'), EL7 needs gzip or xz"
[ "$(q --qf '%{PAYLOADFORMAT}')" = cpio ] || fail "payload format $(q --qf '%{PAYLOADFORMAT}')"
[ "$(q --qf '%{FILEDIGESTALGO}')" = 8 ] || fail "file digests are algorithm $(q --qf '%{FILEDIGESTALGO}'), expected 8 (sha256)"
[ "$(q --qf '%{ARCH}')" = x86_64 ] || fail "arch $(q --qf '%{ARCH}')"
requires=$(q -R | sort -u)
want_requires=$(printf '%s\n' /bin/sh chrony iputils openssh-clients openssh-server \
    'rpmlib(CompressedFileNames) <= 3.0.4-1' 'rpmlib(FileDigests) <= 4.6.0-1' \
    'rpmlib(PayloadFilesHavePrefix) <= 4.0-1' | sort -u)
[ "$requires" = "$want_requires" ] || fail "unexpected requirements:"$'\n'"$requires"
files=$(q -l | sort)
want_files=$(printf '%s\n' /usr/lib/systemd/system/airstrap-firstboot.service /usr/sbin/airstrap \
    /usr/sbin/airstrap-firstboot /usr/share/doc/airstrap-firstboot/README /var/lib/airstrap | sort)
[ "$files" = "$want_files" ] || fail "unexpected file list:"$'\n'"$files"
# The payload itself, read by rpm2cpio and cpio rather than from the header.
command -v rpm2cpio >/dev/null && command -v cpio >/dev/null || skip "rpm2cpio or cpio is not installed"
payload=$(rpm2cpio "$FIRSTBOOT_RPM" | cpio -t --quiet | sed 's|^\./|/|' | sort)
[ "$payload" = "$want_files" ] || fail "the cpio payload differs from the header's file list:"$'\n'"$payload"
q --scripts | grep -F 'systemctl --no-reload disable --now airstrap-firstboot.service' >/dev/null \
    || fail "no %preun that stops the service on removal"

# 3. Installed into a scratch root (rpm's own database there, scriptlets not run: this is not
# an EL system): modes, the symlink, and the binary running from there.
root=$WORK/root
mkdir -p "$root"
rpm --root "$root" --dbpath /var/lib/rpm --initdb
rpm --root "$root" --dbpath /var/lib/rpm -i --nodeps --noscripts --nosignature "$FIRSTBOOT_RPM" \
    || fail "rpm -i into a scratch root failed"
mode() { stat -c '%a %U' "$1"; }
[ "$(mode "$root/usr/sbin/airstrap-firstboot")" = "755 root" ] || fail "binary mode $(mode "$root/usr/sbin/airstrap-firstboot")"
[ "$(mode "$root/usr/lib/systemd/system/airstrap-firstboot.service")" = "644 root" ] || fail "unit mode"
[ "$(mode "$root/var/lib/airstrap")" = "700 root" ] || fail "state folder mode $(mode "$root/var/lib/airstrap")"
[ "$(readlink "$root/usr/sbin/airstrap")" = airstrap-firstboot ] || fail "/usr/sbin/airstrap is not a link to airstrap-firstboot"
# The packaged binary (stripped by the spec) is the one that must be static.
installed=$root/usr/sbin/airstrap-firstboot
if readelf -lW "$installed" | grep -F INTERP >/dev/null || readelf -dW "$installed" | grep -F NEEDED >/dev/null; then
    fail "the packaged airstrap-firstboot is not static"
fi
rpm --root "$root" --dbpath /var/lib/rpm -V --nodeps airstrap-firstboot || fail "rpm -V reports changed files"

# The installed binary as an operator uses it: `airstrap status` on a fresh compute node.
mkdir -p "$WORK/site"
cp "$SRC/examples/lab3/site.yaml" "$WORK/site/"
make_secrets "$WORK/site"
node=$WORK/node
"$AIRSTRAP" node-config "$WORK/site/site.yaml" --node compute-node --root "$node" >/dev/null
expect_exit 3 "$root/usr/sbin/airstrap" status --root "$node"
grep -F 'compute-node: in progress (0/' <<<"$OUT" >/dev/null || fail "status output:"$'\n'"$OUT"
expect_exit 3 "$root/usr/sbin/airstrap" status --root "$node" --json
grep -F '"overall": "in_progress"' <<<"$OUT" >/dev/null || fail "status --json output:"$'\n'"$OUT"
expect_exit 2 "$root/usr/sbin/airstrap" rejoin controller-node --root "$node"

# 4. The unit as systemd reads it (where systemd-analyze can run here).
unit=$root/usr/lib/systemd/system/airstrap-firstboot.service
grep -Fx 'ExecStart=/usr/sbin/airstrap-firstboot run' "$unit" >/dev/null || fail "ExecStart"
grep -Fx 'WantedBy=multi-user.target' "$unit" >/dev/null || fail "WantedBy"
grep -F 'After=network-online.target' "$unit" >/dev/null || fail "After=network-online.target"
# Host keys first on EL7 (sshd-keygen.service) and EL8/9 (sshd-keygen@TYPE under the target).
grep -Ex 'After=.* sshd-keygen\.service sshd-keygen\.target' "$unit" >/dev/null || fail "not ordered after sshd-keygen"
if command -v systemd-analyze >/dev/null; then
    mkdir -p "$WORK/units"
    cp "$unit" "$WORK/units/"
    # verify wants ExecStart to exist: point it at the binary installed above.
    sed -i "s|^ExecStart=/usr/sbin/airstrap-firstboot|ExecStart=$root/usr/sbin/airstrap-firstboot|" "$WORK/units/airstrap-firstboot.service"
    verify=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$WORK/units/airstrap-firstboot.service" 2>&1) \
        || fail "systemd-analyze verify:"$'\n'"$verify"
    if grep -i 'unknown\|invalid' <<<"$verify" >/dev/null; then fail "systemd-analyze verify:"$'\n'"$verify"; fi
else
    echo "note: systemd-analyze not installed; the unit was checked by its lines only"
fi

pass "airstrap-firstboot: static binary, EL7-installable RPM (gzip, sha256), files and modes, unit, airstrap status from the package"
