#!/usr/bin/env bash
# Runs every fuzz target for a fixed number of executions in release mode (default 10^6 each)
# and prints one line per target: executions, crashes, seconds, executions per second.
# A crash fails the run and leaves the input under target/fuzz-crashes/.
#   scripts/fuzz.sh                 # 1,000,000 executions per target
#   KGSIM_FUZZ_EXECS=100000 scripts/fuzz.sh
#   KGSIM_FUZZ_SEED=7 scripts/fuzz.sh   # other mutations
set -euo pipefail
cd "$(dirname "$0")/.."
export KGSIM_FUZZ_EXECS="${KGSIM_FUZZ_EXECS:-1000000}"
cargo test --release --locked --test fuzz -- --nocapture --test-threads=1 \
    --skip the_harness_catches_a_planted_panic 2>&1 | grep -oE 'fuzz [a-z_0-9]+: .*|panicked.*|test result.*'
