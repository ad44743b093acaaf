#!/usr/bin/env bash
# fuzz/run_fuzzer.sh: run one libFuzzer target for a bounded time from its
# seed corpora (CTest's fuzz.* tests). Fails on a crash, a sanitizer report,
# a broken invariant, a leak, a timeout or running out of memory; the input
# that did it is kept in ARTIFACTS/ and printed as a reproduction command.
#
#   run_fuzzer.sh FUZZER SECONDS ARTIFACTS SEED_DIR...
set -euo pipefail
FUZZER=$1 SECONDS_=$2 ARTIFACTS=$3
shift 3
mkdir -p "$ARTIFACTS"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
SEEDS=()
for d in "$@"; do
  [ -d "$d" ] || { echo "run_fuzzer: no seed directory $d" >&2; exit 1; }
  SEEDS+=("$d")
done
NAME=$(basename "$FUZZER")
# New inputs go into WORK (the first corpus directory); seeds stay untouched.
RC=0
"$FUZZER" -max_total_time="$SECONDS_" -timeout=10 -rss_limit_mb=2048 \
  -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$ARTIFACTS/$NAME-" "$WORK" "${SEEDS[@]}" \
  >"$WORK.log" 2>&1 || RC=$?
grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$WORK.log" || true
if [ "$RC" -ne 0 ]; then
  tail -60 "$WORK.log" >&2
  echo "run_fuzzer: $NAME FAILED (exit $RC); reproduce with:" >&2
  ls "$ARTIFACTS"/"$NAME"-* 2>/dev/null | sed "s|^|  $FUZZER |" >&2
  rm -f "$WORK.log"
  exit 1
fi
echo "run_fuzzer: $NAME OK: $(grep -c . <(ls "$WORK")) new inputs in ${SECONDS_} s"
rm -f "$WORK.log"
