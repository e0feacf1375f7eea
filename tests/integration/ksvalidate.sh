#!/usr/bin/env bash
# Every kickstart airstrap writes for lab3 (el7, el8, el9), expanded per node the way %pre
# makes it, passes pykickstart's ksvalidator for its RHEL version with warnings as errors.
# pykickstart is not a Debian package: point PYKICKSTART_DIR at a checkout of it, or install
# it as a Python module; without it this test prints "skipped" and exits 77.
source "$(dirname "$0")/common.sh"

if [ -n "${PYKICKSTART_DIR:-}" ] && [ -f "$PYKICKSTART_DIR/tools/ksvalidator.py" ]; then
    ksvalidator() { PYTHONPATH="$PYKICKSTART_DIR" python3 "$PYKICKSTART_DIR/tools/ksvalidator.py" "$@"; }
elif python3 -c 'import pykickstart' 2>/dev/null && command -v ksvalidator >/dev/null; then
    ksvalidator() { command ksvalidator "$@"; }
else
    skip "pykickstart is not installed (set PYKICKSTART_DIR to a pykickstart checkout)"
fi

checked=0
for case in "el7 RHEL7 $SRC/examples/lab3/site.yaml" \
            "el8 RHEL8 $SRC/tests/data/sites/lab3-el8.yaml" \
            "el9 RHEL9 $SRC/tests/data/sites/lab3-el9.yaml"; do
    read -r dist version site <<<"$case"
    # The secrets are made for the site (its cloud users get passwords), beside a copy of it.
    mkdir -p "$WORK/$dist"
    cp "$site" "$WORK/$dist/site.yaml"
    make_secrets "$WORK/$dist"
    "$AIRSTRAP" kickstart "$WORK/$dist/site.yaml" --secrets "$WORK/$dist/secrets.yaml" -o "$WORK/$dist/ks" >/dev/null
    for profile in "$WORK/$dist/ks"/*.ks; do
        files=("$profile")
        mapfile -t -O 1 files < <(python3 "$SRC/tests/tools/ks_expand.py" "$profile" "$WORK/$dist/flat")
        for ks in "${files[@]}"; do
            if ! out=$(ksvalidator -e -v "$version" "$ks" 2>&1); then
                fail "ksvalidator -v $version $(basename "$ks"):"$'\n'"$out"
            fi
            checked=$((checked + 1))
        done
    done
done
[ "$checked" -eq 30 ] || fail "expected 30 kickstarts (per dialect: 3 role profiles + their node, the site profile + 3 nodes), checked $checked"
pass "ksvalidator accepted $checked kickstarts (el7/RHEL7, el8/RHEL8, el9/RHEL9)"
