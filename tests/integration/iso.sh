#!/usr/bin/env bash
# airstrap build iso on the stand-in vendor DVDs (tests/fixtures/make-boot-media.sh):
# every vendor file survives byte for byte unless airstrap changed it on purpose; the ISO
# boots in QEMU (TCG) from CD and as a USB disk, on BIOS and on UEFI, and the stand-in
# installer reads the site kickstart, picks the node by the VM's MAC, and its %pre exits 0
# with the repository on the media (an ISO without that repository's repomd.xml makes %pre
# fail and the install abort, which pre_ok refuses); bad input is a clear error that leaves
# nothing behind.
source "$(dirname "$0")/common.sh"
: "${FIXTURES:?set FIXTURES to the fixtures folder}"
BOOT=$FIXTURES/boot-media/boot
[ -f "$BOOT/el7-dvd.iso" ] || skip "no stand-in DVDs in $BOOT (tests/fixtures/make-boot-media.sh)"
for tool in xorriso mtype mcopy mdir sha256sum; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install xorriso mtools)"
done
source "$(dirname "$0")/boot-lib.sh"

site_for() {  # site_for DIR DISTRO ISO
    mkdir -p "$1"
    sed -e "s|^  vendor_iso: .*|  vendor_iso: $3|" \
        -e "s|^      tarball: .*|      tarball: $FIXTURES/tarballs/openstack_Q.tar.gz|" \
        -e "s|^  distro: el7|  distro: $2|" \
        "$SRC/examples/lab3/site.yaml" >"$1/site.yaml"
    make_secrets "$1"
    # The cloud: section's image, which airstrap mirror carries (a stand-in for cirros).
    mkdir -p "$1/images"
    head -c 300000 /dev/urandom >"$1/images/cirros-0.3.4-x86_64-disk.img"
}

# Every regular file of an ISO with its sha256 ("HASH  /path"), read back with xorriso.
iso_sums() {  # iso_sums ISO DIR
    rm -rf "$2"
    xorriso -osirrox on -indev "$1" -extract / "$2" >/dev/null 2>&1 || fail "cannot extract $1"
    (cd "$2" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sed 's|  \./|  /|')
}

# ---- el7: build ---------------------------------------------------------------------------
site_for "$WORK/el7" el7 "$BOOT/el7-dvd.iso"
expect_exit 0 "$AIRSTRAP" mirror "$WORK/el7/site.yaml" -o "$WORK/repo7"
t0=$(date +%s.%N)
expect_exit 0 "$AIRSTRAP" build iso "$WORK/el7/site.yaml" -o "$WORK/out/site7.iso" \
    --repo "$WORK/repo7" --timeout 1 --append console=ttyS0
echo "build iso (el7): $(python3 -c "print(round($(date +%s.%N) - $t0, 2))") s"
grep -q "wrote $WORK/out/site7.iso: .* (4 kickstarts, 7 entries in 3 boot menus), label 'CentOS 7 x86_64'" <<<"$OUT" \
    || fail "summary line: $OUT"
[ "$(ls -A "$WORK/out")" = site7.iso ] || fail "stray files beside the ISO: $(ls -A "$WORK/out")"
# It holds every node's key and the site secret: 0600, and the output says to treat it as a key.
[ "$(stat -c %a "$WORK/out/site7.iso")" = 600 ] || fail "site7.iso is $(stat -c %a "$WORK/out/site7.iso"), not 0600"
grep -q "It is secret (0600): .*Treat the ISO and every stick or disc made from it like a key" <<<"$OUT" \
    || fail "build iso does not say the ISO is secret: $OUT"

# ---- byte for byte --------------------------------------------------------------------------
iso_sums "$BOOT/el7-dvd.iso" "$WORK/x-vendor" >"$WORK/vendor.sums"
iso_sums "$WORK/out/site7.iso" "$WORK/x-site" >"$WORK/site.sums"
# Every file of the ISO: the site secret and deploy.sealed only in site.ks and controller.ks,
# each node's key only in site.ks, its role's profile and controller.ks (lab3: one node a role).
source "$(dirname "$0")/media-secrets.sh"
media_keys "$WORK/el7/site.yaml" "$WORK/el7/secrets.yaml"
X=$WORK/x-site/ks
check_media "the el7 ISO's files" none="$WORK/x-site" site="$X/site.ks" \
    controller-node="$X/controller.ks" network-node="$X/network.ks" compute-node="$X/compute.ks"
changed=$(join -j 2 <(sort -k2 "$WORK/vendor.sums") <(sort -k2 "$WORK/site.sums") |
    awk '$2 != $3 {print $1}' | sort | tr '\n' ' ')
# The three menus on purpose; the El Torito catalog and isolinux.bin's boot info table
# (bytes 8-63, where the boot image's new place is patched in) as any replayed boot setup.
[ "$changed" = "/EFI/BOOT/grub.cfg /images/efiboot.img /isolinux/boot.cat /isolinux/isolinux.bin /isolinux/isolinux.cfg " ] \
    || fail "changed vendor files: '$changed' (expected only the three boot menus and the boot catalog)"
outside=$({ cmp -l "$WORK/x-vendor/isolinux/isolinux.bin" "$WORK/x-site/isolinux/isolinux.bin" || true; } |
    awk '$1 < 9 || $1 > 64' | wc -l)
[ "$outside" -eq 0 ] || fail "isolinux.bin changed outside its boot info table ($outside bytes)"
missing=$(join -v 1 -j 2 <(sort -k2 "$WORK/vendor.sums") <(sort -k2 "$WORK/site.sums") | wc -l)
[ "$missing" -eq 0 ] || fail "$missing vendor files are missing from the site ISO"
added=$(join -v 2 -j 2 <(sort -k2 "$WORK/vendor.sums") <(sort -k2 "$WORK/site.sums") | awk '{print $1}')
grep -qx /ks/site.ks <<<"$added" && grep -qx /ks/compute.ks <<<"$added" \
    && grep -qx /airstrap/repo/airstrap.lock <<<"$added" \
    && grep -qx /airstrap/repo/repodata/repomd.xml <<<"$added" || fail "added files: $added"
[ -z "$(grep -v -e '^/ks/' -e '^/airstrap/repo/' <<<"$added")" ] \
    || fail "unexpected additions: $(grep -v -e '^/ks/' -e '^/airstrap/repo/' <<<"$added")"
# The repository on the ISO is the mirror, file for file.
(cd "$WORK/repo7" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$WORK/repo.sums"
(cd "$WORK/x-site/airstrap/repo" && sha256sum -c --quiet "$WORK/repo.sums") \
    || fail "the repository on the ISO differs from the mirror"
# Inside efiboot.img only EFI/BOOT/grub.cfg changed.
for img in x-vendor x-site; do
    mdir -/ -b -i "$WORK/$img/images/efiboot.img" :: | sort >"$WORK/$img.efi-list"
done
cmp -s "$WORK/x-vendor.efi-list" "$WORK/x-site.efi-list" || fail "efiboot.img file list changed"
while read -r f; do
    [ "${f,,}" = "::/efi/boot/grub.cfg" ] && continue
    cmp -s <(mtype -i "$WORK/x-vendor/images/efiboot.img" "$f" 2>/dev/null) \
        <(mtype -i "$WORK/x-site/images/efiboot.img" "$f" 2>/dev/null) || fail "efiboot.img: $f changed"
done < <(grep -iv '/$' "$WORK/x-vendor.efi-list")
mtype -i "$WORK/x-site/images/efiboot.img" ::EFI/BOOT/grub.cfg | grep >/dev/null "inst.ks=hd:LABEL=CentOS.*x86_64:/ks/site.ks" \
    || fail "efiboot.img's grub.cfg has no site entry"
# Still hybrid: MBR + GPT, El Torito for BIOS and UEFI.
report=$(xorriso -indev "$WORK/out/site7.iso" -report_el_torito plain -report_system_area plain 2>&1)
grep -q "El Torito img path :   2  /images/efiboot.img" <<<"$report" \
    && grep -q "MBR partition path :   2  /images/efiboot.img" <<<"$report" \
    && grep -q "GPT partition path :   2  /images/efiboot.img" <<<"$report" \
    && grep -q "System area summary: MBR isohybrid" <<<"$report" || fail "boot equipment: $report"

# ---- bad input: a clear error, nothing left behind -------------------------------------------
site_for "$WORK/el9" el9 "$BOOT/el9-dvd.iso"
sed -i -e 's/network_manager: false/network_manager: true/' -e 's/release: queens .*/release: "2024.1"/' \
    "$WORK/el9/site.yaml"
expect_exit 2 "$AIRSTRAP" build iso "$WORK/el7/site.yaml" -o "$WORK/bad/x.iso" --iso "$BOOT/el9-dvd.iso" --repo "$WORK/repo7"
grep -q "DVD, but the site's distro is el7" <<<"$OUT" || fail "wrong DVD: $OUT"
expect_exit 2 "$AIRSTRAP" build iso "$WORK/el7/site.yaml" -o "$WORK/bad/x.iso" --repo "$WORK/nothing"
grep -q "not a site repository .* make one with 'airstrap mirror" <<<"$OUT" || fail "no repo: $OUT"
expect_exit 2 "$AIRSTRAP" build iso "$WORK/el9/site.yaml" -o "$WORK/bad/x.iso" --repo "$WORK/repo7"
grep -q "was mirrored for el7, the site is el9" <<<"$OUT" || fail "repo for another distro: $OUT"
expect_exit 2 "$AIRSTRAP" build iso "$WORK/el7/site.yaml" -o "$WORK/bad/x.iso" --repo "$WORK/repo7" --node compute-nod
grep -q "'compute-nod' is not a node of site lab3 (did you mean 'compute-node'?)" <<<"$OUT" || fail "unknown --node: $OUT"
echo "not an image" >"$WORK/bad.iso"
expect_exit 2 "$AIRSTRAP" build iso "$WORK/el7/site.yaml" -o "$WORK/bad/x.iso" --iso "$WORK/bad.iso" --repo "$WORK/repo7"
grep -q "not an ISO 9660 image" <<<"$OUT" || fail "not an ISO: $OUT"
mkdir -p "$WORK/odd/stuff" && echo x >"$WORK/odd/stuff/file"
xorriso -as mkisofs -quiet -V ODD -o "$WORK/odd.iso" "$WORK/odd" 2>/dev/null
expect_exit 2 "$AIRSTRAP" build iso "$WORK/el7/site.yaml" -o "$WORK/bad/x.iso" --iso "$WORK/odd.iso" --repo "$WORK/repo7"
grep -q "looked for repodata/repomd.xml + LiveOS/squashfs.img .*its top level holds: stuff" <<<"$OUT" || fail "unknown layout: $OUT"
[ ! -e "$WORK/bad" ] || [ -z "$(ls -A "$WORK/bad")" ] || fail "a failed build left: $(ls -A "$WORK/bad")"
# A build killed while xorriso works leaves nothing at the target; the next run cleans up.
mkdir -p "$WORK/slow/bin" "$WORK/killed"
printf '#!/bin/sh\nfor a; do [ "$a" = -commit ] && exec sleep 60; done\nexec %s "$@"\n' "$(command -v xorriso)" >"$WORK/slow/bin/xorriso"
chmod +x "$WORK/slow/bin/xorriso"
PATH="$WORK/slow/bin:$PATH" "$AIRSTRAP" build iso "$WORK/el7/site.yaml" -o "$WORK/killed/site.iso" --repo "$WORK/repo7" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do ls -A "$WORK/killed" | grep >/dev/null tmp && break; sleep 0.1; done
sleep 0.3
kill -KILL "$pid"; wait "$pid" 2>/dev/null || true
pkill -KILL -f "$WORK/slow/bin/xorriso" 2>/dev/null || true
pkill -KILL -f "sleep 60" 2>/dev/null || true
[ ! -e "$WORK/killed/site.iso" ] || fail "a killed build left $WORK/killed/site.iso"
expect_exit 0 "$AIRSTRAP" build iso "$WORK/el7/site.yaml" -o "$WORK/killed/site.iso" --repo "$WORK/repo7"
[ "$(ls -A "$WORK/killed")" = site.iso ] || fail "leftovers of the killed build: $(ls -A "$WORK/killed")"

# An output under /dev (a RAM disk in /dev/shm): xorriso takes a bare /dev path for an optical
# drive and refuses it; airstrap names its files as stdio: drives.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    SHM=$(mktemp -d /dev/shm/airstrap-iso-test.XXXXXX)
    expect_exit 0 "$AIRSTRAP" build iso "$WORK/el7/site.yaml" -o "$SHM/site.iso" --repo "$WORK/repo7"
    xorriso -indev "stdio:$SHM/site.iso" -report_el_torito plain 2>/dev/null | grep -q "El Torito boot img :   2  UEFI" \
        || { rm -rf -- "$SHM"; fail "the ISO in /dev/shm lost its boot images"; }
    rm -rf -- "$SHM"
fi

# A vendor efiboot.img with no room for the site menu: airstrap builds a larger one.
xorriso -osirrox on -indev "$BOOT/el7-dvd.iso" -extract /images/efiboot.img "$WORK/full-efiboot.img" >/dev/null 2>&1
chmod u+w "$WORK/full-efiboot.img"
free=$(mdir -i "$WORK/full-efiboot.img" ::EFI/BOOT | sed -n 's/^ *\([0-9 ]*\) bytes free$/\1/p' | tr -d ' ')
[ -n "$free" ] || fail "cannot read the free space of efiboot.img"
head -c "$free" /dev/zero >"$WORK/filler"
mcopy -i "$WORK/full-efiboot.img" "$WORK/filler" ::filler || fail "cannot fill efiboot.img"
xorriso -indev "$BOOT/el7-dvd.iso" -outdev "$WORK/full.iso" -boot_image any replay \
    -map "$WORK/full-efiboot.img" /images/efiboot.img >/dev/null 2>&1 || fail "cannot make the full-efiboot DVD"
expect_exit 0 "$AIRSTRAP" build iso "$WORK/el7/site.yaml" -o "$WORK/out/full7.iso" --iso "$WORK/full.iso" \
    --repo "$WORK/repo7" --timeout 1
grep -q "images/efiboot.img had no room for the site menu: rebuilt it" <<<"$OUT" || fail "full efiboot.img: $OUT"
xorriso -osirrox on -indev "$WORK/out/full7.iso" -extract /images/efiboot.img "$WORK/grown.img" >/dev/null 2>&1
mlabel -i "$WORK/grown.img" -s :: | grep >/dev/null "ANACONDA" || fail "the grown efiboot.img lost its label"
for f in ::filler ::EFI/BOOT/BOOTX64.EFI; do
    cmp -s <(mtype -i "$WORK/full-efiboot.img" "$f") <(mtype -i "$WORK/grown.img" "$f") || fail "grown efiboot.img: $f differs"
done
mtype -i "$WORK/grown.img" ::EFI/BOOT/grub.cfg | grep >/dev/null ":/ks/site.ks" || fail "grown efiboot.img has no site menu"

# ---- el9 -------------------------------------------------------------------------------------
expect_exit 0 "$AIRSTRAP" mirror "$WORK/el9/site.yaml" -o "$WORK/repo9"
expect_exit 0 "$AIRSTRAP" build iso "$WORK/el9/site.yaml" -o "$WORK/out/site9.iso" \
    --repo "$WORK/repo9" --timeout 1 --append console=ttyS0 --volid LAB3-SITE
grep -q "label 'LAB3-SITE'" <<<"$OUT" || fail "el9 summary: $OUT"

# ---- boots -----------------------------------------------------------------------------------
why=$(qemu_skip_reason)
[ -z "$why" ] || skip "built and checked both ISOs, but cannot boot them: $why"
# boot CASE MODE ISO MAC NODE LABEL: boot, then check what the stand-in installer read.
boot() {
    local name=$1 mode=$2 iso=$3 mac=$4 node=$5 label=$6 log="$WORK/boot-$1.log" t0 ks
    t0=$(date +%s.%N)
    BOOT_MAC=$mac boot_iso "$mode" "$iso" "$log" || fail "$name: QEMU failed; log:"$'\n'"$(tail -20 "$log")"
    echo "boot $name ($mode, $mac): $(python3 -c "print(round($(date +%s.%N) - $t0, 1))") s"
    [ "$(marker "$log" ks-source)" = "hd:LABEL=$label:/ks/site.ks" ] \
        || fail "$name: kickstart source '$(marker "$log" ks-source)'; log:"$'\n'"$(tail -30 "$log")"
    marker "$log" stage2 | grep >/dev/null "^found " || fail "$name: stage2 not found: $(marker "$log" stage2)"
    ks=$(ks_text "$log")
    grep -q "^# airstrap kickstart: every node of site lab3" <<<"$ks" || fail "$name: kickstart text: $ks"
    [ "$(marker "$log" node)" = "$node" ] || fail "$name: node '$(marker "$log" node)', expected $node"
    # %pre found the site repository on the media (mounted at /run/install/repo) and exited 0.
    pre_ok "$log" "$MEDIA_REPO" || fail "$name: %pre did not succeed (see pre_ok above)"
}
MEDIA_REPO=file:///run/install/repo/airstrap/repo
boot el7-bios-cd bios-cd "$WORK/out/site7.iso" 00:0c:29:5e:12:12 compute-node 'CentOS\x207\x20x86_64'
boot el7-uefi-cd uefi-cd "$WORK/out/site7.iso" 00:0c:29:3a:10:10 controller-node 'CentOS\x207\x20x86_64'
boot el7-bios-usb bios-usb "$WORK/out/site7.iso" 00:0c:29:2c:6f:79 network-node 'CentOS\x207\x20x86_64'
boot el7-uefi-usb uefi-usb "$WORK/out/site7.iso" 00:0c:29:5e:12:12 compute-node 'CentOS\x207\x20x86_64'
boot el7-full-uefi-usb uefi-usb "$WORK/out/full7.iso" 00:0c:29:5e:12:12 compute-node 'CentOS\x207\x20x86_64'
boot el9-uefi-cd uefi-cd "$WORK/out/site9.iso" 00:0c:29:2c:6f:6f network-node LAB3-SITE
boot el9-bios-usb bios-usb "$WORK/out/site9.iso" 00:0c:29:3a:10:10 controller-node LAB3-SITE

# ---- %pre's repository check fails: the install aborts, and pre_ok says so -------------------
# The site ISO without /airstrap/repo/repodata/repomd.xml (repodata/ itself kept): %pre still
# picks the node, then finds no site repository on the media (and no inst.repo= for one) and
# exits 1; --erroronfail aborts.
xorriso -indev "$WORK/out/site7.iso" -outdev "$WORK/out/norepo7.iso" -boot_image any replay \
    -rm /airstrap/repo/repodata/repomd.xml -- >"$WORK/norepo.log" 2>&1 \
    || fail "cannot make the ISO without repomd.xml: $(cat "$WORK/norepo.log")"
log=$WORK/boot-el7-norepo.log
t0=$(date +%s.%N)
BOOT_MAC=00:0c:29:5e:12:12 boot_iso bios-cd "$WORK/out/norepo7.iso" "$log" \
    || fail "el7-norepo: QEMU failed; log:"$'\n'"$(tail -20 "$log")"
echo "boot el7-norepo (bios-cd, 00:0c:29:5e:12:12): $(python3 -c "print(round($(date +%s.%N) - $t0, 1))") s"
[ -n "$(ks_text "$log")" ] || fail "el7-norepo: no kickstart read; log:"$'\n'"$(tail -30 "$log")"
if why=$(pre_ok "$log" "$MEDIA_REPO" 2>&1); then
    fail "el7-norepo: pre_ok accepted a boot whose media has no repodata/repomd.xml"
fi
grep >/dev/null "%pre exited 1 (expected 0)" <<<"$why" || fail "el7-norepo: pre_ok refused for another reason: $why"
block_text "$log" pre-log-begin pre-log-end | grep >/dev/null -xF \
    "airstrap: the site repository is neither on the install media (/airstrap/repo) nor named by inst.repo= or airstrap.repo=" \
    || fail "el7-norepo: %pre's log lacks its message: $(block_text "$log" pre-log-begin pre-log-end)"
[ "$(marker "$log" pre-aborted)" = "%pre section 1 exited 1 (--erroronfail): installation aborted" ] \
    || fail "el7-norepo: the installer did not abort: '$(marker "$log" pre-aborted)'"
[ -z "$(marker "$log" node)" ] && ! has_marker "$log" pre-ok || fail "el7-norepo: the installer went on after %pre failed"
has_marker "$log" done || fail "el7-norepo: the installer did not power off cleanly"
echo "  el7-norepo: pre_ok refused it: $(head -1 <<<"$why")"
pass "site ISOs: vendor files intact, hybrid boot kept, a full efiboot.img grown, 7 boots (BIOS/UEFI × CD/USB, el7/el9) read site.ks, found their node by MAC, %pre exited 0 with the media's repository; without its repomd.xml %pre fails and the install aborts"
