#!/usr/bin/env bash
# The test suite as independent groups run at once (`make test`): most of the browser, crash
# and package tests' time is spent waiting on real servers and processes, so running them
# beside the rest roughly halves the wall time on two cores. The fair-play and operators'
# tests join them to even the two groups out (19 and 13 minutes in CI before they moved), and
# the rewards' tests since the judge's grew (16 and 12 minutes before), and the blob store's
# since issue 16 (21 and 18 minutes before). The groups share nothing that
# could interfere: every test gets its own PostgreSQL database, the crash tests run private
# PostgreSQL and Redis servers, the browser tests use the embedded default, and sandboxes
# and cgroups are named per process. Usage: scripts/test-groups.sh PYTEST [ARGS...]
set -uo pipefail
pytest=$1
shift
SIDE=(tests/e2e tests/chaos tests/problems tests/fairplay tests/ops tests/rewards tests/storage)

side_log=$(mktemp)
"$pytest" -p no:cacheprovider "$@" "${SIDE[@]}" > "$side_log" 2>&1 &
side=$!
ignored=()
for group in "${SIDE[@]}"; do ignored+=("--ignore=$group"); done
"$pytest" "$@" "${ignored[@]}"
main_status=$?
wait "$side"
side_status=$?
echo
echo "=== ${SIDE[*]} (run at the same time) ==="
cat "$side_log"
rm -f "$side_log"
if [ "$main_status" -ne 0 ] || [ "$side_status" -ne 0 ]; then
    echo "test groups failed: main $main_status, ${SIDE[*]} $side_status" >&2
    exit 1
fi
