"""Decoding speed of a one-hour MP3 and FLAC: ours against ffmpeg, soundfile and PyAV.

Makes (once, cached in the work directory) one hour of 44.1 kHz stereo: a
tone that wanders in pitch, pink noise and a syllable-rate modulated band (a
rough stand-in for speech), encoded by ffmpeg as MP3 (libmp3lame 128 kb/s),
and that MP3's audio as 16-bit FLAC. Each decoder reads the whole file to f32 samples, in the same run,
best of --repeat; the table gives seconds, times real time and the ratio of
each peer's time to ours (above 1: we are faster). Then the speech-prep
pipeline runs on the MP3 through `remotemedia run` and its real-time factor
is printed.

Usage from the repository root (installs soundfile and av into the venv it
is run with if missing):
    python3 bench/media/decode_speed.py [--workdir target/bench-media] [--seconds 3600]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def ensure(module: str, package: str) -> None:
    try:
        __import__(module)
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True)


def make_media(workdir: Path, seconds: int) -> tuple[Path, Path]:
    workdir.mkdir(parents=True, exist_ok=True)
    mp3, flac = workdir / f"mix_{seconds}s.mp3", workdir / f"mix_{seconds}s.flac"
    graph = (
        f"aevalsrc='0.3*sin(2*PI*(300+100*sin(0.05*t))*t)"
        f"+0.2*sin(2*PI*900*t)*(0.5+0.5*sin(2*PI*4*t))':s=44100:d={seconds}[tone];"
        f"anoisesrc=c=pink:a=0.05:r=44100:d={seconds}[noise];"
        "[tone][noise]amix=inputs=2:normalize=0,aformat=channel_layouts=stereo"
    )
    # The MP3 from the signal; the FLAC from the MP3's audio (generating the
    # signal is the slow part).
    for path, source, codec in (
        (mp3, ["-filter_complex", graph], ["-c:a", "libmp3lame", "-b:a", "128k"]),
        (flac, ["-i", str(mp3)], ["-c:a", "flac", "-sample_fmt", "s16"]),
    ):
        if not path.exists():
            tmp = path.with_suffix(".part" + path.suffix)
            subprocess.run(
                ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *source, *codec, str(tmp)],
                check=True,
            )
            tmp.rename(path)
    return mp3, flac


def best_of(repeat: int, fn: Callable[[], int]) -> tuple[float, int]:
    best, frames = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        frames = fn()
        best = min(best, time.perf_counter() - t0)
    return best, frames


def ours(binary: Path, path: Path) -> int:
    out = subprocess.run([str(binary), str(path)], check=True, capture_output=True, text=True).stdout
    return int(out.split()[0])


def ffmpeg(path: Path) -> int:
    proc = subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-threads", "1", "-i", str(path), "-f", "f32le", "-"],
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    total = 0
    while chunk := proc.stdout.read(1 << 20):
        total += len(chunk)
    assert proc.wait() == 0
    return total // 8


def soundfile_decode(path: Path) -> int:
    import soundfile

    frames = 0
    for block in soundfile.blocks(str(path), blocksize=65536, dtype="float32"):
        frames += len(block)
    return frames


def pyav_decode(path: Path) -> int:
    """Decodes to the codec's own sample format (float for MP3, s16 for FLAC)."""
    import av

    frames = 0
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            frame.to_ndarray()
            frames += frame.samples
    return frames


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", type=Path, default=ROOT / "target" / "bench-media")
    ap.add_argument("--seconds", type=int, default=3600)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    ensure("soundfile", "soundfile")
    ensure("av", "av")
    import av
    import soundfile

    subprocess.run(
        ["cargo", "build", "--quiet", "--release", "-p", "remotemedia-media", "--example", "decode_file"],
        cwd=ROOT,
        check=True,
    )
    subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "remotemedia-cli"], cwd=ROOT, check=True)
    target = ROOT / "target" / "release"
    mp3, flac = make_media(args.workdir, args.seconds)
    ffv = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split()[2]
    peers: list[tuple[str, Callable[[Path], int]]] = [
        ("remotemedia (symphonia 0.5)", lambda p: ours(target / "examples" / "decode_file", p)),
        (f"ffmpeg {ffv} -f f32le, 1 thread", ffmpeg),
        (f"soundfile {soundfile.__version__} (libsndfile {soundfile.__libsndfile_version__})", soundfile_decode),
        (f"PyAV {av.__version__}", pyav_decode),
    ]
    print(f"{args.seconds} s of 44.1 kHz stereo; best of {args.repeat}; ratio = peer time / ours")
    print("| file | decoder | frames | seconds | x real time | ratio |")
    print("|---|---|---:|---:|---:|---:|")
    for path in (mp3, flac):
        ours_s = None
        for name, fn in peers:
            try:
                secs, frames = best_of(args.repeat, lambda fn=fn, path=path: fn(path))
            except Exception as e:  # a peer that cannot read the format is reported, not fatal
                print(f"| {path.suffix[1:]} | {name} | failed: {e} | | | |")
                continue
            ours_s = ours_s or secs
            speed = args.seconds / secs
            print(f"| {path.suffix[1:]} | {name} | {frames} | {secs:.2f} | {speed:.0f} | {secs / ours_s:.2f} |")
    manifest = ROOT / "examples" / "speech_prep.json"
    out = args.workdir / "speech_prep_out.wav"
    t0 = time.perf_counter()
    subprocess.run(
        [str(target / "remotemedia"), "run", str(manifest), "--input", str(mp3), "--output", str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    secs = time.perf_counter() - t0
    print(
        f"speech-prep on the MP3 via `remotemedia run`: {secs:.1f} s for {args.seconds} s of audio, "
        f"real-time factor {secs / args.seconds:.4f} ({args.seconds / secs:.0f}x real time)"
    )


if __name__ == "__main__":
    main()
