#!/usr/bin/env bash
# One 20 ms chunk's round trip (48 kHz -> resample to 16 kHz -> VAD), p50/p99:
# in process, through `remotemedia serve` over loopback, and through a
# minimal Python grpcio server doing the same work (the older SDK's Python
# service path), all in one run. Usage: bash bench/remote/run.sh [chunks]
set -euo pipefail
cd "$(dirname "$0")/../.."
chunks="${1:-3000}"
venv=target/grpc-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet grpcio grpcio-tools numpy scipy
fi
cargo build --release --quiet -p remotemedia-remote --example roundtrip
log=$(mktemp)
"$venv/bin/python" bench/remote/python_grpc_server.py 2>"$log" &
py=$!
trap 'kill "$py" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
addr=$(sed -n 's/^listening on //p' "$log")
nice -n 10 target/release/examples/roundtrip "$chunks" "$addr"
