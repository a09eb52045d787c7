"""Train the speech detector's MLP on features of the generated training split.

Reproduce: python3 bench/vad/gen_data.py && python3 bench/vad/train.py
Reads bench/vad/data/manifest.json (train split only: voices, sentences and seeds
disjoint from the test split), dumps features with the `vad_eval features` example,
trains `features -> standardise -> 32 ReLU -> 1 logistic` with Adam (numpy, fixed
seed) and writes crates/remotemedia-audio/src/vad/weights.rs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import teacher

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
WEIGHTS = ROOT / "crates/remotemedia-audio/src/vad/weights.rs"
# The feature vector's layout as the Rust extractor defines it (written by the
# `feature_layout` test of remotemedia-audio, which CI runs).
LAYOUT = json.loads((Path(__file__).resolve().parent / "feature_layout.json").read_text())
HIDDEN = 32
# Labels come per 10 ms; the feature extractor's hop is read from `vad_eval features`.
LABEL_MS = 10
BOUNDARY_WEIGHT = 3.0
L2 = 1e-3
# The hardest negatives (music; with --hard-negatives also impulsive noise, typing and far talkers): their
# non-speech hops (alone or between speech) weigh this much more.
MUSIC_WEIGHT = 3.0
# Non-speech hops up to this long after speech ends (reverberant tails, the pause after a phrase).
OFFSET_MS = 300
OFFSET_WEIGHT = 2.0
# Speech hops in white, pink or brown noise (the noise-like negatives of the household group pull
# recall at 0 dB SNR down; this holds it).
BROADBAND_SPEECH_WEIGHT = 2.0


def example_binary() -> Path:
    """Build the evaluation example (release) and return its path."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    subprocess.run(
        ["cargo", "build", "--release", "-q", "-p", "remotemedia-audio", "--example", "vad_eval"],
        cwd=ROOT,
        check=True,
    )
    return target / "release/examples/vad_eval"


def near_boundary(lab: np.ndarray, hops: int) -> np.ndarray:
    """True for hops within `hops` of a label change."""
    edges = np.flatnonzero(np.diff(lab) != 0)
    near = np.zeros(len(lab), dtype=bool)
    for e in edges:
        near[max(e - hops, 0) : e + hops + 1] = True
    return near


def after_offset(lab: np.ndarray, hops: int) -> np.ndarray:
    """True for non-speech hops within `hops` after a speech-to-non-speech change (where reverberant
    tails and the classifier's context keep a detector on)."""
    ends = np.flatnonzero((lab[:-1] > 0.5) & (lab[1:] < 0.5)) + 1
    tail = np.zeros(len(lab), dtype=bool)
    for e in ends:
        tail[e : e + hops] = True
    return tail & (lab < 0.5)


def load_split(
    split: str, binary: Path, data: Path = DATA
) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Features (hops x features), hop labels, per-row condition names, boundary
    mask, the index of the clip each row comes from and the after-offset mask
    (non-speech hops up to `OFFSET_MS` after speech ends)."""
    items = [m for m in json.loads((data / "manifest.json").read_text()) if m["split"] == split]
    with tempfile.TemporaryDirectory() as td:
        said = subprocess.run(
            [str(binary), "features", td, *[str(data / m["wav"]) for m in items]],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        hop_ms = int(said.split("hop_ms")[1].split()[0])
        num_features = int(said.split("num_features")[1].split()[0])
        if (hop_ms, num_features) != (LAYOUT["hop_ms"], LAYOUT["num_features"]):
            raise SystemExit(
                f"vad_eval says hop_ms {hop_ms}, num_features {num_features}; feature_layout.json says "
                f"{LAYOUT['hop_ms']}, {LAYOUT['num_features']}: run `cargo test -p remotemedia-audio --test "
                "feature_layout` with REMOTEMEDIA_WRITE_LAYOUT=1"
            )
        per_hop = hop_ms // LABEL_MS
        xs, ys, conds, near, clips, tails = [], [], [], [], [], []
        for i, m in enumerate(items):
            f = np.fromfile(Path(td) / f"{i}.f32", dtype="<f4").reshape(-1, num_features)
            # A hop's label is that of its newest 10 ms.
            lab = np.asarray(m["labels"], dtype=np.float32)[per_hop - 1 :: per_hop]
            n = min(len(f), len(lab))
            xs.append(f[:n])
            ys.append(lab[:n])
            conds += [m["condition"]] * n
            near.append(near_boundary(lab[:n], 100 // hop_ms))
            clips.append(np.full(n, i))
            tails.append(after_offset(lab[:n], OFFSET_MS // hop_ms))
    return (
        np.concatenate(xs),
        np.concatenate(ys),
        conds,
        np.concatenate(near),
        np.concatenate(clips),
        np.concatenate(tails),
    )


def row_weights(
    conds: np.ndarray,
    y: np.ndarray,
    tail: np.ndarray,
    music_weight: float = MUSIC_WEIGHT,
    hard_negatives: bool = False,
    hard_recorded_music: bool = False,
    offset_weight: float = OFFSET_WEIGHT,
    broadband_speech_weight: float = BROADBAND_SPEECH_WEIGHT,
) -> np.ndarray:
    """Per-row weight on top of the class balance and the boundary weight: hard negatives (music; optionally
    impulsive noise, typing, far talkers and recorded music), the hops after an offset and speech in
    broadband noise."""
    impulsive = ["transients", "far_talk", "keyboard"] if hard_negatives else []
    recorded = ["recorded_music"] if hard_recorded_music else []
    hard = ["music", "gm_music", "gm_music_more", *recorded, *impulsive]
    hard_negative = np.isin(conds, [f"only_{k}" for k in hard]) | (np.isin(conds, hard) & (y < 0.5))
    broadband_speech = np.isin(conds, ["white", "pink", "brown"]) & (y > 0.5)
    return (
        np.where(hard_negative, music_weight, 1.0)
        * np.where(tail, offset_weight, 1.0)
        * np.where(broadband_speech, broadband_speech_weight, 1.0)
    )


def class_weights(y: np.ndarray, near: np.ndarray, extra: np.ndarray, boundary_weight: float) -> np.ndarray:
    """Class-balanced row weights (each class carries half the total), times `boundary_weight` for hops within
    100 ms of a label change, times `extra`."""
    pos = (y > 0.5).mean()
    return np.where(y > 0.5, 0.5 / pos, 0.5 / (1 - pos)) * np.where(near, boundary_weight, 1.0) * extra


def train(
    x: np.ndarray,
    y: np.ndarray,
    near: np.ndarray,
    extra: np.ndarray,
    seed: int = 0,
    epochs: int = 40,
    hidden: int = HIDDEN,
    boundary_weight: float = BOUNDARY_WEIGHT,
) -> dict[str, np.ndarray]:
    """Minibatch Adam on class-balanced binary cross-entropy with L2; hops within
    100 ms of a label change weigh `boundary_weight` times more (sharper onsets/offsets)
    and each row is further scaled by `extra` (hard negatives)."""
    rng = np.random.default_rng(seed)
    mean = x.mean(axis=0)
    scale = 1.0 / (x.std(axis=0) + 1e-3)
    z = (x - mean) * scale
    nf = x.shape[1]
    w1 = rng.standard_normal((hidden, nf)) * np.sqrt(2.0 / nf)
    b1 = np.zeros(hidden)
    w2 = rng.standard_normal(hidden) * np.sqrt(1.0 / hidden)
    b2 = np.zeros(1)
    params = [w1, b1, w2, b2]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    cw = class_weights(y, near, extra, boundary_weight)
    lr, l2, batch, step = 3e-3, L2, 512, 0
    for epoch in range(epochs):
        order = rng.permutation(len(z))
        for s in range(0, len(z), batch):
            idx = order[s : s + batch]
            xb, yb, wb = z[idx], y[idx], cw[idx]
            h_pre = xb @ w1.T + b1
            h = np.maximum(h_pre, 0)
            logit = h @ w2 + b2[0]
            p = 1 / (1 + np.exp(-logit))
            g = (p - yb) * wb / len(idx)
            gw2 = h.T @ g + l2 * w2
            gb2 = np.array([g.sum()])
            gh = np.outer(g, w2) * (h_pre > 0)
            gw1 = gh.T @ xb + l2 * w1
            gb1 = gh.sum(axis=0)
            step += 1
            for p_, g_, m_, v_ in zip(params, [gw1, gb1, gw2, gb2], m, v, strict=True):
                m_ *= 0.9
                m_ += 0.1 * g_
                v_ *= 0.999
                v_ += 0.001 * g_ * g_
                p_ -= lr * (m_ / (1 - 0.9**step)) / (np.sqrt(v_ / (1 - 0.999**step)) + 1e-8)
        if epoch == epochs * 2 // 3:
            lr /= 3
    return {"mean": mean, "scale": scale, "w1": w1, "b1": b1, "w2": w2, "b2": b2}


def predict(model: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Speech probability per row, as the Rust kernel computes it."""
    z = (x - model["mean"]) * model["scale"]
    h = np.maximum(z @ model["w1"].T + model["b1"], 0)
    return 1 / (1 + np.exp(-(h @ model["w2"] + model["b2"][0])))


def f32_literal(v: float) -> str:
    """Shortest literal that round-trips as f32; a subnormal value is written as a signed zero
    (a subnormal weight makes every multiply by it take a slow microcode assist on x86)."""
    x = np.float32(v)
    if abs(x) < np.finfo(np.float32).tiny:
        x = np.copysign(np.float32(0.0), x)
    return np.format_float_scientific(x, unique=True, trim="0")


def fmt(a: np.ndarray) -> str:
    """Comma-separated f32 literals."""
    return ", ".join(f32_literal(v) for v in a)


def write_weights(model: dict[str, np.ndarray], n_rows: int, seed: int, path: Path = WEIGHTS) -> None:
    """Write the Rust const file."""
    rows = "\n".join(f"    [{fmt(r)}]," for r in model["w1"].T)
    hidden, nf = model["w1"].shape
    if nf != LAYOUT["num_features"]:
        raise SystemExit(f"the model has {nf} inputs, the feature layout {LAYOUT['num_features']}")
    path.write_text(
        f"""//! Classifier weights for the speech detector, generated by `bench/vad/train.py`.
//!
//! Produced by: `python3 bench/vad/gen_data.py && python3 bench/vad/train.py`
//! (training split only: {n_rows} hops of espeak-ng, flite and festival speech in
//! white/pink/brown noise, hum, music, babble, level steps and ramps, impulsive noises,
//! fans, far talkers, instrument music, recorded music, cycling machines, appliances
//! switching on and desk events, some through rooms, telephone, gain rides and a
//! microphone AGC, short isolated words over music, plus noise-only clips; Adam, seed
//! {seed}). Do not edit by hand. Rows follow the feature layout of `features::layout`
//! (`bench/vad/feature_layout.json`).

use super::features::NUM_FEATURES;

/// Hidden units.
pub(crate) const HIDDEN: usize = {hidden};
/// Per-feature mean removed before the first layer.
#[rustfmt::skip]
pub(crate) const FEATURE_MEAN: [f32; NUM_FEATURES] = [{fmt(model["mean"])}];
/// Per-feature scale applied after removing the mean.
#[rustfmt::skip]
pub(crate) const FEATURE_SCALE: [f32; NUM_FEATURES] = [{fmt(model["scale"])}];
/// First layer weights, one row per input feature (one column per hidden unit).
#[rustfmt::skip]
pub(crate) const W1: [[f32; HIDDEN]; NUM_FEATURES] = [
{rows}
];
/// First layer biases.
#[rustfmt::skip]
pub(crate) const B1: [f32; HIDDEN] = [{fmt(model["b1"])}];
/// Output weights.
#[rustfmt::skip]
pub(crate) const W2: [f32; HIDDEN] = [{fmt(model["w2"])}];
/// Output bias.
pub(crate) const B2: f32 = {f32_literal(model["b2"][0])};
"""
    )


def hop_report(model: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, conds: np.ndarray) -> None:
    """Hop-level recall and false alarms per condition."""
    p = predict(model, x) > 0.5
    for c in sorted(set(conds)):
        sel = conds == c
        yy, pp = y[sel] > 0.5, p[sel]
        rec = (pp & yy).sum() / max(yy.sum(), 1)
        fa = (pp & ~yy).sum() / max((~yy).sum(), 1)
        print(f"  hop-level {c:16s} recall {rec:.3f} false-alarm {fa:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--validate",
        action="store_true",
        help="hold out every third training clip, report on it and write nothing (for choosing settings "
        "without looking at the test split)",
    )
    ap.add_argument("--music-weight", type=float, default=MUSIC_WEIGHT, help="weight of the hard negatives")
    ap.add_argument(
        "--hard-negatives",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="also count impulsive noise, typing and far talkers (alone, or between speech) as hard negatives "
        "(tried: fewer false alarms in office ambience, lower recall at 0 dB SNR; see README)",
    )
    ap.add_argument(
        "--hard-recorded-music",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="also count the household group's recorded music as a hard negative (see README)",
    )
    ap.add_argument("--weights", type=Path, default=WEIGHTS, help="where to write the Rust weights file")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--boundary-weight", type=float, default=BOUNDARY_WEIGHT, help="weight of hops within 100 ms of a label change"
    )
    ap.add_argument(
        "--offset-weight",
        type=float,
        default=OFFSET_WEIGHT,
        help=f"extra weight of non-speech hops up to {OFFSET_MS} ms after speech ends",
    )
    ap.add_argument(
        "--broadband-speech-weight",
        type=float,
        default=BROADBAND_SPEECH_WEIGHT,
        help="weight of speech hops in white, pink or brown noise (held against the noise-like negatives)",
    )
    ap.add_argument(
        "--teacher-floor",
        type=float,
        default=None,
        help="weigh speech hops by floor + (1 - floor) * Silero's probability (teacher.py; tried, off by default)",
    )
    ap.add_argument(
        "--teacher-mix",
        type=float,
        default=None,
        help="train towards mix * label + (1 - mix) * Silero's probability (teacher.py; tried, off by default)",
    )
    ap.add_argument("--hidden", type=int, default=HIDDEN, help="hidden units (a multiple of 8)")
    ap.add_argument("--data", type=Path, default=DATA, help="generated data (gen_data.py --out)")
    args = ap.parse_args()
    binary = example_binary()
    x, y, conds_list, near, clips, tail = load_split("train", binary, args.data)
    conds = np.asarray(conds_list)
    extra = row_weights(
        conds,
        y,
        tail,
        music_weight=args.music_weight,
        hard_negatives=args.hard_negatives,
        hard_recorded_music=args.hard_recorded_music,
        offset_weight=args.offset_weight,
        broadband_speech_weight=args.broadband_speech_weight,
    )
    y, extra = teacher.apply(args.data, y, conds, clips, extra, LAYOUT["hop_ms"], args.teacher_floor, args.teacher_mix)
    # Every third clip: the clip kinds cycle with periods 7 and 10, so each kind is held out.
    fit = clips % 3 != 0 if args.validate else np.ones(len(x), dtype=bool)
    print(f"train: {fit.sum()} hops, {y[fit].mean():.1%} speech")
    model = train(
        x[fit], y[fit], near[fit], extra[fit], seed=args.seed, hidden=args.hidden, boundary_weight=args.boundary_weight
    )
    p = predict(model, x[fit])
    print(f"train accuracy {np.mean((p > 0.5) == (y[fit] > 0.5)):.3f}")
    if args.validate:
        print("validation (held-out training clips):")
        hop_report(model, x[~fit], y[~fit], conds[~fit])
        return
    xt, yt, ct, _, _, _ = load_split("test", binary, args.data)
    print("test:")
    hop_report(model, xt, yt, np.asarray(ct))
    write_weights(model, len(x), args.seed, args.weights)
    print(f"wrote {args.weights}")


if __name__ == "__main__":
    main()
