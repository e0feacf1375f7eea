#!/usr/bin/env bash
# Every kickstart airstrap writes for every example and test site (el7, el8, el9: the role
# profiles, site.ks, each node's own nodes/NAME.ks, and each node's expansion of each of
# them, made by really running %pre for that node)
# passes pykickstart's ksvalidator for its RHEL version with -e (warnings are errors), and
# every %pre/%post body passes `bash -n`. First, broken kickstarts show that this check
# refuses what Anaconda would refuse. pykickstart 3.74 is the unmodified copy in
# ../shared/third_party/pykickstart beside the source tree (PYKICKSTART_DIR overrides it),
# run with Debian's python3 and python3-requests.
source "$(dirname "$0")/common.sh"

PYTHON=/usr/bin/python3  # Debian's, with python3-requests (a pyenv python3 on PATH has not)
PYKICKSTART_DIR=${PYKICKSTART_DIR:-$SRC/../shared/third_party/pykickstart}
[ -x "$PYTHON" ] || skip "$PYTHON is missing (Debian's python3; run scripts/install-deps)"
[ -f "$PYKICKSTART_DIR/tools/ksvalidator.py" ] ||
    skip "no pykickstart at $PYKICKSTART_DIR (tools/ksvalidator.py): set PYKICKSTART_DIR to a pykickstart 3.x checkout"
"$PYTHON" -c 'import requests' 2>/dev/null ||
    skip "$PYTHON cannot import requests, which pykickstart needs: install python3-requests (scripts/install-deps)"
pykickstart_version=$(PYTHONPATH="$PYKICKSTART_DIR" "$PYTHON" -c \
    'import pykickstart; print(pykickstart.__version__)' 2>&1) ||
    fail "pykickstart at $PYKICKSTART_DIR does not import with $PYTHON:"$'\n'"$pykickstart_version"
echo "pykickstart $pykickstart_version from $PYKICKSTART_DIR"
export PYTHONPATH=$PYKICKSTART_DIR
# No byte-code caches in ../shared (root writes there whatever its mode bits say).
export PYTHONDONTWRITEBYTECODE=1

ksvalidator() { "$PYTHON" "$PYKICKSTART_DIR/tools/ksvalidator.py" "$@"; }
ks_expand() { "$PYTHON" "$SRC/tests/tools/ks_expand.py" "$@"; }

# check_kickstarts VERSION FILE...: ksvalidator -e -v VERSION (one run for all, each file parsed
# on its own), then each script body through its interpreter's syntax check. Returns 1 with the reason in $WHY; counts bodies in $bodies.
# ksvalidator exits with its count of refused files: one run takes one site's (~10), never 256.
# One warning is expected and nothing else is excused: RAID1 on a BIOS machine needs a BIOS boot
# partition on each disk (GRUB goes to both), and pykickstart warns that the mountpoint
# "biosboot" is defined twice (ksvalidator makes every warning an error). Anaconda's own
# kickstart-tests write it so (kickstart-tests #766) and Anaconda logs it and goes on; such a
# file is checked again with that one warning ignored and each biosboot on a disk of its own
# (ks_expand.py biosboot, which names the file and the problem when it refuses).
bodies=0
biosboot_excused=0
check_kickstarts() {
    local version=$1 out interp body what
    local -a checker
    shift
    if ! ksvalidator -e -v "$version" "$@" >/dev/null 2>&1; then
        # ksvalidator's check again, in one run, with only that warning excused; it names the
        # first file it refuses and why.
        if ! out=$(ks_expand biosboot "$version" "$WORK" "$@" 2>&1); then
            WHY="ksvalidator -e -v $version refused them; $out"
            return 1
        fi
        biosboot_excused=$((biosboot_excused + $(grep -c 'accepted, [2-9][0-9]* biosboot' <<<"$out")))
    fi
    if ! out=$(ks_expand scripts "$version" "$WORK/scripts" "$@" 2>&1); then
        WHY=$out
        return 1
    fi
    while IFS=$'\t' read -r interp body what; do
        case "$interp" in
            /bin/sh|/usr/bin/sh) checker=(bash --posix -n) ;;  # EL's /bin/sh is bash
            /bin/bash|/usr/bin/bash) checker=(bash -n) ;;
            /usr/bin/python3|/usr/libexec/platform-python)
                checker=("$PYTHON" -c 'import sys; compile(open(sys.argv[1]).read(), sys.argv[1], "exec")') ;;
            *)
                echo "not checked: $what runs $interp, which has no syntax check here"
                continue ;;
        esac
        if ! out=$(cd "$(dirname "$body")" && "${checker[@]}" "$(basename "$body")" 2>&1); then
            WHY="$what: ${checker[*]:0:2} refused it: $out"
            return 1
        fi
        bodies=$((bodies + 1))
    done <<<"$out"
}

# refused NAME VERSION FILE: the check must refuse FILE; prints why, by name.
refused() {
    local name=$1
    shift
    if check_kickstarts "$@"; then
        fail "self-check: '$name' ($(basename "$2")) was accepted; ksvalidator or the script check is not checking"
    fi
    echo "refused as it must be: $name: $(head -n 3 <<<"$WHY" | tr '\n' ' ')"
}

# Render a site's kickstarts into $WORK/NAME/ks (secrets made for it beside a copy of it).
render() {
    local site=$1 name=$2
    mkdir -p "$WORK/$name"
    cp "$site" "$WORK/$name/site.yaml"
    make_secrets "$WORK/$name" || fail "$site: airstrap init --secrets-only failed"
    "$AIRSTRAP" kickstart "$WORK/$name/site.yaml" --secrets "$WORK/$name/secrets.yaml" \
        -o "$WORK/$name/ks" >"$WORK/$name/kickstart.log" 2>&1 ||
        fail "$site: airstrap kickstart failed:"$'\n'"$(cat "$WORK/$name/kickstart.log")"
}

# --- Self-check: broken kickstarts, made from lab3's el8 site.ks, are refused. ---
render "$SRC/tests/data/sites/lab3-el8.yaml" selfcheck
out=$(ks_expand nodes RHEL8 "$WORK/selfcheck/flat" "$WORK/selfcheck/ks/site.ks" 2>&1) ||
    fail "self-check: el8 site.ks could not be expanded: $out"
base=$(head -n 1 <<<"$out")
check_kickstarts RHEL8 "$base" || fail "self-check: the unbroken el8 kickstart $(basename "$base") is refused: $WHY"
broken=$WORK/broken
mkdir -p "$broken"
sed '0,/^text$/s//text\nfrobnicate --now/' "$base" >"$broken/unknown-command.ks"
sed '0,/--onboot=yes/s//--onbooot=yes/' "$base" >"$broken/bad-option.ks"
# The last %end (the chroot %post's) goes.
tac "$base" | sed '0,/^%end$/{/^%end$/d}' | tac >"$broken/missing-end.ks"
# el7's `install` is only deprecated in RHEL8: a warning, which -e makes fatal.
sed '0,/^text$/s//install\ntext/' "$base" >"$broken/deprecated-install.ks"
tac "$base" | sed '0,/^%end$/s//%end\nif [ -f \/etc\/airstrap\/node ]; then/' | tac >"$broken/post-syntax-error.ks"
sed '0,/^mkdir -p \/tmp\/airstrap$/s//mkdir -p \/tmp\/airstrap\ncase "$node" in/' "$base" >"$broken/pre-syntax-error.ks"
for f in "$broken"/*.ks; do
    cmp -s "$base" "$f" && fail "self-check: $(basename "$f") was not changed (the kickstart's text is not what this test expects)"
done
# The bash syntax errors are no kickstart errors: ksvalidator alone would pass them.
for f in post-syntax-error pre-syntax-error; do
    ksvalidator -e -v RHEL8 "$broken/$f.ks" >/dev/null 2>&1 ||
        fail "self-check: ksvalidator refused $f.ks, which only has a bash syntax error"
done
refused "unknown command (frobnicate)" RHEL8 "$broken/unknown-command.ks"
refused "bad option (network --onbooot)" RHEL8 "$broken/bad-option.ks"
refused "missing %end" RHEL8 "$broken/missing-end.ks"
refused "deprecated command, a warning only (install in RHEL8)" RHEL8 "$broken/deprecated-install.ks"
refused "%post with a bash syntax error (if without fi)" RHEL8 "$broken/post-syntax-error.ks"
refused "%pre with a bash syntax error (case without esac)" RHEL8 "$broken/pre-syntax-error.ks"
# A %pre that fails on the node's machine (Anaconda aborts there) gives no expansion.
sed '0,/^mkdir -p \/tmp\/airstrap$/s//&\nexit 3/' "$WORK/selfcheck/ks/site.ks" >"$broken/site.ks"
if out=$(ks_expand nodes RHEL8 "$broken/flat" "$broken/site.ks" 2>&1); then
    fail "self-check: a %pre that exits 3 was expanded:"$'\n'"$out"
fi
grep -q 'exited 3' <<<"$out" || fail "self-check: a %pre that exits 3: unexpected message:"$'\n'"$out"
echo "refused as it must be: %pre exiting 3: $(head -n 1 <<<"$out")"
# %pre runs on this machine: one that would write outside its stand-in root is not run.
sed '0,/^mkdir -p \/tmp\/airstrap$/s//&\necho "$node" >\/etc\/airstrap-ksvalidate-test/' \
    "$WORK/selfcheck/ks/site.ks" >"$broken/site.ks"
if out=$(ks_expand nodes RHEL8 "$broken/flat2" "$broken/site.ks" 2>&1) ||
    [ -e /etc/airstrap-ksvalidate-test ]; then
    fail "self-check: a %pre writing /etc/airstrap-ksvalidate-test was run:"$'\n'"$out"
fi
grep -q 'names /etc/airstrap-ksvalidate-test' <<<"$out" ||
    fail "self-check: a %pre writing /etc/airstrap-ksvalidate-test: unexpected message:"$'\n'"$out"
echo "refused as it must be: %pre naming a path outside its stand-in root: $(head -n 1 <<<"$out")"

# served PROFILE...: the node names of the profiles' "# Serves:" lines, sorted.
served() {
    sed -n 's/^# Serves: //p' "$@" | tr ';' '\n' | sed 's/^ *//; s/ (.*//' | sort
}

# --- Every site: the example sites and the test sites, whatever their distro. ---
declare -A count=([el7]=0 [el8]=0 [el9]=0)
node_kickstarts=0
lab3_checked=no
source "$(dirname "$0")/media-secrets.sh"
sites=("$SRC"/examples/*/site.yaml "$SRC"/tests/data/sites/*.yaml)
# The rack (bonds, VLANs, IPv6, RAID1, data disks) in the el8 and el7 dialects as well: the
# same topology through each version's network and partitioning commands (el7 with the
# legacy network service, as Packstack there needs).
for dist in el8 el7; do
    mkdir -p "$WORK/derived/rack-$dist"
    sed -e "s/^  distro: el9/  distro: $dist/" -e 's/^  network_manager: true .*/  network_manager: false/' \
        -e 's/^  release: "2025.1"/  release: train/' -e 's/^  l2_agent: ovn/  l2_agent: openvswitch/' \
        "$SRC/examples/rack/site.yaml" >"$WORK/derived/rack-$dist/site.yaml"
    [ "$dist" = el8 ] && sed -i 's/^  network_manager: false/  network_manager: true/' "$WORK/derived/rack-$dist/site.yaml"
    grep -q "^  distro: $dist" "$WORK/derived/rack-$dist/site.yaml" || fail "examples/rack: no 'distro: el9' line to make its $dist copy from"
    sites+=("$WORK/derived/rack-$dist/site.yaml")
done
for site in "${sites[@]}"; do
    dist=$(sed -n 's/^  distro: *\([a-z0-9]*\).*/\1/p' "$site")
    case "$dist" in
        el7|el8|el9) version=RHEL${dist#el} ;;
        *) fail "$site: distro '${dist:-(none)}' is not el7, el8 or el9; teach ksvalidate.sh its pykickstart version" ;;
    esac
    name=$dist-$(basename "$(dirname "$site")")-$(basename "$site" .yaml)
    render "$site" "$name"
    [ -f "$WORK/$name/ks/site.ks" ] || fail "$site: airstrap kickstart wrote no site.ks"
    profiles=("$WORK/$name/ks"/*.ks)
    [ "${#profiles[@]}" -ge 2 ] || fail "$site: airstrap kickstart wrote no role profile beside site.ks"
    for profile in "${profiles[@]}"; do
        head -n 1 "$profile" | grep -q "($dist, pykickstart $version)" ||
            fail "$(basename "$profile") of $site: its first line does not say ($dist, pykickstart $version): $(head -n 1 "$profile")"
    done
    # site.ks serves every node, each role profile its role's: together the same nodes.
    roles=()
    for profile in "${profiles[@]}"; do
        [ "$(basename "$profile")" = site.ks ] || roles+=("$profile")
    done
    [ "$(served "$WORK/$name/ks/site.ks")" = "$(served "${roles[@]}")" ] ||
        fail "$site: site.ks serves $(served "$WORK/$name/ks/site.ks" | tr '\n' ' '); the role profiles $(served "${roles[@]}" | tr '\n' ' ')"
    # Each node's own kickstart (network installs): one per node site.ks serves, each serving
    # that node alone.
    own=()
    [ -d "$WORK/$name/ks/nodes" ] && own=("$WORK/$name/ks/nodes"/*.ks)
    [ "${#own[@]}" -gt 0 ] && [ -f "${own[0]}" ] || fail "$site: airstrap kickstart wrote no nodes/NAME.ks"
    [ "$(served "${own[@]}")" = "$(served "$WORK/$name/ks/site.ks")" ] ||
        fail "$site: nodes/*.ks serve $(served "${own[@]}" | tr '\n' ' '); site.ks $(served "$WORK/$name/ks/site.ks" | tr '\n' ' ')"
    for ks in "${own[@]}"; do
        [ "$(served "$ks")" = "$(basename "$ks" .ks)" ] || fail "$ks serves $(served "$ks" | tr '\n' ' ')"
    done
    # Each profile serves at least one node (ks_expand.py refuses one that serves none).
    expanded=$(ks_expand nodes "$version" "$WORK/$name/flat" "${profiles[@]}" "${own[@]}" 2>&1) ||
        fail "$site: no per-node kickstarts: $expanded"
    mapfile -t files <<<"$expanded"
    [ "${#files[@]}" -ge $((${#profiles[@]} + ${#own[@]})) ] || fail "$site: fewer expansions than kickstarts: $expanded"
    if grep -q '^ *layout: raid1' "$site"; then
        # The explicit layout writes the ESP or BIOS boot partitions by firmware: UEFI too.
        efi=$(KS_EXPAND_FIRMWARE=efi ks_expand nodes "$version" "$WORK/$name/flat-efi" "${own[@]}" 2>&1) ||
            fail "$site: no per-node kickstarts for UEFI machines: $efi"
        mapfile -t efi_files <<<"$efi"
        grep -q '^raid /boot/efi --level=1 ' "${efi_files[0]}" || fail "$site: ${efi_files[0]} has no RAID1 /boot/efi"
        grep -q '^part biosboot ' "${files[0]}" || fail "$site: ${files[0]} (BIOS) has no biosboot partition"
        files+=("${efi_files[@]}")
    fi
    check_kickstarts "$version" "${profiles[@]}" "${own[@]}" "${files[@]}" || fail "$site ($dist): $WHY"
    count[$dist]=$((count[$dist] + ${#profiles[@]} + ${#own[@]} + ${#files[@]}))
    node_kickstarts=$((node_kickstarts + ${#own[@]}))
    if [ "$site" = "$SRC/examples/lab3/site.yaml" ]; then
        # Where lab3's secrets are: site.ks holds them all, controller.ks and the controller's
        # own the site secret, every key and deploy.sealed, any other kickstart its node's key only.
        K=$WORK/$name/ks
        media_keys "$WORK/$name/site.yaml" "$WORK/$name/secrets.yaml"
        check_media "lab3's kickstarts" none="$K" site="$K/site.ks" \
            controller-node="$K/controller.ks" controller-node="$K/nodes/controller-node.ks" \
            network-node="$K/network.ks" network-node="$K/nodes/network-node.ks" \
            compute-node="$K/compute.ks" compute-node="$K/nodes/compute-node.ks"
        lab3_checked=yes
    fi
done
# The excused warning excuses nothing more: two BIOS boot partitions on one disk are refused.
bios_ks=$(grep -l '^part biosboot .*phy1-lun-0$' "$WORK"/el9-rack-site/flat/*.ks | head -n 1)
[ -n "$bios_ks" ] || fail "examples/rack: no BIOS expansion with a biosboot partition on its second disk"
sed '/^part biosboot /s/phy1-lun-0$/phy0-lun-0/' "$bios_ks" >"$broken/biosboot-one-disk.ks"
refused "two biosboot partitions on one disk" RHEL9 "$broken/biosboot-one-disk.ks"
# A disk the site finds by size and model that the machine does not have stops the install,
# naming what was looked for (the stand-in machine has no such model).
mkdir -p "$WORK/nomodel"
sed 's/model: "SAMSUNG MZ7LH1T9\*"/model: "NOPE*"/' "$SRC/examples/rack/site.yaml" >"$WORK/nomodel.yaml"
render "$WORK/nomodel.yaml" nomodel
if out=$(ks_expand nodes RHEL9 "$WORK/nomodel/flat" "$WORK/nomodel/ks/nodes/ctl1.ks" 2>&1); then
    fail "a cinder-volumes disk of model NOPE* was found on the stand-in machine:"$'\n'"$out"
fi
grep -q 'airstrap: no disk of this machine matches cinder-volumes (size 1920G, model NOPE\*) of ctl1' <<<"$out" ||
    fail "a disk no machine has: unexpected message:"$'\n'"$out"
echo "refused as it must be: a disk found by a model the machine lacks: $(grep 'no disk of this machine' <<<"$out" | head -n 1)"
[ "$lab3_checked" = yes ] || fail "examples/lab3/site.yaml was not among the sites: its secrets were not checked"
total=$((count[el7] + count[el8] + count[el9]))
echo "bash -n accepted $bodies %pre/%post bodies of those kickstarts (--posix for /bin/sh, as EL runs them)"
echo "$biosboot_excused kickstarts passed with the one excused warning (two biosboot partitions: RAID1 on BIOS)"
for dist in el7 el8 el9; do
    [ "${count[$dist]}" -gt 0 ] || fail "no $dist kickstart was checked (sites: ${sites[*]#"$SRC"/})"
done
[ "$node_kickstarts" -gt 0 ] || fail "no node's own kickstart (nodes/NAME.ks) was checked"
pass "ksvalidator accepted $total kickstarts (el7 ${count[el7]}, el8 ${count[el8]}, el9 ${count[el9]}; $node_kickstarts of them nodes' own nodes/NAME.ks, each also expanded)"
