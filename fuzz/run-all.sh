#!/bin/sh
# Build every fuzz target (nightly + sancov, no cargo-fuzz needed) and run
# each one in turn for RUNS executions on its corpus under corpus/<target>/,
# niced, one process at a time. Prints executions, exec/s and the result of
# every target; crashes land in artifacts/<target>/.
#
#   ./run-all.sh [RUNS] [TARGET...]      RUNS defaults to 10000000
#
# MAX_TOTAL_TIME (seconds, default none) caps each run's wall time.
set -eu
cd "$(dirname "$0")"
RUNS=${1:-10000000}
[ $# -gt 0 ] && shift
TARGETS=${*:-"icmp_reply_parser snmp_message discovery_tables config_toml mib_oid_text mib_module_text counter_rates web_params trap_decode icmp_trace_quote syslog_parse"}
TRIPLE=x86_64-unknown-linux-gnu
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions"

bins=""
for t in $TARGETS; do bins="$bins --bin $t"; done
# shellcheck disable=SC2086
nice -n 19 cargo +nightly build --release --target "$TRIPLE" $bins

status=0
for t in $TARGETS; do
    mkdir -p "corpus/$t" "artifacts/$t"
    extra=""
    [ -f "dicts/$t.dict" ] && extra="-dict=dicts/$t.dict"
    [ -n "${MAX_TOTAL_TIME:-}" ] && extra="$extra -max_total_time=$MAX_TOTAL_TIME"
    log="artifacts/$t.log"
    start=$(date +%s)
    set +e
    # shellcheck disable=SC2086
    nice -n 19 "target/$TRIPLE/release/$t" "corpus/$t" -runs="$RUNS" \
        -workers=1 -jobs=1 -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="artifacts/$t/" $extra \
        </dev/null >"$log" 2>&1
    rc=$?
    set -e
    secs=$(( $(date +%s) - start ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    if [ "$rc" -eq 0 ]; then result=ok; else result="FAILED rc=$rc (see $log)"; status=1; fi
    printf '%-20s executions=%s exec/s=%s wall=%ss %s\n' "$t" "${execs:-?}" "${rate:-?}" "$secs" "$result"
done
exit $status
