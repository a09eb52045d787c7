#!/usr/bin/env bash
# Runs ../shared/tools/resample_quality.py on our resampler for every quality (48 -> 16 kHz,
# one call on the whole clip), on `high` streamed in 961-frame chunks, and on `high` for
# 96 -> 16 kHz; then on soxr HQ and VHQ through the same tool.
# Usage from the repository root: bash bench/resample/quality.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
tool="${RESAMPLE_QUALITY_TOOL:-$root/../shared/tools/resample_quality.py}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
python3 -c "import numpy" 2>/dev/null || python3 -m pip install -q numpy
(cd "$root" && cargo build --quiet --release -p remotemedia-audio --example resample_file)
bin="$CARGO_TARGET_DIR/release/examples/resample_file"
args=()
for q in low medium high; do
    args+=(--cmd "$bin 48000 16000 $q {inp} {out}" --name "ours $q")
done
args+=(--cmd "$bin 48000 16000 high {inp} {out} 961" --name "ours high, 961-frame chunks")
python3 "$tool" "${args[@]}" --table
python3 "$tool" --fs-in 96000 --fs-out 16000 --cmd "$bin 96000 16000 high {inp} {out}" --name "ours high 96k->16k"
# soxr HQ and VHQ through the same tool, for the comparison (python-soxr, installed if missing).
python3 -c "import soxr" 2>/dev/null || python3 -m pip install -q soxr
python3 - "$tool" <<'PY'
import os, sys
sys.path.insert(0, os.path.dirname(sys.argv[1]))
import soxr
from resample_quality import SUMMARY_HEADER, analyze, summary_row
print(SUMMARY_HEADER)
for q in ("HQ", "VHQ"):
    res = analyze(lambda x, q=q: soxr.resample(x, 48000, 16000, q), 48000, 16000)
    print(summary_row(f"soxr {q} {soxr.__version__}", res))
PY
