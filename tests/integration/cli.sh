#!/usr/bin/env bash
# The airstrap command end to end, as an operator uses it: init, validate, kickstart;
# exit codes, file modes, secrets never shown, nothing half-written on failure.
source "$(dirname "$0")/common.sh"

# --help everywhere, and the exit codes documented.
expect_exit 0 "$AIRSTRAP" --help
grep -q "Exit codes: 0 ok, 1 failure, 2 bad usage or bad input" <<<"$OUT" || fail "--help lacks exit codes"
for cmd in init validate kickstart node-config answers mirror build "build iso" "build qcow2" \
           "build pxe" serve inventory; do
    read -ra args <<<"$cmd"
    expect_exit 0 "$AIRSTRAP" "${args[@]}" --help
    grep -q "Exit codes: 0 ok, 1 failure, 2 bad usage or bad input" <<<"$OUT" || fail "$cmd --help lacks exit codes"
done
expect_exit 0 "$AIRSTRAP" --version

# Bad usage is exit 2.
expect_exit 2 "$AIRSTRAP"
expect_exit 2 "$AIRSTRAP" validate
expect_exit 2 "$AIRSTRAP" kickstart "$SRC/examples/lab3/site.yaml"
expect_exit 2 "$AIRSTRAP" validate --no-such-flag x
expect_exit 2 "$AIRSTRAP" validate "$WORK/missing.yaml"
grep -q "missing.yaml" <<<"$OUT" || fail "missing file not named: $OUT"

# init: a template that validates, secrets 0600, secrets never printed.
expect_exit 0 "$AIRSTRAP" init "$WORK/site"
[ "$(stat -c %a "$WORK/site/secrets.yaml")" = 600 ] || fail "secrets.yaml is not mode 0600"
secret=$(sed -n 's/^site_secret: //p' "$WORK/site/secrets.yaml")
[ ${#secret} -eq 64 ] || fail "site_secret is not 64 hex digits"
grep -q "$secret" <<<"$OUT" && fail "init printed the site secret"
expect_exit 0 "$AIRSTRAP" validate "$WORK/site/site.yaml"
grep -q ": ok: 3 nodes" <<<"$OUT" || fail "template did not validate: $OUT"
before=$(sha256sum "$WORK/site/secrets.yaml")
expect_exit 2 "$AIRSTRAP" init "$WORK/site"
grep -q "already exists" <<<"$OUT" || fail "init over an existing site: $OUT"
expect_exit 0 "$AIRSTRAP" init --force "$WORK/site"
[ "$before" = "$(sha256sum "$WORK/site/secrets.yaml")" ] || fail "init --force replaced secrets.yaml"

# The example site: validate, then kickstarts; the same input gives the same bytes.
mkdir -p "$WORK/lab3"
cp "$SRC/examples/lab3/site.yaml" "$WORK/lab3/"
expect_exit 0 "$AIRSTRAP" validate "$WORK/lab3/site.yaml"
grep -q "warning: no secrets file yet" <<<"$OUT" || fail "missing secrets not mentioned: $OUT"
expect_exit 2 "$AIRSTRAP" kickstart "$WORK/lab3/site.yaml" -o "$WORK/lab3/ks"
[ ! -e "$WORK/lab3/ks" ] || fail "kickstart without secrets wrote output"
make_secrets "$WORK/lab3"
expect_exit 0 "$AIRSTRAP" validate "$WORK/lab3/site.yaml"
grep -q "ok: 3 nodes (1 controller, 1 network, 1 compute), el7, packstack queens with openvswitch" <<<"$OUT" \
    || fail "lab3 summary: $OUT"
expect_exit 0 "$AIRSTRAP" kickstart "$WORK/lab3/site.yaml" -o "$WORK/lab3/ks"
for f in controller network compute site nodes/controller-node nodes/network-node nodes/compute-node; do
    [ -f "$WORK/lab3/ks/$f.ks" ] || fail "no $f.ks"
    [ "$(stat -c %a "$WORK/lab3/ks/$f.ks")" = 600 ] || fail "$f.ks is not mode 0600"
done
[ "$(cd "$WORK/lab3/ks" && find . | wc -l)" -eq 9 ] || fail "stray files in the output: $(cd "$WORK/lab3/ks" && find .)"
grep -q "^wrote $WORK/lab3/ks/nodes/compute-node.ks (compute-node only, for a network install)$" <<<"$OUT" \
    || fail "kickstart output: $OUT"
grep -q "All are secret (0600).*treat such a stick like a key" <<<"$OUT" || fail "kickstart does not say they are secret: $OUT"
root_pw=$(sed -n 's/^  root: \([^ ]*\).*/\1/p' "$WORK/lab3/secrets.yaml")
grep -rqF "$root_pw" "$WORK/lab3/ks" && fail "a kickstart holds the root password in clear"
sha256sum "$WORK/lab3/ks"/*.ks "$WORK/lab3/ks"/nodes/*.ks >"$WORK/first.sum"
expect_exit 0 "$AIRSTRAP" kickstart "$WORK/lab3/site.yaml" -o "$WORK/lab3/ks"
sha256sum -c --quiet "$WORK/first.sum" || fail "a second run wrote different bytes"

# Weak passwords written by hand: accepted, with a warning that never shows the password.
sed -i 's/^  root: [^ ]*/  root: "123456"/' "$WORK/lab3/secrets.yaml"
expect_exit 0 "$AIRSTRAP" kickstart "$WORK/lab3/site.yaml" -o "$WORK/lab3/ks-weak"
grep -q "warning: passwords.root is weak (6 characters, digits only, a well-known password)" <<<"$OUT" || fail "no weak warning: $OUT"
grep -q "123456" <<<"$OUT" && fail "the weak password was printed"

# Secrets readable by others: refused, nothing written.
chmod 0644 "$WORK/lab3/secrets.yaml"
expect_exit 2 "$AIRSTRAP" kickstart "$WORK/lab3/site.yaml" -o "$WORK/lab3/ks-open"
grep -q "mode 0644 lets other users read the secrets; run 'chmod 600" <<<"$OUT" || fail "mode: $OUT"
[ ! -e "$WORK/lab3/ks-open" ] || fail "output written despite open secrets"
chmod 0600 "$WORK/lab3/secrets.yaml"

# A cloud user (lab3's uat) without a password: every command that needs the secrets refuses
# it at build time, naming the user and the key to add, and writes nothing (the media would
# otherwise fail at day-1 on the controller). The secrets are checked before --repo is read.
sed '/^  users:/,$d' "$WORK/lab3/secrets.yaml" >"$WORK/lab3/no-users.yaml"
chmod 0600 "$WORK/lab3/no-users.yaml"
grep -q "uat" "$WORK/lab3/no-users.yaml" && fail "no-users.yaml still has uat"
site_cmds=("kickstart -o" "answers -o" "node-config --node controller-node --root"
           "build iso --repo $WORK/no-repo -o" "build qcow2 --all --repo $WORK/no-repo -o"
           "build pxe --server-ip 192.168.111.5 --repo $WORK/no-repo -o")
for cmd in "${site_cmds[@]}"; do
    read -ra args <<<"$cmd"
    expect_exit 2 "$AIRSTRAP" "${args[@]}" "$WORK/no-users-out" "$WORK/lab3/site.yaml" \
        --secrets "$WORK/lab3/no-users.yaml"
    grep -q "no-users.yaml: error: no password for cloud user 'uat' (.*site.yaml line [0-9]*): add passwords.users.uat" <<<"$OUT" \
        || fail "$cmd: the user without a password is not named: $OUT"
    [ ! -e "$WORK/no-users-out" ] || fail "$cmd wrote output despite the missing password"
done
expect_exit 2 "$AIRSTRAP" validate "$WORK/lab3/site.yaml" --secrets "$WORK/lab3/no-users.yaml"
grep -q "no password for cloud user 'uat'" <<<"$OUT" || fail "validate: $OUT"

# A broken site: every problem at once, file:line:col, exit 2, no output.
broken="$SRC/tests/data/broken/several-problems-at-once.yaml"
expect_exit 2 "$AIRSTRAP" kickstart "$broken" --secrets "$WORK/lab3/secrets.yaml" -o "$WORK/broken-ks"
[ ! -e "$WORK/broken-ks" ] || fail "a broken site produced output"
[ "$(grep -c ': error: ' <<<"$OUT")" -eq 5 ] || fail "expected 5 errors: $OUT"
expect_exit 2 "$AIRSTRAP" validate "$broken"
diff <(grep -v '^.*: 5 errors$' <<<"$OUT" | sed "s|^$SRC/tests/data/broken/||") \
     "$SRC/tests/data/broken/several-problems-at-once.expected" || fail "validate output differs"
expect_exit 2 "$AIRSTRAP" validate --json "$broken"
python3 - "$OUT" <<'PY' || fail "validate --json"
import json, sys
doc = json.loads(sys.argv[1])
assert doc["ok"] is False
errors = [d for d in doc["diagnostics"] if d["severity"] == "error"]
assert len(errors) == 5, errors
assert errors[0]["line"] == 13 and errors[0]["column"] == 11, errors[0]
PY

# Every broken site of the corpus: exit 2, no crash, no output at all.
for site in "$SRC"/tests/data/broken/*.yaml; do
    expect_exit 2 "$AIRSTRAP" kickstart "$site" --secrets "$WORK/lab3/secrets.yaml" -o "$WORK/corpus-ks"
    [ ! -e "$WORK/corpus-ks" ] || fail "$(basename "$site") produced output"
done

# A 50 MB file is refused before it is parsed.
head -c 52428800 /dev/zero | tr '\0' '#' >"$WORK/huge.yaml"
expect_exit 2 "$AIRSTRAP" validate "$WORK/huge.yaml"
grep -q "file is larger than 1024 KiB" <<<"$OUT" || fail "50 MB file: $OUT"

pass "init, validate and kickstart behave as documented"
