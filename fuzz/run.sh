#!/usr/bin/env bash
# Run every fuzz target for a bounded time: fuzz/run.sh [SECONDS] [JOBS] [TARGET...]
#   SECONDS  per target (default: $FUZZ_SECONDS or 300)
#   JOBS     targets run at once (default: $FUZZ_JOBS or 1)
# Seeds: fuzz/corpus/<target> (committed, read only); what libFuzzer finds
# goes to fuzz/work/<target>; crashes to fuzz/artifacts/<target>/ (copy them
# to fuzz/regressions/<target>/ to keep them). Prints executions per target
# and exits 1 if any target crashed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
secs="${1:-${FUZZ_SECONDS:-300}}"
jobs="${2:-${FUZZ_JOBS:-1}}"
shift $(( $# > 2 ? 2 : $# ))
targets=("$@")
if (( ${#targets[@]} == 0 )); then
    targets=(decode roundtrip session iotda_topic ffi)
fi
if ! cargo +nightly fuzz --help >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz (crates.io)" >&2
    cargo install --locked cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz
fi
# -O: optimised, with debug assertions (overflow checks). Sanitizer: ASan by
# default; FUZZ_SANITIZER=none is several times faster and enough for the
# targets over mqtt-core/iotda, which forbid unsafe code (not for ffi).
san="${FUZZ_SANITIZER:-address}"
cargo +nightly fuzz build -O -s "$san" >/dev/null 2>logs-build.txt || { cat logs-build.txt >&2; exit 1; }
rm -f logs-build.txt
mkdir -p logs
run_one() {
    local t="$1"
    mkdir -p "work/$t" "artifacts/$t"
    local log="logs/$t.log"
    local rc=0
    cargo +nightly fuzz run -O -s "$san" "$t" "work/$t" "corpus/$t" -- \
        -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=1024 \
        -artifact_prefix="artifacts/$t/" -max_len=4096 >"$log" 2>&1 || rc=$?
    local execs
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    if (( rc != 0 )); then
        echo "fuzz $t: CRASH after ${execs:-?} executions (rc $rc); see fuzz/$log and fuzz/artifacts/$t/"
        grep -m5 -E 'panicked|ERROR: AddressSanitizer|SUMMARY|Test unit written' "$log" | sed 's/^/    /'
        return 1
    fi
    echo "fuzz $t: ${execs:-?} executions in ${secs} s, no crash"
}
fail=0
pids=()
for t in "${targets[@]}"; do
    run_one "$t" &
    pids+=($!)
    if (( ${#pids[@]} >= jobs )); then
        wait "${pids[0]}" || fail=1
        pids=("${pids[@]:1}")
    fi
done
for p in "${pids[@]}"; do
    wait "$p" || fail=1
done
exit $fail
