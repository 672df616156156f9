#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60), two at a time (one per
# core), seeded from seeds/<target>/, and prints each target's final
# libFuzzer stats. Needs cargo-fuzz (`cargo install cargo-fuzz`); only the
# stable toolchain is installed here, hence RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O
targets=$(cargo fuzz list)
mkdir -p logs
run() {
    local t=$1
    mkdir -p "corpus/$t"
    cargo fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"logs/$t.log" 2>&1
}
set -- $targets
while [ $# -gt 0 ]; do
    run "$1" & a=$!
    b=
    if [ $# -gt 1 ]; then run "$2" & b=$!; fi
    wait $a; [ -z "$b" ] || wait $b
    shift; [ $# -gt 0 ] && shift
done
for t in $targets; do
    execs=$(grep -m1 'stat::number_of_executed_units' "logs/$t.log" | awk '{print $2}')
    cov=$(grep -E '^#[0-9]+' "logs/$t.log" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)
    printf '%-14s %12s execs  %s\n' "$t" "${execs:-?}" "$cov"
done
