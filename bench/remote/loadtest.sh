#!/usr/bin/env bash
# The most live streams `loadtest --remote` holds over loopback (48 kHz,
# 20 ms chunks, resample to 16 kHz + VAD on the server) at p99 < 20 ms with
# nothing lost, beside the local loadtest at the same stream counts in the
# same run; and the server's resident memory per open stream.
#
# Usage: bash bench/remote/loadtest.sh [seconds] [streams...]
#   default: 10 s per step; 25 50 100 150 200 300 400 streams.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-10}"
shift || true
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(25 50 100 150 200 300 400)
cargo build --release --quiet -p remotemedia-cli
bin=target/release/remotemedia
log=$(mktemp)
server=
trap 'kill "$server" 2>/dev/null || true; rm -f "$log" "$log.remote"' EXIT
# A fresh server per step, so its resident memory starts from idle.
start_server() {
    "$bin" serve --bind 127.0.0.1:0 --max-sessions 10000 2>"$log" &
    server=$!
    for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
    addr=$(sed -n 's/^listening on //p' "$log")
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$server/status"; }
field() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(d.get(sys.argv[2]))" "$1" "$2"; }
printf '%8s | %-42s | %-30s | %s\n' streams "remote: p50 / p99 / max ms, lost, failovers" "local: p50 / p99 / max ms" "server RSS per stream"
best=0
for s in "${steps[@]}"; do
    start_server
    idle=$(rss_kib)
    "$bin" loadtest --streams "$s" --seconds "$seconds" --remote "$addr" >"$log.remote" &
    load=$!
    # Sample the server's RSS in the middle of the run, all streams open.
    sleep "$(python3 -c "print($seconds / 2 + 0.5)")"
    busy=$(rss_kib)
    wait "$load"
    kill "$server"
    wait "$server" 2>/dev/null || true
    remote=$(tail -n 1 "$log.remote")
    local=$(nice -n 10 "$bin" loadtest --streams "$s" --seconds "$seconds" | tail -n 1)
    per=$(python3 -c "print(f'{($busy - $idle) / $s:.1f} KiB')")
    printf '%8s | %6s / %6s / %6s, lost %s, failovers %s | %6s / %6s / %6s | %s\n' "$s" \
        "$(field "$remote" p50_ms)" "$(field "$remote" p99_ms)" "$(field "$remote" max_ms)" \
        "$(field "$remote" lost)" "$(field "$remote" failovers)" \
        "$(field "$local" p50_ms)" "$(field "$local" p99_ms)" "$(field "$local" max_ms)" "$per"
    ok=$(python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(int(d['p99_ms'] < 20 and d['lost'] == 0 and d['errors'] == 0))" "$remote")
    if [ "$ok" = 1 ]; then best=$s; fi
done
echo "most streams held over loopback at p99 < 20 ms with 0 lost: $best"
