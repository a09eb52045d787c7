"""Noise makers of household and desk kinds for the fourth training group of `gen_data.py`.

Kinds the other training groups never had: real recorded music (game soundtracks shipped
as Debian packages, cut into excerpts, optionally through a low bit rate codec), machines
with cycles (a drum sloshing over a motor's harmonic hum, spin-up and spin-down, pumps),
appliances switching on (a broadband sound rising 20-40 dB within a fraction of a second,
then holding), small desk events (recorded key presses, synthesized mouse clicks, paper
rustle, clock ticks, cutlery) and a microphone AGC channel that lifts the floor in
pauses. Written apart from `gen_real.py` and `gen_field.py` (no code, makers or sound
packages shared). Every maker returns unit-RMS float samples at `SR`.

The recorded sources are split by file: `held_out=True` draws from the files kept for
the `home_dev` split, otherwise from the training files, so no excerpt of a held-out
track or key recording is ever trained on.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import numpy as np

SR = 16_000
# Instrumental game music (recorded or rendered by their authors, not by us): drascula-music,
# asc-music, fb-music-high. Not asterisk-moh-opsound, which the field family uses.
MUSIC_GLOBS = [
    ("/usr/share/scummvm/drascula/audio", "*.ogg"),
    ("/usr/share/games/asc/music", "*.mp3"),
    ("/usr/share/games/frozen-bubble/snd", "*zik*.ogg"),
]
# Tracks with singing or speech in them (Silero calls 12-73 % of their 32 ms windows speech, every
# other track 0 %): a voice is not what these clips are meant to teach as non-speech.
VOICED_TRACKS = {"track2.ogg", "track29.ogg", "track30.ogg", "track31.ogg"}
# Recorded key presses and releases of a mechanical keyboard (bucklespring-data).
KEY_DIR = Path("/usr/share/buckle/wav")
MIN_TRACK_S = 20.0


def _unit(x: np.ndarray) -> np.ndarray:
    """`x` scaled to unit RMS."""
    return x / (np.sqrt(np.mean(x**2)) + 1e-12)


def _split(files: list[Path], held_out: bool) -> list[Path]:
    """Every fourth file (sorted by name) is held out for `home_dev`; the rest train."""
    return [f for i, f in enumerate(sorted(files)) if (i % 4 == 0) == held_out]


@functools.cache
def _duration(path: Path) -> float:
    """Length of a media file in seconds (ffprobe)."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(out.strip())


def music_tracks(held_out: bool) -> list[Path]:
    """The instrumental tracks (no `VOICED_TRACKS`) of at least `MIN_TRACK_S` for training or for `home_dev`."""
    files = [f for d, g in MUSIC_GLOBS for f in Path(d).glob(g) if f.name not in VOICED_TRACKS]
    if not files:
        raise SystemExit("no recorded music: apt-get install -y drascula-music asc-music fb-music-high")
    return _split([f for f in files if _duration(f) >= MIN_TRACK_S], held_out)


def _decode(path: Path, start: float, seconds: float) -> np.ndarray:
    """`seconds` of a media file from `start`, mono at `SR` (ffmpeg)."""
    cut = ["-ss", f"{start:.3f}", "-t", f"{seconds:.3f}", "-i", str(path)]
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", *cut, "-ac", "1", "-ar", str(SR), "-f", "s16le", "-"],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0


def low_rate_codec(rng: np.random.Generator, x: np.ndarray, tmp: Path) -> np.ndarray:
    """A round trip through a low bit rate codec: Opus at 6-12 kbit/s, MP3 at 16-24 kbit/s,
    Speex narrow band or GSM at 8 kHz (ffmpeg); the result is unit-RMS, at `x`'s length and rate."""
    src, enc = tmp / "c_in.wav", tmp / "c_enc"
    pcm = np.clip(np.round(x / (np.max(np.abs(x)) + 1e-12) * 0.7 * 32767), -32768, 32767).astype("<i2")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "s16le", "-ar", str(SR), "-ac", "1", "-i", "-", str(src)],
        input=pcm.tobytes(),
        check=True,
    )
    kind = str(rng.choice(["opus", "mp3", "speex", "gsm"]))
    opts = {
        "opus": ["-c:a", "libopus", "-b:a", f"{int(rng.integers(6, 13))}k", "-f", "ogg"],
        "mp3": ["-c:a", "libmp3lame", "-b:a", str(int(rng.choice([16, 24]))) + "k", "-f", "mp3"],
        "speex": ["-ar", "8000", "-c:a", "libspeex", "-f", "ogg"],
        "gsm": ["-ar", "8000", "-c:a", "libgsm", "-f", "gsm"],
    }[kind]
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), *opts, str(enc)], check=True)
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(enc), "-ac", "1", "-ar", str(SR), "-f", "s16le", "-"],
        check=True,
        capture_output=True,
    ).stdout
    y = np.frombuffer(raw, dtype="<i2").astype(np.float64)
    return _unit(np.resize(y, len(x)))


def recorded_music(rng: np.random.Generator, n: int, held_out: bool = False) -> np.ndarray:
    """An excerpt of `n` samples of a recorded instrumental track (its quiet intro skipped)."""
    tracks = music_tracks(held_out)
    path = tracks[int(rng.integers(len(tracks)))]
    span = _duration(path) - n / SR - 2.0
    x = _decode(path, float(rng.uniform(2.0, max(span, 2.5))), n / SR)
    return _unit(np.resize(x, n))


def _band_noise(rng: np.random.Generator, n: int, lo: float, hi: float) -> np.ndarray:
    """Unit-RMS Gaussian noise limited to `lo`..`hi` Hz (soft, first-order skirts)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SR) + 1.0
    spec *= (f / lo) / (1 + f / lo) / (1 + f / hi)
    return _unit(np.fft.irfft(spec, n))


def _harmonic_hum(rng: np.random.Generator, f0: np.ndarray, partials: int) -> np.ndarray:
    """A motor's hum following the instantaneous fundamental `f0` (Hz per sample), with
    `partials` harmonics of random weights."""
    phase = 2 * np.pi * np.cumsum(f0) / SR
    x = np.zeros(len(f0))
    for k in range(1, partials + 1):
        x += rng.uniform(0.2, 1.0) / np.sqrt(k) * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    return x


def cycling_machine(rng: np.random.Generator, n: int) -> np.ndarray:
    """A washing machine or dishwasher: a motor hum (25-70 Hz fundamental, harmonics to a few
    hundred Hz) under a sloshing swish (band noise gated at the drum's 0.5-2 Hz turn), with a
    spin-up or spin-down in some clips and a pump buzz switching on and off in others."""
    t = np.arange(n) / SR
    f0 = np.full(n, rng.uniform(25, 70))
    if rng.random() < 0.4:
        a, b = sorted(rng.uniform(0, n, size=2).astype(int))
        glide = np.clip((np.arange(n) - a) / max(b - a, 1), 0, 1)
        f0 = f0 * (1 + rng.uniform(0.5, 2.5) * (glide if rng.random() < 0.5 else 1 - glide))
    motor = _harmonic_hum(rng, f0, int(rng.integers(4, 10)))
    turn = rng.uniform(0.5, 2.0)
    drift = 1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.02, 0.1) * t)
    gate = np.abs(np.sin(np.pi * turn * t * drift)) ** rng.uniform(1.5, 6)
    swish = _band_noise(rng, n, rng.uniform(150, 400), rng.uniform(1500, 5000)) * gate
    x = _unit(motor) * rng.uniform(0.3, 1.0) + _unit(swish) * rng.uniform(0.3, 1.5)
    if rng.random() < 0.5:
        pump = _harmonic_hum(rng, np.full(n, rng.uniform(90, 160)), 6) * (
            np.sin(2 * np.pi * rng.uniform(0.05, 0.2) * t + rng.uniform(0, 6.3)) > 0.3
        )
        x += _unit(pump) * rng.uniform(0.1, 0.6)
    return _unit(x + 0.02 * rng.standard_normal(n))


def _appliance(rng: np.random.Generator, n: int) -> np.ndarray:
    """The steady sound of one appliance: a grinder or hair dryer (broadband hiss with a
    motor whine at 150-600 Hz), a kettle (hiss brightening, with bubbles) or steam (bright hiss)."""
    kind = str(rng.choice(["motor", "kettle", "steam"]))
    if kind == "steam":
        return _band_noise(rng, n, rng.uniform(1500, 3000), rng.uniform(6000, 7900))
    if kind == "kettle":
        hiss = _band_noise(rng, n, rng.uniform(300, 800), rng.uniform(2000, 5000))
        bubbles = (rng.random(n) < rng.uniform(20, 120) / SR).astype(float)
        ring = np.exp(-np.arange(int(0.01 * SR)) / (0.002 * SR)) * np.sin(
            2 * np.pi * rng.uniform(400, 1500) * np.arange(int(0.01 * SR)) / SR
        )
        return _unit(hiss + 0.5 * _unit(np.convolve(bubbles, ring)[:n]))
    whine = _harmonic_hum(rng, np.full(n, rng.uniform(150, 600)) * (1 + 0.01 * rng.standard_normal(n)), 5)
    hiss = _band_noise(rng, n, rng.uniform(100, 500), rng.uniform(3000, 7000))
    return _unit(hiss + rng.uniform(0.1, 0.7) * _unit(whine))


def switch_on(rng: np.random.Generator, n: int) -> np.ndarray:
    """A quiet room in which an appliance switches on: its sound rises 20-40 dB above the room
    in 0.03-0.4 s, holds 1-6 s, and in some clips stops again; one to three times per clip."""
    x = _band_noise(rng, n, 50, 4000) * 10 ** (-rng.uniform(20, 40) / 20)
    pos = int(rng.uniform(0.3, 3) * SR)
    while pos < n - int(0.5 * SR):
        rise = int(rng.uniform(0.03, 0.4) * SR)
        hold = int(rng.uniform(1, 6) * SR)
        m = min(rise + hold, n - pos)
        env = np.minimum(np.arange(m) / rise, 1.0)
        stops = rng.random() < 0.6
        if stops:
            fall = min(int(rng.uniform(0.05, 0.5) * SR), m)
            env[m - fall :] *= np.linspace(1, 0, fall)
        x[pos : pos + m] += _appliance(rng, m) * env
        if not stops:
            break
        pos += m + int(rng.uniform(0.5, 3) * SR)
    return _unit(x)


def _key_recordings(held_out: bool) -> list[np.ndarray]:
    """The recorded key presses and releases (bucklespring-data) at `SR`."""
    files = _split(list(KEY_DIR.glob("*.wav")), held_out)
    if not files:
        raise SystemExit("no key recordings: apt-get install -y bucklespring-data")
    return [_decode(f, 0.0, 1.0) for f in files]


@functools.cache
def _keys(held_out: bool) -> tuple[np.ndarray, ...]:
    """`_key_recordings`, read once."""
    return tuple(_key_recordings(held_out))


def _beeps(rng: np.random.Generator) -> np.ndarray:
    """An electronic signal of 0.2-2 s: one or two alternating tones (500-3500 Hz, square-ish,
    odd harmonics) switched at 3-20 Hz or held, with short fades."""
    m = int(rng.uniform(0.2, 2.0) * SR)
    t = np.arange(m) / SR
    tones = rng.uniform(500, 3500, size=int(rng.integers(1, 3)))
    switch = rng.uniform(3, 20)
    which = (np.floor(t * switch) % len(tones)).astype(int)
    f = tones[which]
    phase = 2 * np.pi * np.cumsum(f) / SR
    x = sum(np.sin(k * phase) / k for k in (1, 3, 5) if tones.max() * k < SR / 2 - 200)
    gate = (t * switch % 1.0 < rng.uniform(0.4, 1.0)) if rng.random() < 0.6 else np.ones(m, dtype=bool)
    fade = np.minimum(1.0, np.minimum(np.arange(m), np.arange(m)[::-1]) / (0.005 * SR))
    return _unit(x * gate * fade)


def _desk_event(rng: np.random.Generator, held_out: bool) -> np.ndarray:
    """One desk sound: a recorded key, a mouse click (press and release 60-160 ms apart), a rustle
    of paper (bright noise, rapidly flickering, 0.2-1.2 s), a clock tick, cutlery (an inharmonic
    metallic ring) or an electronic signal (a ring, an alarm or a notification: `_beeps`)."""
    kind = str(rng.choice(["key", "mouse", "paper", "tick", "cutlery", "beeps"]))
    if kind == "key":
        keys = _keys(held_out)
        return _unit(keys[int(rng.integers(len(keys)))])
    if kind == "mouse":
        click_len = int(0.004 * SR)
        click = _band_noise(rng, click_len, 2000, 7000) * np.exp(-np.arange(click_len) / (0.0008 * SR))
        gap = int(rng.uniform(0.06, 0.16) * SR)
        ev = np.zeros(gap + click_len)
        ev[:click_len] += click
        ev[gap:] += click * rng.uniform(0.4, 0.9)
        return _unit(ev)
    if kind == "beeps":
        return _beeps(rng)
    if kind == "paper":
        m = int(rng.uniform(0.2, 1.2) * SR)
        flicker = np.repeat(rng.uniform(0, 1, size=m // 40 + 1) ** 3, 40)[:m]
        return _unit(_band_noise(rng, m, rng.uniform(1000, 3000), 7900) * flicker * np.hanning(m))
    m = int((0.02 if kind == "tick" else rng.uniform(0.15, 0.5)) * SR)
    t = np.arange(m) / SR
    base = rng.uniform(1500, 4000) if kind == "tick" else rng.uniform(2000, 6000)
    ratios = [1.0, *rng.uniform(1.5, 3.7, size=3)]
    ring = sum(np.sin(2 * np.pi * base * r * t + rng.uniform(0, 6.3)) for r in ratios)
    return _unit(ring * np.exp(-t * (300 if kind == "tick" else rng.uniform(15, 60))))


def desk(rng: np.random.Generator, n: int, held_out: bool = False) -> np.ndarray:
    """Small desk and household events 15-45 dB over a faint room tone, in bursts, with a
    clock ticking once a second in some clips."""
    x = np.zeros(n + SR)
    pos = int(rng.uniform(0, 1) * SR)
    rate = rng.uniform(0.5, 5)
    while pos < n:
        ev = _desk_event(rng, held_out)
        x[pos : pos + len(ev)] += ev[: len(x) - pos] * 10 ** (rng.uniform(-15, 0) / 20)
        pos += int((rng.exponential(1 / rate) + 0.03) * SR) if rng.random() < 0.85 else int(rng.uniform(1, 3) * SR)
    x = x[:n]
    if rng.random() < 0.4:
        tick = _desk_event(np.random.default_rng(int(rng.integers(1 << 30))), held_out)[: int(0.02 * SR)]
        for p in range(int(rng.uniform(0, 1) * SR), n - len(tick), SR):
            x[p : p + len(tick)] += tick * 0.2
    bed = _band_noise(rng, n, 40, 3000) * 10 ** (-rng.uniform(15, 45) / 20) * np.sqrt(np.mean(x**2))
    return _unit(x + bed)


def agc(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """A microphone AGC over `x` (plus the mic's hiss 55-70 dB down): a level follower with a
    fast attack (2-15 ms) and slow release (0.5-3 s) drives a gain towards a target level,
    limited to 15-30 dB of lift, so the floor rises during pauses and drops when sound returns."""
    peak = np.max(np.abs(x)) + 1e-12
    y = x + peak * 10 ** (-rng.uniform(55, 70) / 20) * rng.standard_normal(len(x))
    hop = SR // 1000
    m = len(y) // hop
    power = np.mean(y[: m * hop].reshape(m, hop) ** 2, axis=1)
    attack = np.exp(-1 / rng.uniform(2, 15))
    release = np.exp(-1 / (rng.uniform(0.5, 3) * 1000))
    env = np.empty(m)
    level = float(power[: min(m, 200)].mean())
    for i, p in enumerate(power):
        level = attack * level + (1 - attack) * p if p > level else release * level + (1 - release) * p
        env[i] = level
    target = np.max(env)
    gain = np.sqrt(np.minimum(target / (env + 1e-20), 10 ** (rng.uniform(15, 30) / 10)))
    g = np.interp(np.arange(len(y)), np.arange(m) * hop + hop / 2, gain)
    return y * g
