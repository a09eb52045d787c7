"""Real recorded talkers for the `recorded` training group of `gen_data.py`.

Source: Debian's `tuxpaint-stamps-default` ships, beside each picture stamp, a volunteer's
spoken description of it (a word to a short sentence), one speaker per language as far as
the package tells. No evaluation family uses that package (they take KTuberling, KLettres,
Asterisk and the freedesktop sound theme). Every recording is decoded to `SR`, and its
own floor (10 ms cells more than `GATE_DB` under its loudest) is zeroed, so the label the
training group derives from the clean signal marks the voice, not the room it was recorded in.

Reproduce: apt-get install -y tuxpaint-stamps-default ffmpeg
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

SR = 16_000
CELL = SR // 100
STAMPS = Path("/usr/share/tuxpaint/stamps")
GATE_DB = 35.0
# A language needs this many descriptions to count as a talker (the smaller sets are a few
# stray files each).
MIN_RECORDINGS = 60


def talkers() -> list[list[Path]]:
    """Description recordings grouped by language (`name_desc_xx.ogg`; no suffix is English),
    languages with at least `MIN_RECORDINGS`, in a fixed order."""
    by_lang: dict[str, list[Path]] = {}
    for path in sorted(STAMPS.rglob("*_desc*.ogg")):
        suffix = path.name.split("_desc", 1)[1].removesuffix(".ogg")
        by_lang.setdefault(suffix.lstrip("_") or "en", []).append(path)
    groups = [files for _, files in sorted(by_lang.items()) if len(files) >= MIN_RECORDINGS]
    if not groups:
        raise SystemExit("no recorded talkers: apt-get install -y tuxpaint-stamps-default")
    return groups


def recording(path: Path) -> np.ndarray:
    """The recording at `SR`, mono, cut to whole cells, with its floor gated away."""
    pcm = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(SR), "-f", "s16le", "-"],
        check=True,
        capture_output=True,
    ).stdout
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0
    x = x[: len(x) // CELL * CELL]
    power = np.mean(x.reshape(-1, CELL) ** 2, axis=1)
    keep = power > power.max() * 10 ** (-GATE_DB / 10)
    return x * np.repeat(keep, CELL)
