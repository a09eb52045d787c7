"""Generate the VAD evaluation and training set (deterministic).

espeak-ng speaks varied sentences (several languages, voices and speeds); frames are
labelled from the clean signal (10 ms frames whose energy is within LABEL_DB of the
utterance's loudest frame, short gaps filled); noise is mixed at a known SNR. Everything
is written at 16 kHz, 16-bit PCM, under bench/vad/data/ (gitignored).

Usage: python3 bench/vad/gen_data.py [--out bench/vad/data]
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import tempfile
import wave
from pathlib import Path

import household
import numpy as np
import recorded

SR = 16_000
HOP = SR // 100  # 10 ms label frames
LABEL_DB = 40.0  # frames within 40 dB of the loudest clean frame are speech
FILL_GAP_S = 0.2  # label gaps shorter than this are filled (word pauses)
PHRASE_PAUSE_S = 0.22  # shortest pause between sentences of the training groups (just over FILL_GAP_S)
SPEECH_DBFS = -20.0  # active speech level of every mixture (except "quiet")
QUIET_DBFS = -40.0

SENTENCES_A = [
    ("en", "The quick brown fox jumps over the lazy dog near the river bank."),
    ("en", "Please call Stella and ask her to bring these things with her from the store."),
    ("en", "We will meet at seven thirty tomorrow morning in the main hall."),
    ("en", "Six spoons of fresh snow peas and five thick slabs of blue cheese."),
    ("en", "It is hard to erase blue or red ink from paper."),
    ("en", "The birch canoe slid on the smooth planks."),
    ("en", "Glue the sheet to the dark blue background."),
    ("en", "Rice is often served in round bowls."),
    ("en", "The juice of lemons makes fine punch."),
    ("en", "A large size in stockings is hard to sell."),
    ("de", "Der Zug nach Berlin hat heute leider zwanzig Minuten Verspätung."),
    ("de", "Ich möchte bitte einen Kaffee mit Milch und ohne Zucker."),
    ("fr", "Le petit chat dort sur le canapé depuis ce matin."),
    ("fr", "Nous partirons en vacances au bord de la mer cet été."),
    ("es", "El perro corre por el parque todas las mañanas."),
    ("it", "Domani andiamo al mercato a comprare frutta e verdura."),
]
SENTENCES_B = [
    ("en", "The boy was there when the sun rose over the hills."),
    ("en", "Two blue fish swam in the tank beside the window."),
    ("en", "Her purse was full of useless trash and old receipts."),
    ("en", "The colt reared and threw the tall rider into the hay."),
    ("en", "Open the crate but do not break the glass inside it."),
    ("en", "Thieves who rob friends deserve jail for a long time."),
    ("en", "Can you tell me how far it is to the nearest station?"),
    ("en", "Wind and rain kept us indoors for most of the weekend."),
    ("de", "Morgen früh fahren wir mit dem Fahrrad zum See."),
    ("de", "Das Wetter ist heute kalt, aber die Sonne scheint."),
    ("fr", "Il faut acheter du pain et du fromage avant midi."),
    ("fr", "Ma soeur travaille dans une grande banque à Paris."),
    ("es", "Mañana vamos a visitar a mis abuelos en el campo."),
    ("it", "La biblioteca chiude alle sei di sera il sabato."),
]
SENTENCES_C = [
    ("en", "A cold wind blew across the empty parking lot at night."),
    ("en", "Bring your own lunch because the canteen is closed on Friday."),
    ("en", "The painter mixed yellow and green to match the old wall."),
    ("en", "Nobody noticed the small boat drifting away from the pier."),
    ("en", "Turn left after the bakery and keep going until the bridge."),
    ("de", "Kannst du mir bitte sagen, wann der Laden morgen öffnet?"),
    ("fr", "Les enfants jouent au ballon dans la cour de l'école."),
    ("es", "Mi hermano cocina una paella muy rica los domingos."),
    ("it", "Il treno per Roma parte dal binario numero quattro."),
]
SENTENCES = {"A": SENTENCES_A, "B": SENTENCES_B, "C": SENTENCES_C}
# Voice variants per set: training (A), test (B) and development (C) never share a
# (language, variant) pair.
VARIANTS = {
    "A": ["", "+m3", "+f2", "+klatt", "+f4", "+m7"],
    "B": ["+f3", "+m1", "+klatt2", "+f1", "+m5", "+croak"],
    "C": ["+m2", "+f5", "+klatt3", "+m4", "+m6", "+m8"],
}
# Training-only talkers of other synthesizers: (engine, voice, language of list A used). The
# independent evaluation family (gen_real.py) holds out flite slt and festival's slt (HTS), ked,
# ona and lp voices.
OTHER_VOICES = [
    ("flite", "kal16", "en"),
    ("flite", "awb", "en"),
    ("flite", "rms", "en"),
    ("festival", "kal_diphone", "en"),
    ("festival", "pc_diphone", "it"),
]
# General MIDI programs (0-based) of the training music; gen_real.py uses other ones.
GM_PROGRAMS = [4, 24, 33, 46, 56, 61, 68, 71, 80, 6]
# More training programs for the third group (`hard`): guitars, basses, brass, double reeds,
# synth leads, plucked folk instruments, bagpipe; still none of gen_real.py's (nor a piano,
# organ, string, pad, sax or flute).
GM_PROGRAMS_MORE = [5, 25, 27, 29, 30, 34, 45, 57, 58, 60, 69, 70, 81, 84, 104, 105, 109]
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
EN_VOICES = {
    "A": ["en", "en-us", "en-gb-scotland"],
    "B": ["en-us", "en-gb", "en-gb-x-rp"],
    "C": ["en", "en-gb-x-rp", "en-us"],
}


def espeak(text: str, voice: str, speed: int, pitch: int, tmp: Path) -> np.ndarray:
    """Speak `text` and return float samples at 16 kHz."""
    raw = tmp / "s.wav"
    out = tmp / "s16.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(raw), text],
        check=True,
        capture_output=True,
    )
    subprocess.run(["sox", "-V1", str(raw), "-r", str(SR), "-b", "16", str(out)], check=True)
    return read_wav(out)


def read_wav(path: Path) -> np.ndarray:
    """Read a mono 16-bit WAV as float in [-1, 1)."""
    with wave.open(str(path), "rb") as w:
        data = w.readframes(w.getnframes())
    return np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768.0


def write_wav(path: Path, x: np.ndarray) -> None:
    """Write float samples as mono 16-bit 16 kHz WAV (clipped)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = np.clip(np.round(x * 32768.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())


def frame_energy(x: np.ndarray) -> np.ndarray:
    """Mean square per 10 ms frame."""
    n = len(x) // HOP
    return np.mean(x[: n * HOP].reshape(n, HOP) ** 2, axis=1)


def fill_gaps(lab: np.ndarray, max_gap: int) -> np.ndarray:
    """Fill runs of zeros shorter than `max_gap` that sit between ones."""
    out = lab.copy()
    ones = np.flatnonzero(lab)
    for a, b in itertools.pairwise(ones):
        if 1 < b - a <= max_gap:
            out[a:b] = 1
    return out


def other_voice(engine: str, voice: str, text: str, tempo: float, tmp: Path) -> np.ndarray:
    """Speak `text` with a flite or festival voice (training only); float samples at 16 kHz."""
    raw = tmp / "o.wav"
    out = tmp / "o16.wav"
    if engine == "flite":
        subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(raw)], check=True, capture_output=True)
    else:
        cmd = ["text2wave", "-eval", f"(voice_{voice})", "-o", str(raw)]
        subprocess.run(cmd, input=text.encode(), check=True, capture_output=True)
    subprocess.run(
        ["sox", "-V1", str(raw), "-r", str(SR), "-c", "1", "-b", "16", str(out), "tempo", f"{tempo:.3f}"], check=True
    )
    return read_wav(out)


def other_voice_pool(rng: np.random.Generator, tmp: Path) -> list[list[np.ndarray]]:
    """Per training voice of another synthesizer, its sentences of list A (at tempo 0.85-1.2)."""
    pool = []
    for engine, voice, lang in OTHER_VOICES:
        texts = [t for la, t in SENTENCES_A if la == lang]
        pool.append([other_voice(engine, voice, t, float(rng.uniform(0.85, 1.2)), tmp) for t in texts])
    return pool


def labelled(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One spoken item cut to whole 10 ms frames, and its labels (frames within LABEL_DB of its loudest)."""
    s = s[: len(s) // HOP * HOP]
    e = frame_energy(s)
    return s, (e > e.max() * 10 ** (-LABEL_DB / 10)).astype(np.int8)


def make_utterance(
    rng: np.random.Generator,
    split: str,
    tmp: Path,
    voices: list[list[np.ndarray]] | None = None,
    short_pauses: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate 3-5 spoken sentences with random pauses of 0.3-1.5 s; return (clean,
    labels). With `voices` (an `other_voice_pool`), one of those talkers says them instead of
    espeak-ng. With `short_pauses` the pauses are 0.22-1.5 s and mostly short (three in eight under
    0.4 s, as between phrases), from the same random draw."""
    sentences = SENTENCES[split]
    variants = VARIANTS[split]
    talker = voices[int(rng.integers(len(voices)))] if voices else None
    parts = [np.zeros(int(rng.uniform(0.4, 1.0) * SR))]
    labels = [np.zeros(len(parts[0]) // HOP, dtype=np.int8)]
    for _ in range(int(rng.integers(3, 6))):
        if talker is not None:
            s = talker[int(rng.integers(len(talker)))]
        else:
            lang, text = sentences[int(rng.integers(len(sentences)))]
            base = str(rng.choice(EN_VOICES[split])) if lang == "en" else lang
            voice = base + str(rng.choice(variants))
            s = espeak(text, voice, int(rng.integers(120, 220)), int(rng.integers(25, 75)), tmp)
        s, lab = labelled(s)
        u = rng.uniform(0.0, 1.0)
        pause_s = PHRASE_PAUSE_S + (1.5 - PHRASE_PAUSE_S) * u * u if short_pauses else 0.3 + 1.2 * u
        gap = np.zeros(int(pause_s * SR) // HOP * HOP)
        parts += [s, gap]
        labels += [lab, np.zeros(len(gap) // HOP, dtype=np.int8)]
    clean = np.concatenate(parts)
    lab = fill_gaps(np.concatenate(labels), int(FILL_GAP_S * 100))
    return clean, lab


def active_rms(clean: np.ndarray, lab: np.ndarray) -> float:
    """RMS of the clean signal over labelled speech frames."""
    e = frame_energy(clean)
    return float(np.sqrt(np.mean(e[lab.astype(bool)])))


def colored_noise(rng: np.random.Generator, n: int, kind: str) -> np.ndarray:
    """Unit-RMS white, pink (1/f) or brown (1/f^2) noise."""
    w = rng.standard_normal(n)
    if kind != "white":
        spec = np.fft.rfft(w)
        f = np.maximum(np.fft.rfftfreq(n, 1 / SR), 20.0)
        spec /= np.sqrt(f) if kind == "pink" else f
        w = np.fft.irfft(spec, n)
    return w / np.sqrt(np.mean(w**2))


def hum(rng: np.random.Generator, n: int) -> np.ndarray:
    """Mains hum: 50 or 60 Hz with decaying (odd-heavy) harmonics, slow wobble."""
    f0 = float(rng.choice([50.0, 60.0])) * rng.uniform(0.998, 1.002)
    t = np.arange(n) / SR
    x = np.zeros(n)
    for k in range(1, 12):
        amp = (1.0 if k % 2 else 0.4) / k * rng.uniform(0.5, 1.5)
        x += amp * np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 2 * np.pi))
    x *= 1 + 0.05 * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t)
    x += 0.01 * colored_noise(rng, n, "pink")
    return x / np.sqrt(np.mean(x**2))


def tone(rng: np.random.Generator, freq: float, n: int, decay_per_s: float) -> np.ndarray:
    """A harmonic note: sustained (ADSR, decay 0) or decaying (exponential, higher
    harmonics faster; a sharp attack when the decay is fast, as for a pluck)."""
    t = np.arange(n) / SR
    x = np.zeros(n)
    nh = int(rng.integers(3, 10))
    for k in range(1, nh + 1):
        if freq * k > SR / 2 - 500:
            break
        amp = rng.uniform(0.3, 1.0) / k
        decay = np.exp(-t * decay_per_s * (1 + 0.5 * k)) if decay_per_s > 0 else 1.0
        x += amp * decay * np.sin(2 * np.pi * freq * k * t + rng.uniform(0, 2 * np.pi))
    att = min(n, int((0.003 if decay_per_s > 1.5 else rng.uniform(0.01, 0.08)) * SR))
    env = np.ones(n)
    env[:att] = np.linspace(0, 1, att)
    if decay_per_s == 0:
        rel = min(n, int(0.05 * SR))
        env[n - rel :] *= np.linspace(1, 0, rel)
    return x * env


def music(rng: np.random.Generator, n: int) -> np.ndarray:
    """Chords with changing notes plus a plucked melody (random, tonal). Per clip:
    major/minor/suspended chords, held or decaying, at a free or a steady tempo."""
    x = np.zeros(n)
    root = rng.uniform(100, 240)
    scale = [0, 2, 4, 5, 7, 9, 11]
    steady = rng.random() < 0.5
    beat = rng.uniform(0.25, 0.7)
    chord_decay = 0.0 if rng.random() < 0.5 else rng.uniform(0.5, 2.0)
    pos = 0
    while pos < n:
        dur = int((beat * int(rng.integers(1, 4)) if steady else rng.uniform(0.4, 1.5)) * SR)
        chord = root * 2 ** (rng.choice(scale) / 12)
        shape = [[0, 4, 7], [0, 3, 7], [0, 5, 7], [0, 4, 7, 11]][int(rng.integers(4))]
        for iv in shape:
            seg = tone(rng, chord * 2 ** (iv / 12), min(dur, n - pos), chord_decay)
            x[pos : pos + len(seg)] += 0.5 * seg
        pos += dur
    pos = 0
    while pos < n:
        dur = int((beat / int(rng.integers(1, 3)) if steady else rng.uniform(0.12, 0.6)) * SR)
        f = root * 2 * 2 ** ((rng.choice(scale) + 12 * rng.integers(0, 2)) / 12)
        seg = tone(rng, f, min(int(dur * rng.uniform(1.0, 2.0)), n - pos), rng.uniform(2, 6))
        x[pos : pos + len(seg)] += seg
        pos += dur
    return x / np.sqrt(np.mean(x**2))


def babble(rng: np.random.Generator, n: int, pool: list[np.ndarray]) -> np.ndarray:
    """Six overlapped talkers from a separate pool, time-reversed, random offsets."""
    x = np.zeros(n)
    for _ in range(6):
        src = pool[int(rng.integers(len(pool)))]
        src = np.tile(src, n // len(src) + 2)[::-1]
        off = int(rng.integers(0, len(src) - n))
        seg = src[off : off + n]
        x += seg / (np.sqrt(np.mean(seg**2)) + 1e-12)
    return x / np.sqrt(np.mean(x**2))


def tilted_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unit-RMS noise with a random spectral slope (-8 to +2 dB per octave)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n, 1 / SR), 30.0)
    spec *= (f / 1000.0) ** (rng.uniform(-8, 2) / 6.02)
    w = np.fft.irfft(spec, n)
    return w / np.sqrt(np.mean(w**2))


def unsteady(rng: np.random.Generator, n: int) -> np.ndarray:
    """Noise whose level changes: steps of 6-20 dB held 1-5 s, or ramps of 10-25 dB over 1-4 s."""
    x = tilted_noise(rng, n)
    pts, levels, pos, level = [0], [0.0], 0, 0.0
    steps = rng.random() < 0.6
    while pos < n:
        hold = int(rng.uniform(1, 5) * SR)
        change = float(rng.uniform(6, 20) if steps else rng.uniform(10, 25))
        level = level + change if level <= 0 else level - change
        if steps:
            pts += [pos + hold, pos + hold + int(0.005 * SR)]
            levels += [levels[-1], level]
        else:
            pts.append(pos + hold)
            levels.append(level)
        pos += hold
    db = np.interp(np.arange(n), pts, levels)
    x = x * 10 ** (db / 20)
    return x / np.sqrt(np.mean(x**2))


def transients(rng: np.random.Generator, n: int) -> np.ndarray:
    """Impulsive events over a faint bed: clicks (typing), knocks and thuds (doors),
    clinks (inharmonic rings: cutlery, dishes), at 0.5-8 events per second in bursts."""
    x = np.zeros(n + SR)
    pos = 0
    rate = rng.uniform(0.5, 8)
    kinds = rng.choice(["click", "knock", "clink"], size=int(rng.integers(1, 4)), replace=False)
    while pos < n:
        kind = str(rng.choice(kinds))
        if kind == "click":
            m = int(rng.uniform(0.002, 0.015) * SR)
            ev = rng.standard_normal(m) * np.exp(-np.arange(m) / (m * rng.uniform(0.1, 0.4)))
            spec = np.fft.rfft(ev)
            spec[np.fft.rfftfreq(m, 1 / SR) < rng.uniform(200, 1500)] = 0
            ev = np.fft.irfft(spec, m)
        elif kind == "knock":
            m = int(rng.uniform(0.15, 0.6) * SR)
            t = np.arange(m) / SR
            ev = np.sin(2 * np.pi * rng.uniform(50, 300) * t) * np.exp(-t * rng.uniform(10, 40))
            ev[: int(0.004 * SR)] += 0.5 * rng.standard_normal(int(0.004 * SR))
        else:
            m = int(rng.uniform(0.1, 0.6) * SR)
            t = np.arange(m) / SR
            f0 = rng.uniform(700, 4500)
            ev = sum(
                np.sin(2 * np.pi * f0 * r * t + rng.uniform(0, 6.3)) * np.exp(-t * rng.uniform(8, 80))
                for r in [1.0, *rng.uniform(1.3, 7.0, size=int(rng.integers(1, 4)))]
            )
        x[pos : pos + len(ev)] += ev * 10 ** (rng.uniform(-12, 0) / 20)
        gap = rng.exponential(1 / rate) if rng.random() < 0.9 else rng.uniform(1, 3)
        pos += int((gap + 0.02) * SR)
    x = x[:n] / np.sqrt(np.mean(x[:n] ** 2) + 1e-12) + 10 ** (rng.uniform(-40, -15) / 20) * tilted_noise(rng, n)
    return x / np.sqrt(np.mean(x**2))


def fan(rng: np.random.Generator, n: int) -> np.ndarray:
    """Ventilation: tilted noise, 1-3 blade tones (60-250 Hz, with harmonics), slow swell."""
    t = np.arange(n) / SR
    x = tilted_noise(rng, n)
    for _ in range(int(rng.integers(1, 4))):
        f = rng.uniform(60, 250)
        for k in range(1, int(rng.integers(2, 6))):
            x += rng.uniform(0.02, 0.3) / k * np.sin(2 * np.pi * f * k * t + rng.uniform(0, 6.3))
    x *= 1 + rng.uniform(0, 0.3) * np.sin(2 * np.pi * rng.uniform(0.03, 0.3) * t)
    return x / np.sqrt(np.mean(x**2))


def room_response(rng: np.random.Generator, rt60: float) -> np.ndarray:
    """Impulse response of a room: a direct sound and a noise tail decaying 60 dB in `rt60` s,
    darker as it decays, at a direct-to-reverberant ratio of -3..+9 dB."""
    m = int(rt60 * SR)
    t = np.arange(m) / SR
    tail = rng.standard_normal(m) * 10 ** (-3 * t / rt60)
    spec = np.fft.rfft(tail)
    spec /= 1 + np.fft.rfftfreq(m, 1 / SR) / rng.uniform(2000, 6000)
    tail = np.fft.irfft(spec, m)
    tail *= 10 ** (-rng.uniform(-3, 9) / 20) / np.sqrt(np.sum(tail**2))
    tail[0] = 1.0
    return tail


def convolve(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Linear convolution cut to len(x)."""
    size = 1 << int(np.ceil(np.log2(len(x) + len(h))))
    return np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)[: len(x)]


def far_talk(rng: np.random.Generator, n: int, pool: list[np.ndarray]) -> np.ndarray:
    """Office-like: a fan, clicks, and one or two far talkers (reverberant, muffled, 8-20 dB down)."""
    x = fan(rng, n)
    if rng.random() < 0.7:
        x += transients(rng, n) * 10 ** (rng.uniform(-6, 6) / 20)
    for _ in range(int(rng.integers(1, 3))):
        src = pool[int(rng.integers(len(pool)))]
        src = np.tile(src, n // len(src) + 2)
        off = int(rng.integers(0, len(src) - n))
        far = convolve(src[off : off + n], room_response(rng, rng.uniform(0.6, 1.5)))
        spec = np.fft.rfft(far)
        spec /= 1 + np.fft.rfftfreq(n, 1 / SR) / rng.uniform(800, 2500)
        far = np.fft.irfft(spec, n)
        x += far / (np.sqrt(np.mean(far**2)) + 1e-12) * 10 ** (-rng.uniform(8, 20) / 20)
    return x / np.sqrt(np.mean(x**2))


def keyboard(rng: np.random.Generator, n: int) -> np.ndarray:
    """Typing: words of 2-9 keystrokes at 5-12 keys per second with pauses between them;
    a keystroke is a bright press click with a low body thump and a softer release
    40-140 ms later; over a faint fan or tilted-noise bed."""
    x = np.zeros(n + SR)
    keys_per_s = rng.uniform(5, 12)
    body_hz = rng.uniform(120, 450)
    bright = rng.uniform(1000, 3500)
    pos = int(rng.uniform(0, 0.5) * SR)
    while pos < n:
        for _ in range(int(rng.integers(2, 10))):
            for part, gain in ((0, 1.0), (int(rng.uniform(0.04, 0.14) * SR), rng.uniform(0.2, 0.6))):
                m = int(rng.uniform(0.003, 0.01) * SR)
                click = rng.standard_normal(m) * np.exp(-np.arange(m) / (m * 0.25))
                spec = np.fft.rfft(click, 4 * m)
                spec[np.fft.rfftfreq(4 * m, 1 / SR) < bright * rng.uniform(0.7, 1.3)] *= 0.1
                click = np.fft.irfft(spec, 4 * m)
                t = np.arange(int(0.04 * SR)) / SR
                thump = np.sin(2 * np.pi * body_hz * rng.uniform(0.8, 1.25) * t) * np.exp(-t * rng.uniform(60, 150))
                ev = np.zeros(len(t))
                ev[: len(click)] += click / (np.abs(click).max() + 1e-12)
                ev += rng.uniform(0.1, 0.6) * thump
                at = min(pos + part, len(x) - len(ev))
                x[at : at + len(ev)] += gain * ev * 10 ** (rng.uniform(-6, 0) / 20)
            pos += int(rng.exponential(1 / keys_per_s) * SR + 0.03 * SR)
        pos += int(rng.uniform(0.15, 1.2) * SR if rng.random() < 0.85 else rng.uniform(1.5, 4) * SR)
    x = x[:n] / np.sqrt(np.mean(x[:n] ** 2) + 1e-12)
    bed = fan(rng, n) if rng.random() < 0.5 else tilted_noise(rng, n)
    x = x + 10 ** (rng.uniform(-35, -12) / 20) * bed
    return x / np.sqrt(np.mean(x**2))


def passing(rng: np.random.Generator, n: int) -> np.ndarray:
    """Road noise: a low-passed rumble whose level swells by 6-20 dB as vehicles pass
    (bell-shaped, 2-8 s wide), with the brightness rising at each pass."""
    t = np.arange(n) / SR
    base = colored_noise(rng, n, "brown")
    bright = tilted_noise(rng, n)
    env_db = np.zeros(n)
    share = np.zeros(n)
    for centre in np.cumsum(rng.uniform(1.5, 7, size=int(n / SR / 1.5) + 2)):
        width = rng.uniform(1, 4)
        bump = np.exp(-0.5 * ((t - centre) / width) ** 2)
        env_db = np.maximum(env_db, rng.uniform(6, 20) * bump)
        share = np.maximum(share, bump)
    x = (base + share * rng.uniform(0.2, 0.8) * bright) * 10 ** (env_db / 20)
    return x / np.sqrt(np.mean(x**2))


def midi_bytes(rng: np.random.Generator, seconds: float, programs: list[int] = GM_PROGRAMS) -> bytes:
    """A one-track MIDI file: a drum groove, a bass line, arpeggiated or held chords
    (training programs only) and sometimes a lead line."""
    ppq = 96
    bpm = rng.uniform(70, 160)
    beat_ticks = ppq
    total = int(seconds * bpm / 60 * ppq)
    progs = rng.choice(programs, size=3, replace=False)
    ev: list[tuple[int, int, bytes]] = []
    for ch, prog in enumerate(progs):
        ev.append((0, 0, bytes([0xC0 | ch, int(prog)])))

    def note(ch: int, key: int, vel: int, start: int, dur: int) -> None:
        ev.append((start, 1, bytes([0x90 | ch, key, vel])))
        ev.append((start + max(dur, 1), 0, bytes([0x80 | ch, key, 0])))

    key = int(rng.integers(40, 52))
    degrees = [0, 2, 4, 5, 7, 9, 11] if rng.random() < 0.5 else [0, 2, 3, 5, 7, 8, 10]
    arpeggio = rng.random() < 0.5
    drums = rng.random() < 0.8
    for bar in range(0, total, 4 * beat_ticks):
        root = key + degrees[int(rng.integers(7))]
        note(1, root - 12, 90, bar, 4 * beat_ticks - 4)
        chord = [root, root + 4 if rng.random() < 0.5 else root + 3, root + 7]
        if arpeggio:
            for i in range(8):
                note(0, chord[i % 3] + 12, 70, bar + i * beat_ticks // 2, beat_ticks // 2)
        else:
            for k in chord:
                note(0, k + 12, 60, bar, 4 * beat_ticks - 4)
        for b in range(4):
            start = bar + b * beat_ticks
            if drums:
                note(9, 35 if b in (0, 2) else 40, 100, start, 10)
                note(9, 44 if rng.random() < 0.5 else 46, 60, start + beat_ticks // 2, 10)
            if rng.random() < 0.5:
                note(2, root + 24 + degrees[int(rng.integers(7))], 80, start, beat_ticks)
    ev.sort(key=lambda e: (e[0], e[1]))
    body = bytearray()
    body += b"\x00\xff\x51\x03" + int(60e6 / bpm).to_bytes(3, "big")
    now = 0
    for tick, _, msg in ev:
        delta = tick - now
        now = tick
        chunk = [delta & 0x7F]
        while delta > 0x7F:
            delta >>= 7
            chunk.insert(0, 0x80 | (delta & 0x7F))
        body += bytes(chunk) + msg
    body += b"\x00\xff\x2f\x00"
    header = b"MThd" + (6).to_bytes(4, "big") + (0).to_bytes(2, "big") + (1).to_bytes(2, "big")
    return header + ppq.to_bytes(2, "big") + b"MTrk" + len(body).to_bytes(4, "big") + bytes(body)


def gm_music(rng: np.random.Generator, n: int, tmp: Path, programs: list[int] = GM_PROGRAMS) -> np.ndarray:
    """Instrument music rendered by fluidsynth (General MIDI soundfont) from `midi_bytes`."""
    mid = tmp / "g.mid"
    out = tmp / "g.wav"
    mid.write_bytes(midi_bytes(rng, n / SR + 0.5, programs))
    subprocess.run(
        ["fluidsynth", "-ni", "-q", "-r", str(SR), "-F", str(out), SOUNDFONT, str(mid)], check=True, capture_output=True
    )
    with wave.open(str(out), "rb") as w:
        ch = w.getnchannels()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64).reshape(-1, ch).mean(axis=1)
    x = np.resize(x, n)
    return x / (np.sqrt(np.mean(x**2)) + 1e-12)


def channel(rng: np.random.Generator, x: np.ndarray, kind: str) -> np.ndarray:
    """A capture channel: a reverberant room, a telephone (300-3400 Hz band, mu-law 8 bit)
    or slow gain rides of up to +-10 dB."""
    if kind == "room":
        return convolve(x, room_response(rng, rng.uniform(0.2, 0.9)))
    if kind == "phone":
        spec = np.fft.rfft(x)
        f = np.fft.rfftfreq(len(x), 1 / SR)
        spec[(f < 300) | (f > 3400)] = 0
        y = np.clip(np.fft.irfft(spec, len(x)), -1, 1)
        code = np.round(np.sign(y) * np.log1p(255 * np.abs(y)) / np.log(256) * 127) / 127
        return np.sign(code) * (256 ** np.abs(code) - 1) / 255
    step = int(rng.uniform(0.5, 2) * SR)
    knots = np.arange(0, len(x) + step, step)
    return x * 10 ** (np.interp(np.arange(len(x)), knots, rng.uniform(-10, 10, size=len(knots))) / 20)


def noise_of(
    kind: str, rng: np.random.Generator, n: int, pool: list[np.ndarray], tmp: Path | None = None
) -> np.ndarray:
    """Unit-RMS noise of the named kind (`gm_music` needs a scratch folder)."""
    if kind in ("white", "pink", "brown"):
        return colored_noise(rng, n, kind)
    if kind == "hum":
        return hum(rng, n)
    if kind == "music":
        return music(rng, n)
    if kind == "unsteady":
        return unsteady(rng, n)
    if kind == "transients":
        return transients(rng, n)
    if kind == "fan":
        return fan(rng, n)
    if kind == "far_talk":
        return far_talk(rng, n, pool)
    if kind in ("gm_music", "gm_music_more"):
        assert tmp is not None, "gm_music renders through a scratch folder"
        return gm_music(rng, n, tmp, GM_PROGRAMS_MORE if kind == "gm_music_more" else GM_PROGRAMS)
    if kind == "keyboard":
        return keyboard(rng, n)
    if kind == "passing":
        return passing(rng, n)
    return babble(rng, n, pool)


def mix(clean: np.ndarray, lab: np.ndarray, noise: np.ndarray, snr_db: float, level: float) -> np.ndarray:
    """Scale clean speech to `level` dBFS active RMS and add noise at `snr_db`."""
    g = 10 ** (level / 20) / active_rms(clean, lab)
    s = clean * g
    nrms = 10 ** (level / 20) * 10 ** (-snr_db / 20)
    return s + noise * nrms


TEST_CONDITIONS: list[tuple[str, str | None, float, float]] = [
    ("clean", None, 0.0, SPEECH_DBFS),
    *[(f"{k}_{s}dB", k, float(s), SPEECH_DBFS) for k in ("white", "pink", "brown") for s in (20, 10, 5, 0)],
    ("hum_5dB", "hum", 5.0, SPEECH_DBFS),
    ("music_10dB", "music", 10.0, SPEECH_DBFS),
    ("babble_10dB", "babble", 10.0, SPEECH_DBFS),
    ("quiet_-40dBFS", None, 0.0, QUIET_DBFS),
]
NOISE_ONLY = ["white", "pink", "brown", "hum", "music", "babble"]


def eval_split(
    split: str, talkers: str, files: int, rng: np.random.Generator, pool: list[np.ndarray], out: Path, tmp: Path
) -> list[dict[str, object]]:
    """Write `files` utterances of the `talkers` set in every test condition, and as
    many noise-only clips of each kind, under out/<split>/; return their manifest rows."""
    rows: list[dict[str, object]] = []
    for i in range(files):
        clean, lab = make_utterance(rng, talkers, tmp)
        for name, kind, snr, level in TEST_CONDITIONS:
            noise = noise_of(kind, rng, len(clean), pool) if kind else np.zeros(len(clean))
            x = mix(clean, lab, noise, snr, level)
            rel = f"{split}/{name}/{i:02d}.wav"
            write_wav(out / rel, x)
            rows.append({"split": split, "condition": name, "wav": rel, "labels": lab.tolist()})
    for i in range(files):
        for kind in NOISE_ONLY:
            n = int(rng.uniform(8, 14) * SR)
            x = noise_of(kind, rng, n, pool) * 10 ** (rng.uniform(-45, -20) / 20)
            rel = f"{split}/only_{kind}/{i:02d}.wav"
            write_wav(out / rel, x)
            rows.append({"split": split, "condition": f"only_{kind}", "wav": rel, "labels": [0] * (n // HOP)})
    return rows


HARD_SPEECH = ["pink", "brown", "keyboard", "white", "unsteady", "gm_music_more", "fan", "passing", "far_talk", "pink"]
HARD_NOISE = ["gm_music_more", "keyboard", "passing", "far_talk", "gm_music_more", "keyboard", "transients", "unsteady"]


def first_group(files: int, pool_b: list[np.ndarray], out: Path, tmp: Path) -> list[dict[str, object]]:
    """The first training group: espeak-ng speech in white, pink, brown noise, hum, music and
    babble (or clean), and as many noise-only clips. Seed 1001."""
    rows: list[dict[str, object]] = []
    rng = np.random.default_rng(1001)
    kinds = [None, "white", "pink", "brown", "hum", "music", "babble"]
    for i in range(files):
        clean, lab = make_utterance(rng, "A", tmp, short_pauses=True)
        kind = kinds[i % len(kinds)]
        level = float(rng.uniform(-50, -12))
        snr = float(rng.uniform(-2, 25))
        noise = noise_of(kind, rng, len(clean), pool_b) if kind else np.zeros(len(clean))
        x = mix(clean, lab, noise, snr, level)
        rel = f"train/speech/{i:03d}.wav"
        write_wav(out / rel, x)
        rows.append({"split": "train", "condition": str(kind), "wav": rel, "labels": lab.tolist()})
    # Noise-only training clips; music (three times) and babble (twice) come more often.
    noise_kinds = [*NOISE_ONLY, "music", "babble", "music", "music"]
    for i in range(files):
        kind = noise_kinds[i % len(noise_kinds)]
        n = int(rng.uniform(8, 14) * SR)
        x = noise_of(kind, rng, n, pool_b) * 10 ** (rng.uniform(-50, -12) / 20)
        rel = f"train/noise/{i:03d}.wav"
        write_wav(out / rel, x)
        rows.append({"split": "train", "condition": f"only_{kind}", "wav": rel, "labels": [0] * (n // HOP)})
    return rows


def wide_group(files: int, pool_b: list[np.ndarray], out: Path, tmp: Path) -> list[dict[str, object]]:
    """The second training group (kinds the first lacks: other synthesizers' voices, level steps
    and ramps, impulsive noises, fans, far talkers, instrument music, rooms, telephone, gain
    rides), and as many noise-only clips. Its own seeds (1002, 1003)."""
    rows: list[dict[str, object]] = []
    voices = other_voice_pool(np.random.default_rng(1002), tmp)
    rng = np.random.default_rng(1003)
    wide = ["unsteady", "transients", "fan", "far_talk", "gm_music", "pink", "hum", None, "white", "brown"]
    for i in range(files):
        clean, lab = make_utterance(rng, "A", tmp, voices if i % 2 == 0 else None, short_pauses=True)
        kind = wide[i % len(wide)]
        chan = str(rng.choice(["dry", "dry", "room", "phone", "ride"]))
        level = float(rng.uniform(-50, -12))
        g = 10 ** (level / 20) / active_rms(clean, lab)
        speech = clean * g if chan in ("dry", "phone") else channel(rng, clean * g, chan)
        noise = noise_of(kind, rng, len(clean), pool_b, tmp) if kind else np.zeros(len(clean))
        x = speech + noise * 10 ** ((level - float(rng.uniform(-2, 25))) / 20)
        x = channel(rng, x, "phone") if chan == "phone" else x
        rel = f"train/wide_speech/{i:03d}.wav"
        write_wav(out / rel, x)
        rows.append({"split": "train", "condition": str(kind), "wav": rel, "labels": lab.tolist()})
    wide_noise = ["unsteady", "transients", "fan", "far_talk", "gm_music", "unsteady", "far_talk", "gm_music"]
    for i in range(files):
        kind = wide_noise[i % len(wide_noise)]
        n = int(rng.uniform(8, 14) * SR)
        x = noise_of(kind, rng, n, pool_b, tmp) * 10 ** (rng.uniform(-50, -12) / 20)
        x = channel(rng, x, "phone") if rng.random() < 0.15 else x
        rel = f"train/wide_noise/{i:03d}.wav"
        write_wav(out / rel, x)
        rows.append({"split": "train", "condition": f"only_{kind}", "wav": rel, "labels": [0] * (n // HOP)})
    return rows


def hard_group(files: int, pool: list[np.ndarray], out: Path, tmp: Path) -> list[dict[str, object]]:
    """The third training group: more speech at -3..6 dB SNR in broadband, unsteady and road
    noise; speech over typing, far talkers and instrument music of other programs at 0-15 dB;
    and as many noise-only clips of those kinds. Its own seeds (1004, 1005)."""
    rows: list[dict[str, object]] = []
    voices = other_voice_pool(np.random.default_rng(1004), tmp)
    rng = np.random.default_rng(1005)
    for i in range(files):
        clean, lab = make_utterance(rng, "A", tmp, voices if i % 2 == 0 else None, short_pauses=True)
        kind = HARD_SPEECH[i % len(HARD_SPEECH)]
        low = kind in ("pink", "brown", "white", "unsteady", "fan", "passing")
        snr = float(rng.uniform(-3, 6) if low else rng.uniform(0, 15))
        chan = str(rng.choice(["dry", "dry", "dry", "room", "phone", "ride"]))
        level = float(rng.uniform(-45, -12))
        g = 10 ** (level / 20) / active_rms(clean, lab)
        speech = clean * g if chan in ("dry", "phone") else channel(rng, clean * g, chan)
        x = speech + noise_of(kind, rng, len(clean), pool, tmp) * 10 ** ((level - snr) / 20)
        x = channel(rng, x, "phone") if chan == "phone" else x
        rel = f"train/hard_speech/{i:03d}.wav"
        write_wav(out / rel, x)
        rows.append({"split": "train", "condition": kind, "wav": rel, "labels": lab.tolist()})
    for i in range(files):
        kind = HARD_NOISE[i % len(HARD_NOISE)]
        n = int(rng.uniform(8, 14) * SR)
        x = noise_of(kind, rng, n, pool, tmp) * 10 ** (rng.uniform(-50, -12) / 20)
        x = channel(rng, x, str(rng.choice(["phone", "room", "ride"]))) if rng.random() < 0.25 else x
        rel = f"train/hard_noise/{i:03d}.wav"
        write_wav(out / rel, x)
        rows.append({"split": "train", "condition": f"only_{kind}", "wav": rel, "labels": [0] * (n // HOP)})
    return rows


HOME_KINDS = ["recorded_music", "washer", "switch_on", "desk", "recorded_music", "washer", "desk", "switch_on"]


def home_noise(kind: str, rng: np.random.Generator, n: int, tmp: Path, held_out: bool = False) -> np.ndarray:
    """Unit-RMS noise of a household kind (`household.py`); recorded music goes through a low bit
    rate codec one time in three."""
    if kind == "recorded_music":
        x = household.recorded_music(rng, n, held_out)
        return household.low_rate_codec(rng, x, tmp) if rng.random() < 1 / 3 else x
    if kind == "washer":
        return household.cycling_machine(rng, n)
    if kind == "switch_on":
        return household.switch_on(rng, n)
    return household.desk(rng, n, held_out)


def home_channel(rng: np.random.Generator, x: np.ndarray, kind: str) -> np.ndarray:
    """`channel`, or the microphone AGC (`household.agc`)."""
    return household.agc(rng, x) if kind == "agc" else channel(rng, x, kind)


def home_group(files: int, out: Path, tmp: Path) -> list[dict[str, object]]:
    """The fourth training group: speech at 0-15 dB over the household kinds of `household.py`
    (recorded music, cycling machines, appliances switching on, desk events), some through a
    room, a telephone, gain rides or a microphone AGC; and as many noise-only clips of those
    kinds, a third of them through a channel. Its own seeds (1006, 1007)."""
    rows: list[dict[str, object]] = []
    voices = other_voice_pool(np.random.default_rng(1006), tmp)
    rng = np.random.default_rng(1007)
    for i in range(files):
        clean, lab = make_utterance(rng, "A", tmp, voices if i % 2 == 0 else None, short_pauses=True)
        kind = HOME_KINDS[i % len(HOME_KINDS)]
        chan = str(rng.choice(["dry", "dry", "room", "phone", "ride", "agc"]))
        level = float(rng.uniform(-45, -12))
        g = 10 ** (level / 20) / active_rms(clean, lab)
        speech = clean * g if chan in ("dry", "phone", "agc") else channel(rng, clean * g, chan)
        x = speech + home_noise(kind, rng, len(clean), tmp) * 10 ** ((level - float(rng.uniform(0, 15))) / 20)
        x = home_channel(rng, x, chan) if chan in ("phone", "agc") else x
        x = x * min(1.0, 0.9 / (np.max(np.abs(x)) + 1e-12))
        rel = f"train/home_speech/{i:03d}.wav"
        write_wav(out / rel, x)
        rows.append({"split": "train", "condition": kind, "wav": rel, "labels": lab.tolist()})
    for i in range(files):
        kind = HOME_KINDS[i % len(HOME_KINDS)]
        n = int(rng.uniform(8, 14) * SR)
        x = home_noise(kind, rng, n, tmp) * 10 ** (rng.uniform(-50, -12) / 20)
        if rng.random() < 1 / 3:
            x = home_channel(rng, x, str(rng.choice(["phone", "room", "ride", "agc", "agc"])))
        x = x * min(1.0, 0.9 / (np.max(np.abs(x)) + 1e-12))
        rel = f"train/home_noise/{i:03d}.wav"
        write_wav(out / rel, x)
        rows.append({"split": "train", "condition": f"only_{kind}", "wav": rel, "labels": [0] * (n // HOP)})
    return rows


HOME_DEV_CONDITIONS = [
    ("homemusic", "recorded_music"),
    ("washer", "washer"),
    ("switchon", "switch_on"),
    ("desk", "desk"),
]


def home_dev_split(files: int, out: Path, tmp: Path) -> list[dict[str, object]]:
    """`home_dev`: held-out clips of the household kinds (development sentences and voices, the
    held-out music tracks and key recordings, seed 3006): speech at 10 dB over each kind, over
    desk events through the AGC, and each kind alone (the desk through the AGC too)."""
    rows: list[dict[str, object]] = []
    rng = np.random.default_rng(3006)
    for i in range(files):
        clean, lab = make_utterance(rng, "C", tmp)
        g = 10 ** (SPEECH_DBFS / 20) / active_rms(clean, lab)
        for name, kind in [*HOME_DEV_CONDITIONS, ("agcdesk", "desk")]:
            noise = home_noise(kind, rng, len(clean), tmp, held_out=True)
            x = clean * g + noise * 10 ** ((SPEECH_DBFS - 10) / 20)
            x = household.agc(rng, x) if name == "agcdesk" else x
            x = x * min(1.0, 0.9 / (np.max(np.abs(x)) + 1e-12))
            rel = f"home_dev/{name}_10dB/{i:02d}.wav"
            write_wav(out / rel, x)
            rows.append({"split": "home_dev", "condition": f"{name}_10dB", "wav": rel, "labels": lab.tolist()})
        for name, kind in [*HOME_DEV_CONDITIONS, ("agcdesk", "desk")]:
            n = int(rng.uniform(8, 14) * SR)
            x = home_noise(kind, rng, n, tmp, held_out=True) * 10 ** (rng.uniform(-45, -20) / 20)
            x = household.agc(rng, x) if name == "agcdesk" else x
            x = x * min(1.0, 0.9 / (np.max(np.abs(x)) + 1e-12))
            rel = f"home_dev/only_{name}/{i:02d}.wav"
            write_wav(out / rel, x)
            rows.append({"split": "home_dev", "condition": f"only_{name}", "wav": rel, "labels": [0] * (n // HOP)})
    return rows


# Where each group's clips go (the manifest keeps the rows of groups not regenerated).
WORDS_KINDS = ["gm_music", "recorded_music", "music", "gm_music_more", "pink", "recorded_music", "unsteady", "gm_music"]


def short_utterance(rng: np.random.Generator, tmp: Path) -> tuple[np.ndarray, np.ndarray]:
    """4-7 short items (one to three words of a list-A sentence) with pauses of 0.6-2.5 s, each
    said by espeak-ng or one of the other synthesizers' training voices; (clean, labels) as in
    `make_utterance`."""
    parts = [np.zeros(int(rng.uniform(0.4, 1.0) * SR))]
    labels = [np.zeros(len(parts[0]) // HOP, dtype=np.int8)]
    for _ in range(int(rng.integers(4, 8))):
        lang, text = SENTENCES_A[int(rng.integers(len(SENTENCES_A)))]
        words = text.split()
        k = int(rng.integers(1, 4))
        first = int(rng.integers(0, max(len(words) - k, 0) + 1))
        item = " ".join(words[first : first + k]).strip(",.;:!?")
        others = [v for v in OTHER_VOICES if v[2] == lang]
        if others and rng.random() < 0.5:
            engine, voice, _ = others[int(rng.integers(len(others)))]
            s = other_voice(engine, voice, item, float(rng.uniform(0.85, 1.2)), tmp)
        else:
            base = str(rng.choice(EN_VOICES["A"])) if lang == "en" else lang
            voice = base + str(rng.choice(VARIANTS["A"]))
            s = espeak(item, voice, int(rng.integers(120, 220)), int(rng.integers(25, 75)), tmp)
        s, lab = labelled(s)
        gap = np.zeros(int(rng.uniform(0.6, 2.5) * SR) // HOP * HOP)
        parts += [s, gap]
        labels += [lab, np.zeros(len(gap) // HOP, dtype=np.int8)]
    return np.concatenate(parts), fill_gaps(np.concatenate(labels), int(FILL_GAP_S * 100))


def words_group(files: int, pool_b: list[np.ndarray], out: Path, tmp: Path) -> list[dict[str, object]]:
    """The fifth training group: short isolated items (one to three words) over music (synthetic,
    instrument and recorded), pink and unsteady noise at -2..15 dB SNR, some through a room, a
    telephone or gain rides; no noise-only clips (the other groups have plenty of music alone).
    Conditions are the noise kinds' names, so their pauses count as hard negatives as elsewhere.
    Its own seed (1010)."""
    rows: list[dict[str, object]] = []
    rng = np.random.default_rng(1010)
    for i in range(files):
        clean, lab = short_utterance(rng, tmp)
        kind = WORDS_KINDS[i % len(WORDS_KINDS)]
        chan = str(rng.choice(["dry", "dry", "dry", "room", "phone", "ride"]))
        level = float(rng.uniform(-45, -12))
        g = 10 ** (level / 20) / active_rms(clean, lab)
        speech = clean * g if chan in ("dry", "phone") else channel(rng, clean * g, chan)
        n = len(clean)
        noise = home_noise(kind, rng, n, tmp) if kind == "recorded_music" else noise_of(kind, rng, n, pool_b, tmp)
        x = speech + noise * 10 ** ((level - float(rng.uniform(-2, 15))) / 20)
        x = channel(rng, x, "phone") if chan == "phone" else x
        rel = f"train/words_speech/{i:03d}.wav"
        write_wav(out / rel, x)
        rows.append({"split": "train", "condition": kind, "wav": rel, "labels": lab.tolist()})
    return rows


RECORDED_KINDS = [
    None, "pink", "gm_music", "recorded_music", "unsteady", "far_talk", "washer", "keyboard",
    "white", "music", "desk", "fan", "hum", "passing", "brown", "switch_on",
]  # fmt: skip


def recorded_utterance(rng: np.random.Generator, talker: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """3-6 of one real talker's recordings (`recorded.py`) with the training groups' short-biased
    pauses; (clean, labels) as in `make_utterance`."""
    parts = [np.zeros(int(rng.uniform(0.4, 1.0) * SR))]
    labels = [np.zeros(len(parts[0]) // HOP, dtype=np.int8)]
    for _ in range(int(rng.integers(3, 7))):
        s, lab = labelled(recorded.recording(talker[int(rng.integers(len(talker)))]))
        u = rng.uniform(0.0, 1.0)
        gap = np.zeros(int((PHRASE_PAUSE_S + (1.5 - PHRASE_PAUSE_S) * u * u) * SR) // HOP * HOP)
        parts += [s, gap]
        labels += [lab, np.zeros(len(gap) // HOP, dtype=np.int8)]
    return np.concatenate(parts), fill_gaps(np.concatenate(labels), int(FILL_GAP_S * 100))


def recorded_group(
    files: int, far_files: int, pool_b: list[np.ndarray], out: Path, tmp: Path
) -> list[dict[str, object]]:
    """The sixth training group: real recorded talkers (`recorded.py`, one in turn per mixture)
    clean or over the training kinds (broadband, music of every source, far talkers, machines,
    desk and impulsive noise) at -2..20 dB SNR, some through a room, a telephone, gain rides or
    the microphone AGC; then `far_files` clips of office-like ambience alone whose far talkers
    (`far_talk`) are two of these real talkers, as negatives. Its own seed (1011)."""
    rows: list[dict[str, object]] = []
    rng = np.random.default_rng(1011)
    talkers = recorded.talkers()
    for i in range(files):
        clean, lab = recorded_utterance(rng, talkers[i % len(talkers)])
        kind = RECORDED_KINDS[i % len(RECORDED_KINDS)]
        chan = str(rng.choice(["dry", "dry", "room", "phone", "ride", "agc"]))
        level = float(rng.uniform(-45, -12))
        g = 10 ** (level / 20) / active_rms(clean, lab)
        speech = clean * g if chan in ("dry", "phone", "agc") else channel(rng, clean * g, chan)
        n = len(clean)
        if kind is None:
            noise = np.zeros(n)
        elif kind in ("recorded_music", "washer", "switch_on", "desk"):
            noise = home_noise(kind, rng, n, tmp)
        else:
            noise = noise_of(kind, rng, n, pool_b, tmp)
        x = speech + noise * 10 ** ((level - float(rng.uniform(-2, 20))) / 20)
        x = home_channel(rng, x, chan) if chan in ("phone", "agc") else x
        x = x * min(1.0, 0.9 / (np.max(np.abs(x)) + 1e-12))
        rel = f"train/recorded_speech/{i:03d}.wav"
        write_wav(out / rel, x)
        rows.append({"split": "train", "condition": str(kind), "wav": rel, "labels": lab.tolist()})
    for i in range(far_files):
        n = int(rng.uniform(8, 14) * SR)
        voices = [recorded_utterance(rng, talkers[int(k)])[0] for k in rng.choice(len(talkers), 2, replace=False)]
        x = far_talk(rng, n, voices) * 10 ** (rng.uniform(-50, -15) / 20)
        if rng.random() < 1 / 3:
            x = home_channel(rng, x, str(rng.choice(["phone", "ride", "agc"])))
        rel = f"train/recorded_far/{i:03d}.wav"
        write_wav(out / rel, x)
        rows.append({"split": "train", "condition": "only_far_talk", "wav": rel, "labels": [0] * (n // HOP)})
    return rows


GROUP_PREFIXES = {
    "test": ("test/",),
    "train": ("train/speech/", "train/noise/"),
    "wide": ("train/wide_",),
    "hard": ("train/hard_",),
    "dev": ("dev/",),
    "home": ("train/home_",),
    "home_dev": ("home_dev/",),
    "words": ("train/words_",),
    "recorded": ("train/recorded_",),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(Path(__file__).parent / "data"))
    ap.add_argument("--test-files", type=int, default=8)
    ap.add_argument("--train-files", type=int, default=200)
    ap.add_argument(
        "--wide-files", type=int, default=240, help="training clips of the wider kinds (and as many noise-only)"
    )
    ap.add_argument(
        "--hard-files", type=int, default=240, help="training clips of the third group (and as many noise-only)"
    )
    ap.add_argument(
        "--home-files", type=int, default=200, help="training clips of the household kinds (and as many noise-only)"
    )
    ap.add_argument("--words-files", type=int, default=160, help="training clips of short items over music")
    ap.add_argument(
        "--recorded-files", type=int, default=0, help="training clips of real recorded talkers (tried, off by default)"
    )
    ap.add_argument(
        "--recorded-far-files",
        type=int,
        default=0,
        help="training clips of office ambience with real far talkers (tried, off by default)",
    )
    ap.add_argument(
        "--groups",
        default=",".join(GROUP_PREFIXES),
        help="comma-separated groups to (re)write; the manifest keeps the other groups' rows",
    )
    args = ap.parse_args()
    out = Path(args.out)
    groups = set(args.groups.split(","))
    if not groups <= set(GROUP_PREFIXES):
        raise SystemExit(f"--groups: unknown {sorted(groups - set(GROUP_PREFIXES))}; known: {list(GROUP_PREFIXES)}")
    kept = tuple(p for g in GROUP_PREFIXES if g not in groups for p in GROUP_PREFIXES[g])
    old = json.loads((out / "manifest.json").read_text()) if kept and (out / "manifest.json").exists() else []
    manifest: list[dict[str, object]] = [m for m in old if str(m["wav"]).startswith(kept)]
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        rng = np.random.default_rng(7)
        # Babble pools: train babble from split B voices and vice versa, never the target talker set.
        pool_a = [make_utterance(rng, "A", tmp)[0] for _ in range(3)]
        pool_b = [make_utterance(rng, "B", tmp)[0] for _ in range(3)]

        if "test" in groups:
            manifest += eval_split("test", "B", args.test_files, np.random.default_rng(2024), pool_a, out, tmp)
        if "train" in groups:
            manifest += first_group(args.train_files, pool_b, out, tmp)
        if "wide" in groups:
            manifest += wide_group(args.wide_files, pool_b, out, tmp)
        if "hard" in groups:
            manifest += hard_group(args.hard_files, pool_b, out, tmp)

        # Development split (for choosing settings without looking at the test split):
        # its own sentences and voices, its own seed, made last so the others stay as they were.
        if "dev" in groups:
            manifest += eval_split("dev", "C", args.test_files, np.random.default_rng(3003), pool_a, out, tmp)
        # The household kinds (training group and its held-out clips), made after the others.
        if "home" in groups:
            manifest += home_group(args.home_files, out, tmp)
        if "home_dev" in groups:
            manifest += home_dev_split(6, out, tmp)
        if "words" in groups:
            manifest += words_group(args.words_files, pool_b, out, tmp)
        if "recorded" in groups and args.recorded_files + args.recorded_far_files > 0:
            manifest += recorded_group(args.recorded_files, args.recorded_far_files, pool_b, out, tmp)
    (out / "manifest.json").write_text(json.dumps(manifest))
    print(f"wrote {len(manifest)} files to {out}")


if __name__ == "__main__":
    main()
