#!/usr/bin/env python3
"""Times our resampler and format converters beside python-soxr and numpy, in one run.

Usage (from the repository root):
    python3 bench/resample/compare.py [--repeats N] [--no-build]

Our kernels, and rubato's tuned `Fft` for reference, are timed by the Rust example
`resample_bench` (built with
`cargo run --release`, CARGO_TARGET_DIR honoured, the repository's target/ by default), which
prints JSON; soxr (HQ, VHQ) and numpy are timed here, right after, on the same machine.
Figures are medians over the repeats. The machine is shared and noisy: read the ratios.
"""

import argparse
import json
import os
import subprocess
import sys
import time

try:
    import numpy as np
    import soxr
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "numpy", "soxr"], check=True)
    import numpy as np
    import soxr

PAIRS = [(44_100, 48_000), (48_000, 44_100), (16_000, 48_000), (8_000, 16_000), (96_000, 16_000), (44_100, 16_000)]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def median_us(fn, repeats):
    fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e6)
    ts.sort()
    return ts[len(ts) // 2]


def ours(repeats, build):
    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    cmd = [
        "cargo",
        "run",
        "--quiet",
        "--release",
        "-p",
        "remotemedia-audio",
        "--example",
        "resample_bench",
        "--",
        str(repeats),
    ]
    if not build:
        exe = os.path.join(env["CARGO_TARGET_DIR"], "release", "examples", "resample_bench")
        cmd = [exe, str(repeats)]
    out = subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def peers(repeats):
    r = {}
    t = np.arange(48_000) / 48_000
    x = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 3000 * t)).astype(np.float32)
    for q in ("HQ", "VHQ"):
        r[f"soxr_oneshot_{q}_us"] = median_us(lambda q=q: soxr.resample(x, 48_000, 16_000, q), repeats)

        def stream(q=q):
            s = soxr.ResampleStream(48_000, 16_000, 1, dtype="float32", quality=q)
            for i in range(0, len(x), 960):
                s.resample_chunk(x[i : i + 960])

        r[f"soxr_chunk20ms_{q}_us"] = median_us(stream, repeats) / (len(x) / 960)
    for fi, fo in PAIRS:
        tt = np.arange(fi) / fi
        xp = (0.3 * np.sin(2 * np.pi * 440 * tt) + 0.2 * np.sin(2 * np.pi * 3000 * tt)).astype(np.float32)
        r[f"soxr_pair_{fi}_{fo}_HQ_us"] = median_us(
            lambda xp=xp, fi=fi, fo=fo: soxr.resample(xp, fi, fo, "HQ"), repeats
        )
    n = 1 << 20
    rng = np.random.default_rng(0)
    a16 = rng.integers(-32768, 32767, n, dtype=np.int16)
    f = rng.random(n, dtype=np.float32) * 2 - 1
    dst_f = np.empty(n, np.float32)
    reps = max(repeats, 50)
    r["numpy_copy_f32_1m_us"] = median_us(lambda: np.copyto(dst_f, f), reps)
    r["numpy_i16_to_f32_1m_us"] = median_us(lambda: np.multiply(a16, 1 / 32768, dtype=np.float32), reps)
    lo, hi, scale = np.float32(-32768), np.float32(32767), np.float32(32768)

    def f32_to_i16():
        # The fastest numpy form found: in place, float32 bounds (Python-int bounds in
        # np.clip are 2-3x slower with numpy 2.x).
        t = f * scale
        np.rint(t, out=t)
        np.clip(t, lo, hi, out=t)
        return t.astype(np.int16)

    r["numpy_f32_to_i16_1m_us"] = median_us(f32_to_i16, reps)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--no-build", action="store_true", help="run the already built example binary")
    a = ap.parse_args()
    o = ours(a.repeats, not a.no_build)
    p = peers(a.repeats)
    rows = []
    for mode, unit in (("oneshot", "µs per 1 s of audio"), ("chunk20ms", "µs per 20 ms chunk")):
        for q in ("low", "medium", "high"):
            mine = o[f"resample_{mode}_{q}_us"]
            for peer in ("HQ", "VHQ"):
                theirs = p[f"soxr_{mode}_{peer}_us"]
                rows.append((f"48k->16k {mode} ({unit}): ours {q} vs soxr {peer}", mine, theirs))
    rows.append(
        (
            "48k->16k oneshot (µs per 1 s): ours high vs rubato 5.1 Fft chunk 960 (Rust)",
            o["resample_oneshot_high_us"],
            o["rubato_fft960_oneshot_us"],
        )
    )
    for fi, fo in PAIRS:
        rows.append(
            (
                f"{fi}->{fo} oneshot (µs per 1 s of input): ours high vs soxr HQ",
                o[f"pair_{fi}_{fo}_high_us"],
                p[f"soxr_pair_{fi}_{fo}_HQ_us"],
            )
        )
    for name in ("i16_to_f32", "f32_to_i16"):
        rows.append((f"{name} 1M samples (µs): ours vs numpy", o[f"{name}_1m_us"], p[f"numpy_{name}_1m_us"]))
        rows.append((f"{name} 1M samples (µs): ours vs our in-cache f32 copy", o[f"{name}_1m_us"], o["copy_f32_1m_us"]))
    rows.append(("i16_to_f32 vs f32_to_i16 (ours, µs)", o["f32_to_i16_1m_us"], o["i16_to_f32_1m_us"]))
    w = max(len(r[0]) for r in rows)
    print(f"{'comparison':<{w}}  {'ours':>9}  {'other':>9}  ours/other")
    for name, mine, theirs in rows:
        print(f"{name:<{w}}  {mine:9.1f}  {theirs:9.1f}  {mine / theirs:9.2f}")
    print()
    print(json.dumps({"ours": o, "peers": p}, indent=1))


if __name__ == "__main__":
    main()
