#!/usr/bin/env bash
# The static airstrap-firstboot on CentOS 7's kernel, 3.10, as tests/tools/kernel310 emulates
# it: every system call newer than 3.10 fails with ENOSYS (getrandom came in 3.17).
#   1. the filter works: kernel310_probe's direct getrandom says ok without it, ENOSYS under
#      it (and under --hold only for the held executable);
#   2. the control: Debian's OpenSSL alone cannot seed under it (what the daemon avoids);
#   3. `airstrap-firstboot self-test` under it: random bytes from /dev/urandom, OpenSSL's
#      generator seeded from them, AES-256-GCM; without it, from getrandom.
# The namespace test of lab3 under the filter is integration.firstboot-kernel310.
source "$(dirname "$0")/common.sh"
: "${AIRSTRAP_FIRSTBOOT:?set AIRSTRAP_FIRSTBOOT to the airstrap-firstboot binary}"
[ -x "${KERNEL310:-}" ] && [ -x "${KERNEL310_PROBE:-}" ] ||
    skip "tests/tools/kernel310 not built (apt-get install libseccomp-dev, then re-run cmake)"
"$KERNEL310" -- /bin/true 2>"$WORK/err" || skip "the seccomp filter cannot be installed here: $(cat "$WORK/err")"

# ---- 1. the filter ------------------------------------------------------------------------
expect_exit 0 "$KERNEL310_PROBE"
[ "$OUT" = "getrandom: ok" ] || fail "without the filter the probe says: $OUT"
expect_exit 1 "$KERNEL310" -- "$KERNEL310_PROBE"
[[ $OUT == "getrandom: ENOSYS "* ]] || fail "under the filter the probe says: $OUT"
echo "1. probe: getrandom ok without the filter, '$OUT' under it"
# --hold: refused only to the held executable, and logged with its pid.
expect_exit 0 "$KERNEL310" --hold /bin/true -- "$KERNEL310_PROBE"
[ "$OUT" = "getrandom: ok" ] || fail "under --hold /bin/true the probe (not held) says: $OUT"
log=$WORK/kernel310.log
expect_exit 1 "$KERNEL310" --log "$log" --hold "$KERNEL310_PROBE" -- "$KERNEL310_PROBE"
[[ $OUT == "getrandom: ENOSYS "* ]] || fail "under --hold of itself the probe says: $OUT"
pid=$(sed -n 's|^\([0-9]*\) .*: filter installed.*|\1|p' "$log")
[ -n "$pid" ] || fail "no 'filter installed' line in the launcher's log: $(cat "$log")"
for t in $(seq 50); do grep -q "^$pid .*: getrandom (318) -> ENOSYS$" "$log" && break; sleep 0.1; done
grep -q "^$pid .*: getrandom (318) -> ENOSYS$" "$log" ||
    fail "the launcher's log shows no getrandom refused to pid $pid: $(cat "$log")"
echo "1. --hold: refused to the held executable only (pid $pid's getrandom in the log)"

# ---- 2. the control: OpenSSL alone ----------------------------------------------------------
# Debian's OpenSSL 3.0 reads /dev/urandom without getrandom only when uname says < 4.8: on this
# machine's kernel, under the filter, it cannot seed. The daemon must not depend on that path.
if command -v openssl >/dev/null; then
    expect_exit 0 openssl rand -hex 4
    rc=0
    out=$("$KERNEL310" -- openssl rand -hex 4 2>&1) || rc=$?
    [ "$rc" -ne 0 ] || fail "Debian's openssl seeded under the filter (so this test proves less than it claims): $out"
    echo "2. control: 'openssl rand' under the filter exits $rc: $(head -1 <<<"$out" | cut -c1-120)"
else
    skip_part "no openssl command (apt-get install openssl): the control is not run"
fi

# ---- 3. the daemon's self-test ----------------------------------------------------------------
expect_exit 0 "$AIRSTRAP_FIRSTBOOT" self-test
grep -qx "random source: getrandom" <<<"$OUT" || fail "self-test without the filter:"$'\n'"$OUT"
for mode in plain hold; do
    args=()
    [ "$mode" = hold ] && args=(--log "$WORK/self-test.log" --hold "$AIRSTRAP_FIRSTBOOT")
    expect_exit 0 "$KERNEL310" "${args[@]}" -- "$AIRSTRAP_FIRSTBOOT" self-test
    grep -qx "random source: /dev/urandom (this kernel has no getrandom)" <<<"$OUT" ||
        fail "self-test under the filter ($mode) does not say it reads /dev/urandom:"$'\n'"$OUT"
    grep -Eq "^OpenSSL's generator: ok, seeded with [1-9][0-9]* bytes from the kernel$" <<<"$OUT" ||
        fail "self-test under the filter ($mode): OpenSSL not seeded from the kernel:"$'\n'"$OUT"
    grep -qx "self-test passed" <<<"$OUT" || fail "self-test under the filter ($mode):"$'\n'"$OUT"
done
grep -q "airstrap-firstboot: getrandom (318) -> ENOSYS$" "$WORK/self-test.log" ||
    fail "the launcher's log shows no getrandom refused to airstrap-firstboot: $(cat "$WORK/self-test.log")"
echo "3. self-test under the filter:"
sed 's/^/   /' <<<"$OUT"
# The other commands start too (they read files only): status of an empty root says so.
mkdir -p "$WORK/empty"
rc=0
out=$("$KERNEL310" -- "$AIRSTRAP_FIRSTBOOT" status --root "$WORK/empty" 2>&1) || rc=$?
[ "$rc" -ne 0 ] && [ -n "$out" ] && ! grep -q "random number" <<<"$out" ||
    fail "status under the filter exited $rc: $out"
pass "kernel310: the filter refuses getrandom (ENOSYS); OpenSSL alone fails under it; the daemon's self-test passes under it"
