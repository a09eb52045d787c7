#!/usr/bin/env bash
# Runs bench/resample/quality.py on our resampler for every quality (48 -> 16 kHz, one call
# on the whole clip), on `high` streamed in 961-frame chunks, and on `high` for 96 -> 16 kHz;
# then on soxr HQ and VHQ through the same measurements.
# Usage from the repository root: bash bench/resample/quality.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
tool="$root/bench/resample/quality.py"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
# numpy and python-soxr in a virtualenv under target/ (gitignored), made on first use.
venv="$CARGO_TARGET_DIR/quality-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import numpy, soxr" 2>/dev/null || "$venv/bin/python" -m pip install -q numpy soxr
py="$venv/bin/python"
(cd "$root" && cargo build --quiet --release -p remotemedia-audio --example resample_file)
bin="$CARGO_TARGET_DIR/release/examples/resample_file"
args=()
for q in low medium high; do
    args+=(--cmd "$bin 48000 16000 $q {inp} {out}" --name "ours $q")
done
args+=(--cmd "$bin 48000 16000 high {inp} {out} 961" --name "ours high, 961-frame chunks")
"$py" "$tool" "${args[@]}"
"$py" "$tool" --fs-in 96000 --fs-out 16000 --cmd "$bin 96000 16000 high {inp} {out}" --name "ours high 96k->16k"
# soxr HQ and VHQ through the same measurements.
"$py" - "$tool" <<'PY'
import os, sys
sys.path.insert(0, os.path.dirname(sys.argv[1]))
import soxr
from quality import SUMMARY_HEADER, analyze, summary_row
print(SUMMARY_HEADER)
for q in ("HQ", "VHQ"):
    res = analyze(lambda x, q=q: soxr.resample(x.astype("float32"), 48000, 16000, q), 48000, 16000)
    print(summary_row(f"soxr {q} {soxr.__version__}", res))
PY
