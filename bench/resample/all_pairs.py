#!/usr/bin/env python3
"""Our `high` resampler beside soxr HQ on every pair of common rates, in one run.

Usage (from the repository root, with remotemedia installed, e.g. `pip install .`):
    python3 bench/resample/all_pairs.py [--repeats N] [--rates 8000,16000,...] [--json FILE]

For every ordered pair of 8, 16, 22.05, 24, 32, 44.1, 48 and 96 kHz, mono and stereo:
- one-shot: 1 s of audio resampled in one call (ms per second of input), ours through
  `AudioResampleNode(quality="high")`, soxr through `soxr.resample(x, a, b, "HQ")`;
- streaming: the same second in 20 ms chunks through a stream (µs per chunk), ours with
  `stream=True`, soxr through `soxr.ResampleStream(..., quality="HQ")`; a new stream per
  repeat for both.
Both are called from Python on their native layouts (ours planar `(channels, frames)`,
soxr interleaved `(frames, channels)`), timed alternately, median over the repeats.

Quality (mono, one-shot; measured the same way for both):
- flat: largest |gain| in dB of tones from 2 % to 90 % of the lower Nyquist frequency;
- SNR: smallest tone-to-residual ratio (sine fit with free phase, edges trimmed) over
  those tones; the residual holds noise, distortion and, upsampling, imaging;
- alias (downsampling only): largest output power, relative to the input tone's, of tones
  from 1.0625x the output Nyquist frequency to 0.98x the input one.
The bar (issue 19): alias <= -130 dB, flat within 0.1 dB, SNR >= 120 dB, time below soxr.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np

try:
    import soxr
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "soxr"], check=True)
    import soxr

from remotemedia import AudioResampleNode

RATES = [8_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 96_000]
AMP = 0.5


def signal(rate: int, channels: int, seconds: float = 1.0) -> np.ndarray:
    """Two tones and a little noise per channel, planar float32 `(channels, frames)`."""
    n = int(rate * seconds)
    t = np.arange(n) / rate
    rng = np.random.default_rng(rate)
    rows = [
        0.3 * np.sin(2 * np.pi * (440 + 110 * c) * t) + 0.2 * np.sin(2 * np.pi * 0.21 * rate * t)
        for c in range(channels)
    ]
    return (np.array(rows) + 0.01 * rng.standard_normal((channels, n))).astype(np.float32)


def median_time(fn: Callable[[], object], repeats: int) -> float:
    fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return sorted(ts)[len(ts) // 2]


def timings(a: int, b: int, channels: int, repeats: int) -> dict[str, float]:
    x = signal(a, channels)
    xi = np.ascontiguousarray(x.T) if channels > 1 else x[0]
    ours = AudioResampleNode(target_sample_rate=b, quality="high")
    chunk = a // 50
    chunks = [x[:, i : i + chunk] for i in range(0, x.shape[1], chunk)]
    ichunks = [xi[i : i + chunk] for i in range(0, xi.shape[0], chunk)]

    def ours_stream() -> None:
        node = AudioResampleNode(target_sample_rate=b, quality="high", stream=True)
        for c in chunks:
            node.process((c, a))

    def soxr_stream() -> None:
        s = soxr.ResampleStream(a, b, channels, dtype="float32", quality="HQ")
        for c in ichunks:
            s.resample_chunk(c)

    r = {
        "ours_oneshot_ms": 1e3 * median_time(lambda: ours.process((x, a)), repeats),
        "soxr_oneshot_ms": 1e3 * median_time(lambda: soxr.resample(xi, a, b, "HQ"), repeats),
        "ours_chunk_us": 1e6 * median_time(ours_stream, repeats) / len(chunks),
        "soxr_chunk_us": 1e6 * median_time(soxr_stream, repeats) / len(ichunks),
    }
    return r


def tone_fit(y: np.ndarray, f: float, rate: int) -> tuple[float, float]:
    """Amplitude of the best-fitting sine at `f` and the residual's power."""
    n = np.arange(len(y))
    w = 2 * np.pi * f * n / rate
    basis = np.stack([np.sin(w), np.cos(w), np.ones_like(w)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
    residual = y - basis @ coef
    return float(np.hypot(coef[0], coef[1])), float(np.mean(residual**2))


def quality(fn: Callable[[np.ndarray], np.ndarray], a: int, b: int) -> dict[str, float]:
    nyq = min(a, b) / 2
    n = a // 2
    trim = slice(int(0.1 * b / 2), int(0.9 * b / 2))
    worst_gain, worst_snr = 0.0, np.inf
    for frac in np.linspace(0.02, 0.9, 12):
        f = frac * nyq
        x = (AMP * np.sin(2 * np.pi * f * np.arange(n) / a)).astype(np.float32)
        y = np.asarray(fn(x), dtype=np.float64)[trim]
        amp, noise = tone_fit(y, f, b)
        worst_gain = max(worst_gain, abs(20 * np.log10(amp / AMP)))
        worst_snr = min(worst_snr, 10 * np.log10(amp**2 / 2 / max(noise, 1e-30)))
    worst_alias = -np.inf
    if b < a:
        for f in np.linspace(1.0625 * b / 2, 0.98 * a / 2, 8) + 7:
            x = (AMP * np.sin(2 * np.pi * f * np.arange(n) / a)).astype(np.float32)
            y = np.asarray(fn(x), dtype=np.float64)[trim]
            worst_alias = max(worst_alias, 10 * np.log10(max(np.mean(y**2), 1e-30) / (AMP**2 / 2)))
    return {"flat_db": worst_gain, "snr_db": worst_snr, "alias_db": worst_alias}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--rates", default=",".join(map(str, RATES)))
    ap.add_argument("--json", help="also write every figure to this file")
    args = ap.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    rows = []
    for a in rates:
        for b in rates:
            if a == b:
                continue
            node = AudioResampleNode(target_sample_rate=b, quality="high")
            q_ours = quality(lambda x, node=node, a=a: node.process((x, a))[0], a, b)
            q_soxr = quality(lambda x, a=a, b=b: soxr.resample(x, a, b, "HQ"), a, b)
            for channels in (1, 2):
                t = timings(a, b, channels, args.repeats)
                rows.append({"in": a, "out": b, "channels": channels, **t, "ours_q": q_ours, "soxr_q": q_soxr})
                print(f"{a}->{b} x{channels}: {json.dumps(t)}", file=sys.stderr)
    print(
        "| pair (kHz) | ch | one-shot ms/s ours / soxr HQ | ratio | 20 ms chunk µs ours / soxr HQ | ratio "
        "| flat dB ours / soxr | SNR dB ours / soxr | alias dB ours / soxr |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        oq, sq = r["ours_q"], r["soxr_q"]
        alias = "-" if r["out"] > r["in"] else f"{oq['alias_db']:.0f} / {sq['alias_db']:.0f}"
        print(
            f"| {r['in'] / 1000:g} -> {r['out'] / 1000:g} | {r['channels']} "
            f"| {r['ours_oneshot_ms']:.3f} / {r['soxr_oneshot_ms']:.3f} "
            f"| {r['ours_oneshot_ms'] / r['soxr_oneshot_ms']:.2f} "
            f"| {r['ours_chunk_us']:.1f} / {r['soxr_chunk_us']:.1f} | {r['ours_chunk_us'] / r['soxr_chunk_us']:.2f} "
            f"| {oq['flat_db']:.3f} / {sq['flat_db']:.3f} | {oq['snr_db']:.0f} / {sq['snr_db']:.0f} | {alias} |"
        )
    slower = [r for r in rows if r["ours_oneshot_ms"] > r["soxr_oneshot_ms"] or r["ours_chunk_us"] > r["soxr_chunk_us"]]
    print(f"\n{len(rows) - len(slower)} of {len(rows)} cases faster than soxr HQ both one-shot and streaming")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
