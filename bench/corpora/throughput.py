"""Corpus throughput of the speech-prep pipeline: hours of 48 kHz audio per second of wall time.

Makes (once, cached in the work directory) a corpus of --files mono 16-bit
48 kHz WAV files of --seconds each (speech-like bursts over noise), then
runs examples/speech_prep.json (decode -> resample to 16 kHz -> VAD -> 16-bit)
over it with, in the same run:

- `remotemedia batch --jobs 1` and `--jobs 2` (the CLI of the installed
  package: `python -m remotemedia`, the release build);
- `remotemedia.ray.process_files` with 2 actors on a local Ray instance
  (`ray.init(num_cpus=2)`, started before the clock runs; the actors are
  started inside the timing, as every job starts its own);
- a plain Python loop a user would write: each file read with the `wave`
  module and numpy, `asyncio.run(pipeline.run(...))`, written with `wave`.

Each is timed end to end (process start to exit for the CLI), best of
--repeat; the table gives wall seconds, hours of audio per second, the
speed against `batch --jobs 1`, the wall time per file (per worker: wall
x workers / files) and, where this process can see it, the CPU seconds
used (user + system: the CLI is a child process, the Python loop runs in
this one; Ray's actors are neither). Ray and `batch --jobs 2` are also
timed on 2 of the files, which gives each one's fixed cost (a job's start)
apart from its marginal cost per file (per worker: (wall on all - wall on
2) x 2 / (files - 2)); the difference of the marginal costs is what Ray
adds per file. The machine may be shared: the CPU seconds say what the
work costs, the wall what it took.

Usage from the repository root, with the venv the package (and Ray) is
installed in:
    python bench/corpora/throughput.py [--workdir target/bench-corpora] [--files 32] [--seconds 120] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import subprocess
import sys
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "examples" / "speech_prep.json"
RATE = 48_000


def make_corpus(workdir: Path, files: int, seconds: int) -> Path:
    corpus = workdir / f"corpus_{files}x{seconds}s"
    if corpus.is_dir() and len(list(corpus.rglob("*.wav"))) == files:
        return corpus
    shutil.rmtree(corpus, ignore_errors=True)
    rng = np.random.default_rng(7)
    n = seconds * RATE
    t = np.arange(n) / RATE
    for i in range(files):
        f0 = 120 + 15 * i % 80 + 20 * np.sin(2 * np.pi * 2.5 * t)
        phase = 2 * np.pi * np.cumsum(f0) / RATE
        voiced = sum(np.sin(k * phase) / k for k in range(1, 10))
        # Speech for about 2 of every 3 seconds, syllable-rate modulated.
        envelope = 0.5 * (1 + np.sin(2 * np.pi * 4 * t)) * ((t + i * 0.37) % 3.0 < 2.0)
        x = 0.2 * voiced * envelope + 0.002 * rng.standard_normal(n)
        path = corpus / f"speaker{i % 4}" / f"take{i:03d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    return corpus


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(fn: Callable[[Path], None], out: Path, repeat: int) -> tuple[float, float]:
    """Best wall seconds of `repeat` runs, and the CPU seconds of that run."""
    best = (float("inf"), 0.0)
    for _ in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        cpu, started = cpu_seconds(), time.perf_counter()
        fn(out)
        wall = time.perf_counter() - started
        best = min(best, (wall, cpu_seconds() - cpu))
    return best


def batch(corpus: Path, jobs: int) -> Callable[[Path], None]:
    def go(out: Path) -> None:
        cmd = [sys.executable, "-m", "remotemedia", "batch", str(MANIFEST), "-i", str(corpus), "-o", str(out)]
        done = subprocess.run([*cmd, "--jobs", str(jobs)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"batch failed: {done.stderr}")

    return go


def ray_actors(corpus: Path, actors: int) -> Callable[[Path], None]:
    from remotemedia.ray import process_files

    def go(out: Path) -> None:
        summary = process_files(MANIFEST, corpus, out, concurrency=actors)
        if summary["failed"]:
            raise SystemExit(f"ray: {summary}")

    return go


def python_loop(corpus: Path) -> Callable[[Path], None]:
    from remotemedia import Pipeline

    pipeline = Pipeline.from_manifest(MANIFEST)

    def go(out: Path) -> None:
        for path in sorted(corpus.rglob("*.wav")):
            with wave.open(str(path)) as r:
                rate = r.getframerate()
                samples = np.frombuffer(r.readframes(r.getnframes()), dtype="<i2")
            pcm, out_rate, _info = asyncio.run(pipeline.run((samples, rate)))
            target = out / path.relative_to(corpus)
            target.parent.mkdir(parents=True, exist_ok=True)
            with wave.open(str(target), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(out_rate)
                w.writeframes(np.ascontiguousarray(pcm, dtype="<i2").tobytes())

    return go


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / "target" / "bench-corpora")
    parser.add_argument("--files", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import ray

    corpus = make_corpus(args.workdir, args.files, args.seconds)
    hours = args.files * args.seconds / 3600
    print(f"corpus: {args.files} files x {args.seconds} s of 48 kHz mono 16-bit WAV = {hours:.3f} h", flush=True)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    peers: list[tuple[str, int, Callable[[Path], None]]] = [
        ("remotemedia batch --jobs 1", 1, batch(corpus, 1)),
        ("remotemedia batch --jobs 2", 2, batch(corpus, 2)),
        ("remotemedia.ray, 2 actors", 2, ray_actors(corpus, 2)),
        ("Python loop over pipeline.run", 1, python_loop(corpus)),
    ]
    results = []
    for name, workers, fn in peers:
        wall, cpu = timed(fn, args.workdir / "out", args.repeat)
        results.append((name, workers, wall, cpu))
        print(f"  {name}: {wall:.2f} s wall, {cpu:.2f} s CPU", flush=True)
    two = args.workdir / "two"
    shutil.rmtree(two, ignore_errors=True)
    two.mkdir(parents=True)
    for path in sorted(corpus.rglob("*.wav"))[:2]:
        shutil.copy(path, two / path.name)
    small = {}
    for name, fn in [("batch --jobs 2", batch(two, 2)), ("ray", ray_actors(two, 2))]:
        small[name], _ = timed(fn, args.workdir / "out", args.repeat)
        print(f"  {name} on 2 files: {small[name]:.2f} s", flush=True)
    ray.shutdown()
    marginal = {
        name: (results[i][2] - small[name]) * 2 / (args.files - 2) * 1000
        for i, name in [(1, "batch --jobs 2"), (2, "ray")]
    }

    base = results[0][2]
    print()
    print("| run | wall s | audio h per s of wall | vs batch --jobs 1 | wall per file per worker | CPU s |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, workers, wall, cpu in results:
        per_file = wall * workers / args.files * 1000
        shown = f"{cpu:.2f}" if "ray" not in name else "n/a"
        print(f"| {name} | {wall:.2f} | {hours / wall:.3f} | {base / wall:.2f}x | {per_file:.0f} ms | {shown} |")
    print()
    print(
        json.dumps(
            {
                "files": args.files,
                "seconds_per_file": args.seconds,
                "audio_hours": hours,
                "wall_s": {name: wall for name, _, wall, _ in results},
                "cpu_s": {name: cpu for name, _, _, cpu in results},
                "wall_on_2_files_s": small,
                "marginal_ms_per_file_per_worker": marginal,
                "ray_overhead_per_file_ms": marginal["ray"] - marginal["batch --jobs 2"],
            }
        )
    )


if __name__ == "__main__":
    main()
