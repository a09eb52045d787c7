#!/usr/bin/env python3
"""Writes the fuzz seeds into fuzz/seeds/: tiny WAV files of every format the
reader accepts (and a few it refuses) plus the example manifests.

Usage: fuzz/make_seeds.py   (run from anywhere; rewrites fuzz/seeds/)
"""

import math
import shutil
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEEDS = HERE / "seeds"
EXAMPLES = HERE.parent / "examples"


def wav(bits, channels, frames, rate=8000, float_=False, extensible=False, cut=0):
    """A RIFF/WAVE file holding a short sine; `cut` drops bytes off the end
    without fixing the header (a truncated file)."""
    block = channels * bits // 8
    data = bytearray()
    for f in range(frames):
        for c in range(channels):
            x = math.sin(2 * math.pi * 440 * f / rate + c) * 0.5
            if float_:
                data += struct.pack("<f", x)
            elif bits == 8:
                data += struct.pack("<B", int(x * 127) + 128)
            elif bits == 16:
                data += struct.pack("<h", int(x * 32767))
            elif bits == 24:
                data += struct.pack("<i", int(x * 8388607))[:3]
            else:
                data += struct.pack("<i", int(x * 2147483647))
    tag = 3 if float_ else 1
    if extensible:
        guid = struct.pack("<H", tag) + bytes.fromhex("000000001000800000aa00389b71")
        fmt = struct.pack("<HHIIHHHHI", 0xFFFE, channels, rate, rate * block, block, bits, 22, bits, 0) + guid
    else:
        fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    out = b"RIFF" + struct.pack("<I", len(body)) + body
    return out[: len(out) - cut] if cut else out


def main():
    if SEEDS.exists():
        shutil.rmtree(SEEDS)
    for target in ("wav_reader", "manifest_text"):
        (SEEDS / target).mkdir(parents=True)
    w = SEEDS / "wav_reader"
    for bits in (8, 16, 24, 32):
        for channels in (1, 2):
            (w / f"int{bits}_{channels}ch.wav").write_bytes(wav(bits, channels, 9))
    (w / "float32_1ch.wav").write_bytes(wav(32, 1, 9, float_=True))
    (w / "float32_2ch.wav").write_bytes(wav(32, 2, 9, float_=True))
    (w / "extensible_int24_2ch.wav").write_bytes(wav(24, 2, 9, extensible=True))
    (w / "extensible_float32_1ch.wav").write_bytes(wav(32, 1, 9, float_=True, extensible=True))
    (w / "truncated_int16_2ch.wav").write_bytes(wav(16, 2, 9, cut=5))
    (w / "empty_data_int16.wav").write_bytes(wav(16, 1, 0))
    (w / "rate48k_int16_1ch.wav").write_bytes(wav(16, 1, 4, rate=48000))
    (w / "unsupported_float64.wav").write_bytes(wav(64, 1, 2, float_=True))
    m = SEEDS / "manifest_text"
    for example in sorted(EXAMPLES.glob("*.json")) + sorted(EXAMPLES.glob("*.yaml")):
        shutil.copy(example, m / example.name)
    (m / "cycle.json").write_text(
        '{"version": "v1", "nodes": [{"id": "a", "node_type": "PassThroughNode"},'
        ' {"id": "b", "node_type": "AddNode", "params": {"addend": 1}}],'
        ' "connections": [{"from": "a", "to": "b"}, {"from": "b", "to": "a"}]}\n'
    )
    (m / "resilience.yaml").write_text(
        "version: v1\nnodes:\n  - id: x\n    node_type: MultiplyNode\n    params: {factor: 2}\n"
        "    runtime_hint: rust\n    timeout_ms: 100\n    on_failure: passthrough\n"
        "    retry: {max_retries: 1, multiplier: 1.5}\n    circuit_breaker: {failure_threshold: 2}\n"
    )


if __name__ == "__main__":
    main()
