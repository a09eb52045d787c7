#!/usr/bin/env bash
# Finds the largest number of live streams one engine holds in real time on
# this machine: p99 chunk latency under 10 ms and no stream falling behind.
#
#   bash bench/loadtest/max_streams.sh [SECONDS] [S1 S2 ...]
#
# Each step runs `remotemedia loadtest` (48 kHz, 20 ms chunks, resample to
# 16 kHz -> VAD -> sink) and prints its summary; the last line names the
# largest passing S. Run it on a quiet machine: other load eats the margin.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-10}"
shift || true
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(250 500 750 1000 1250 1500 2000)
cargo build --release -q -p remotemedia-cli
best=0
printf '%8s %8s %8s %8s %7s %7s %7s\n' streams p50_ms p99_ms max_ms behind cpu_% rss_mb
for s in "${steps[@]}"; do
    line=$(./target/release/remotemedia loadtest --streams "$s" --seconds "$seconds" | tail -n 1)
    read -r p50 p99 mx behind cpu rss dropped < <(python3 -c '
import json, sys
v = json.loads(sys.argv[1])
print(v["p50_ms"], v["p99_ms"], v["max_ms"], v["behind"], v["cpu_percent"], v["peak_rss_mb"], v["dropped"])
' "$line")
    printf '%8s %8s %8s %8s %7s %7s %7s\n' "$s" "$p50" "$p99" "$mx" "$behind" "$cpu" "$rss"
    if [ "$dropped" = 0 ] && [ "$behind" = 0 ] && python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 10 else 1)" "$p99"; then
        best=$s
    fi
done
echo "largest S with p99 < 10 ms and none behind: $best"
