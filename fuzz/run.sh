#!/usr/bin/env bash
# Bounded run of every fuzz target, one after the other (one fuzz process
# at a time). Each target starts from its corpus (fuzz/corpus/<target>,
# kept between runs, gitignored) plus the seeds in fuzz/seeds/<target>.
#
#   fuzz/run.sh                      every target, 60 s each
#   FUZZ_SECONDS=300 fuzz/run.sh     5 minutes each
#   fuzz/run.sh wav_reader           only the targets named
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). On a stable toolchain the
# nightly-only flags are allowed with RUSTC_BOOTSTRAP=1, set here.
# Exits non-zero if a target crashes; the input is saved in
# fuzz/artifacts/<target>/ (replay: cargo fuzz run <target> <file>).
set -euo pipefail

cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-60}"
export RUSTC_BOOTSTRAP=1

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

status=0
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    corpora=("corpus/$target")
    if [ -d "seeds/$target" ]; then
        corpora+=("seeds/$target")
    fi
    echo "=== $target: ${seconds}s"
    if ! cargo fuzz run --debug-assertions "$target" "${corpora[@]}" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1; then
        echo "=== $target: FAILED (see fuzz/artifacts/$target/)"
        status=1
    fi
done
exit "$status"
