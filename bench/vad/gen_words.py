"""A development family of recorded human speech: single words, letters and syllables.

Reproduce: apt-get install -y ktuberling-data klettres-data ffmpeg sox
           python3 bench/vad/gen_words.py   # ~2 min, bench/vad/data_words/ (gitignored)
           python3 bench/vad/report.py --data bench/vad/data_words --split words_dev --only-ours

The other development families speak synthetic sentences; here real people (the word recordings of
KTuberling in 15 languages, the letters and syllables of KLettres in 20 language sets) say one word at a
time, with 0.3-2.5 s pauses, which is how a voice agent hears "yes", "stop" or a name. For
choosing settings only (no test split): it checks that a detector does not need a sentence's
worth of speech before it believes it. The recordings' own noise floor is gated away (cells
more than 35 dB under the word's loudest are zeroed) and the rest labelled speech, joined
across gaps under 200 ms as in `gen_real.py`, whose noise makers and channel this reuses.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import gen_real as real
import numpy as np

SOURCES = [Path("/usr/share/ktuberling/sounds"), Path("/usr/share/klettres")]
# name: (noise kind or None, SNR dB, active speech level dBFS)
CONDITIONS: dict[str, tuple[str | None, float, float]] = {
    "clean": (None, 0.0, -26.0),
    "quiet_-42dBFS": (None, 0.0, -42.0),
    "pink_5dB": ("pink", 5.0, -26.0),
    "office_10dB": ("office", 10.0, -26.0),
    "music_5dB": ("music", 5.0, -26.0),
    "traffic_5dB": ("traffic", 5.0, -26.0),
    "typing_10dB": ("typing", 10.0, -26.0),
    "hvac_10dB": ("hvac", 10.0, -26.0),
}
GATE = 10 ** (-35 / 10)


def talkers() -> list[list[Path]]:
    """Recordings grouped by package and language (one group per speaker, as far as the
    packages tell)."""
    groups = []
    for root in SOURCES:
        for lang in sorted(p for p in root.iterdir() if p.is_dir()):
            files = sorted(lang.rglob("*.ogg"))
            if len(files) >= 10:
                groups.append(files)
    if not groups:
        raise SystemExit("no recordings: apt-get install -y ktuberling-data klettres-data")
    return groups


def decode(path: Path, tmp: Path) -> np.ndarray:
    """16 kHz mono float samples of an audio file (ffmpeg)."""
    wav = tmp / "w.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(path), "-ac", "1", "-ar", str(real.RATE), str(wav)], check=True
    )
    return real.load(wav)


def gated_word(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The word with its cells more than 35 dB under the loudest zeroed, and its cell labels."""
    x = x[: len(x) // real.CELL * real.CELL]
    p = real.cell_power(x)
    keep = p > p.max() * GATE
    return x * np.repeat(keep, real.CELL), keep.astype(np.int8)


def clip(words: list[np.ndarray], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """4-9 words of one talker with 0.3-2.5 s pauses; (dry, labels)."""
    pieces = [np.zeros(int(rng.uniform(0.5, 1.2) * real.RATE) // real.CELL * real.CELL)]
    labs = [np.zeros(len(pieces[0]) // real.CELL, dtype=np.int8)]
    for _ in range(int(rng.integers(4, 10))):
        w, lab = gated_word(words[int(rng.integers(len(words)))])
        pause = np.zeros(int(rng.uniform(0.3, 2.5) * real.RATE) // real.CELL * real.CELL)
        pieces += [w, pause]
        labs += [lab, np.zeros(len(pause) // real.CELL, dtype=np.int8)]
    return np.concatenate(pieces), real.bridge(np.concatenate(labs), 20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "data_words")
    ap.add_argument("--files", type=int, default=10, help="clips per condition")
    args = ap.parse_args()
    rng = np.random.default_rng(7373)
    groups = talkers()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        # The office's far chatter: gen_real's synthetic talkers of its dev split.
        chat = real.sentence_pool("real_dev", tmp, rng)
        for i in range(args.files):
            group = groups[int(rng.integers(len(groups)))]
            picks = rng.choice(len(group), size=min(12, len(group)), replace=False)
            words = [decode(group[int(k)], tmp) for k in picks]
            dry, lab = clip(words, rng)
            active = np.sqrt(np.mean(real.cell_power(dry)[lab.astype(bool)]))
            for name, (kind, snr, level) in CONDITIONS.items():
                x = dry * (10 ** (level / 20) / active)
                if kind is not None:
                    x = x + real.noise(kind, rng, len(x), chat, tmp) * 10 ** ((level - snr) / 20)
                rel = f"words_dev/{name}/{i:02d}.wav"
                real.save(args.out / rel, x)
                rows.append({"split": "words_dev", "condition": name, "wav": rel, "labels": lab.tolist()})
    (args.out / "manifest.json").write_text(json.dumps(rows))
    print(f"wrote {len(rows)} clips to {args.out}")


if __name__ == "__main__":
    main()
