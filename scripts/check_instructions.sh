#!/usr/bin/env bash
# Instruction-count regression check: runs the gungraun benches (resampler, converter, VAD
# frame, executor hop) under valgrind's callgrind and compares their counts with
# bench/instructions/baseline.json (scripts/check_instructions.py). Fails when a count grows
# by more than the baseline's margin.
#
#   bash scripts/check_instructions.sh            # check
#   bash scripts/check_instructions.sh --update   # refresh the baseline on purpose
#
# Installs what it needs: valgrind (Debian package) and gungraun-runner at the version of the
# gungraun library in Cargo.lock (the two must match), built by `cargo install --locked` into
# target/gungraun-runner so that later runs reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"

if ! command -v valgrind >/dev/null; then
    echo "== installing valgrind"
    apt-get update -qq
    apt-get install -y -qq valgrind >/dev/null
fi

version=$(awk '/^name = "gungraun"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [ -z "$version" ]; then
    echo "no gungraun in Cargo.lock" >&2
    exit 1
fi
runner_root="$target/gungraun-runner"
runner="$runner_root/bin/gungraun-runner"
if ! [ -x "$runner" ] || [ "$("$runner" --version)" != "gungraun-runner $version" ]; then
    echo "== installing gungraun-runner $version"
    # The runner only launches valgrind and parses its output: an unoptimised build is
    # plenty and compiles in half the time.
    CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_DEBUG=false \
        CARGO_TARGET_DIR="$target/gungraun-runner-build" \
        cargo install --quiet --locked --force gungraun-runner --version "$version" --root "$runner_root"
fi
export GUNGRAUN_RUNNER
GUNGRAUN_RUNNER="$(cd "$(dirname "$runner")" && pwd)/gungraun-runner"

echo "== instruction counts (callgrind)"
rm -rf "$target/gungraun"
for crate in remotemedia-audio remotemedia-core; do
    GUNGRAUN_SAVE_SUMMARY=json cargo bench --quiet --locked -p "$crate" --bench instructions
done
python3 scripts/check_instructions.py --summaries "$target/gungraun" "$@"
