#!/usr/bin/env bash
# npm test's two suites side by side: the trainer's (pytest) and the runner's (vitest). Most of
# either is a child process importing torch or a test waiting on one, so on a 2-core machine one
# suite at a time leaves a core idle much of the time. pytest runs at a lower priority (nice 5):
# the vitest suite is the longer one, and pytest's work then fills the time vitest's workers spend
# waiting, most of all at its end, instead of finishing first and leaving vitest alone. pytest's
# output is kept in a file and printed whole once both have finished; the exit status is the first
# failure's.
set -uo pipefail
cd "$(dirname "$0")/.."
log="$(mktemp -t tunegrid-pytest.XXXXXX)"
trap 'rm -f "$log"' EXIT
nice -n 5 trainer/.venv/bin/python -m pytest -q trainer/tests >"$log" 2>&1 &
py=$!
echo "trainer tests (pytest) running beside the runner's; their output follows the runner's" >&2
vitest run test/
ts=$?
wait "$py"
pyrc=$?
echo
echo "── trainer tests: python -m pytest -q trainer/tests (exit $pyrc) ──"
cat "$log"
[ "$ts" -ne 0 ] && exit "$ts"
exit "$pyrc"
