"""Quality figures of a resampler, measured from its output alone (default 48 -> 16 kHz, mono).

A resampler is a Python function (1-D float32 array at the input rate -> 1-D array at the
output rate) or a program run once per signal: `--cmd "PROG ... {inp} {out}"`, where {inp}
is a raw little-endian float32 mono file at the input rate and {out} the file the program
writes at the output rate. Figures, all on the middle of the output (edges trimmed):

- delay: output delay against the ideal result, in output samples (the cross-correlation
  peak with band-limited noise, refined to the fraction that minimises the error); removed
  before the SNR;
- broadband SNR: 0-6 kHz noise, output against the ideal one (the noise resampled exactly
  in the frequency domain; it is periodic and band-limited by construction);
- -0.1 dB and -3 dB: where the gain of a sine (least-squares fit at its frequency) crosses
  those levels, found by bisection to 1 Hz;
- worst alias: the largest output energy, relative to the input's, of sines between the
  output Nyquist frequency + 507 Hz and the input Nyquist frequency - 493 Hz in 1 kHz steps
  (off round frequencies, which some polyphase structures null exactly).

Usage: python3 bench/resample/quality.py --cmd "... {inp} {out}" --name NAME [--cmd ...]
       [--fs-in 48000] [--fs-out 16000]; prints a Markdown table. `bench/resample/quality.sh`
runs it on our resampler and on python-soxr.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

Resample = Callable[[np.ndarray], np.ndarray]

AMP = 0.5
SECONDS = 1.0
SUMMARY_HEADER = "| | -0.1 dB | -3 dB | broadband SNR | worst alias | delay |\n|---|---|---|---|---|---|"


def program(cmd: str) -> Resample:
    """A resampler that runs `cmd` (with {inp} and {out} replaced by file names) per signal."""

    def run(x: np.ndarray) -> np.ndarray:
        with tempfile.TemporaryDirectory() as td:
            inp, out = Path(td) / "in.f32", Path(td) / "out.f32"
            x.astype("<f4").tofile(inp)
            subprocess.run(shlex.split(cmd.format(inp=inp, out=out)), check=True)
            return np.fromfile(out, dtype="<f4").astype(np.float64)

    return run


def middle(x: np.ndarray) -> slice:
    """The part of a signal of this length away from both edges (10 % each side)."""
    edge = len(x) // 10
    return slice(edge, len(x) - edge)


def noise_pair(fs_in: int, fs_out: int, top_hz: float = 6000.0) -> tuple[np.ndarray, np.ndarray]:
    """Periodic noise band-limited to `top_hz` at `fs_in`, and the same noise at `fs_out`."""
    n_in = int(fs_in * SECONDS)
    n_out = n_in * fs_out // fs_in
    rng = np.random.default_rng(1)
    spectrum = np.fft.rfft(rng.standard_normal(n_in))
    spectrum[np.fft.rfftfreq(n_in, 1 / fs_in) > top_hz] = 0
    x = np.fft.irfft(spectrum, n_in)
    scale = 0.25 / np.sqrt(np.mean(x**2))
    ideal = np.fft.irfft(spectrum[: n_out // 2 + 1], n_out) * (n_out / n_in)
    return x * scale, ideal * scale


def delay_of(y: np.ndarray, ideal: np.ndarray) -> float:
    """Delay of `y` behind `ideal` in samples: the whole samples of the circular
    cross-correlation peak, then the fraction that minimises the squared error on the middle
    of the signal (parabolas through three trial delays, a narrower bracket each step)."""
    n = len(ideal)
    whole = int(np.argmax(np.fft.irfft(np.fft.rfft(y) * np.conj(np.fft.rfft(ideal)), n)))
    part = middle(y)

    def error(d: float) -> float:
        return float(np.sum((y[part] - shifted(ideal, d)[part]) ** 2))

    d, h = float(whole - n if whole > n // 2 else whole), 0.5
    for _ in range(12):
        e_lo, e_mid, e_hi = error(d - h), error(d), error(d + h)
        curve = e_lo - 2 * e_mid + e_hi
        step = 0.5 * h * (e_lo - e_hi) / curve if curve > 0 else 0.0
        d += max(-h, min(h, step))
        h /= 4
    return d


def shifted(x: np.ndarray, delay: float) -> np.ndarray:
    """`x` (periodic) delayed by `delay` samples."""
    f = np.fft.rfftfreq(len(x))
    return np.fft.irfft(np.fft.rfft(x) * np.exp(-2j * np.pi * f * delay), len(x))


def sine(f: float, fs: int) -> np.ndarray:
    t = np.arange(int(fs * SECONDS)) / fs
    return AMP * np.sin(2 * np.pi * f * t)


def gain_db(resample: Resample, f: float, fs_in: int, fs_out: int) -> float:
    """Gain of a sine at `f` Hz: amplitude of the least-squares fit at `f` over the input's."""
    y = resample(sine(f, fs_in))
    part = middle(y)
    t = np.arange(len(y))[part] / fs_out
    basis = np.stack([np.sin(2 * np.pi * f * t), np.cos(2 * np.pi * f * t)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, y[part], rcond=None)
    return 20 * np.log10(max(np.hypot(*coef), 1e-30) / AMP)


def crossing(resample: Resample, level_db: float, fs_in: int, fs_out: int) -> float:
    """The frequency (Hz, to 1 Hz) above which the gain stays below `level_db`."""
    lo, hi = 100.0, fs_out / 2
    while hi - lo > 1.0:
        mid = (lo + hi) / 2
        if gain_db(resample, mid, fs_in, fs_out) > level_db:
            lo = mid
        else:
            hi = mid
    return lo


def worst_alias_db(resample: Resample, fs_in: int, fs_out: int) -> float:
    """Largest output energy (dB relative to the input's) of sines above the output Nyquist."""
    worst = -np.inf
    for f in np.arange(fs_out / 2 + 507, fs_in / 2 - 493 + 1, 1000.0):
        x = sine(f, fs_in)
        y = resample(x)
        level = 10 * np.log10(max(np.mean(y[middle(y)] ** 2), 1e-30) / np.mean(x**2))
        worst = max(worst, level)
    return float(worst)


def analyze(resample: Resample, fs_in: int = 48_000, fs_out: int = 16_000) -> dict[str, float]:
    """Every figure of the module docs, by name."""
    x, ideal = noise_pair(fs_in, fs_out)
    y = np.asarray(resample(x), dtype=np.float64)
    if len(y) != len(ideal):
        raise SystemExit(f"expected {len(ideal)} output samples, got {len(y)}")
    delay = delay_of(y, ideal)
    reference = shifted(ideal, delay)
    part = middle(y)
    error = y[part] - reference[part]
    return {
        "delay": delay,
        "snr_db": 10 * np.log10(np.sum(reference[part] ** 2) / max(np.sum(error**2), 1e-30)),
        "f_0_1db": crossing(resample, -0.1, fs_in, fs_out),
        "f_3db": crossing(resample, -3.0, fs_in, fs_out),
        "worst_alias_db": worst_alias_db(resample, fs_in, fs_out),
    }


def summary_row(name: str, r: dict[str, float]) -> str:
    return (
        f"| {name} | {r['f_0_1db']:.0f} Hz | {r['f_3db']:.0f} Hz | {r['snr_db']:.1f} dB | "
        f"{r['worst_alias_db']:.1f} dB | {round(r['delay'], 3) + 0.0:.3f} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cmd", action="append", required=True, help="program with {inp} and {out}")
    ap.add_argument("--name", action="append", help="a row name per --cmd")
    ap.add_argument("--fs-in", type=int, default=48_000)
    ap.add_argument("--fs-out", type=int, default=16_000)
    args = ap.parse_args()
    names = args.name or args.cmd
    if len(names) != len(args.cmd):
        raise SystemExit("give one --name per --cmd, or none")
    print(f"{args.fs_in} -> {args.fs_out} Hz")
    print(SUMMARY_HEADER)
    for name, cmd in zip(names, args.cmd, strict=True):
        print(summary_row(name, analyze(program(cmd), args.fs_in, args.fs_out)), flush=True)


if __name__ == "__main__":
    main()
