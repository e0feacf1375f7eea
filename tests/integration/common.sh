# Shared by the integration tests: paths, a scratch folder, and pass/fail/skip that CTest
# understands (exit 0, 1, and 77 for skipped, which CMake maps with SKIP_RETURN_CODE).
set -euo pipefail
: "${AIRSTRAP:?set AIRSTRAP to the airstrap binary}"
: "${SRC:?set SRC to the source tree}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/airstrap-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

pass() { echo "ok: $*"; exit 0; }
fail() { echo "FAIL: $*" >&2; exit 1; }
# A missing prerequisite: skipped outside CI (with the reason), a failure under CI=true,
# where .ci/run has installed everything and a skip would hide an untested claim.
skip() {
    [ "${CI:-}" != true ] || fail "$* (CI=true: a missing prerequisite is a failure)"
    echo "skipped: $*"
    exit 77
}
# skip_part REASON: as skip, for one part of a test that goes on with the rest.
skip_part() {
    [ "${CI:-}" != true ] || fail "$* (CI=true: a missing prerequisite is a failure)"
    echo "skipped: $*"
}

# Secrets for a test site: made by the tool itself, never stored in the repository.
make_secrets() {
    "$AIRSTRAP" init --secrets-only "$1" >/dev/null
}

# expect_exit CODE CMD...: run CMD, fail unless it exits with CODE; output in $OUT.
expect_exit() {
    local want=$1 got=0
    shift
    OUT=$("$@" 2>&1) || got=$?
    [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want; output:"$'\n'"$OUT"
}
