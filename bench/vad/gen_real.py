"""A second, independent VAD evaluation family ("real-ish" set), deterministic.

Written apart from gen_data.py and sharing none of its speech or noise makers:

- Voices: flite `slt` and festival voices `cmu_us_slt_arctic_hts` (HTS), `ked_diphone`,
  `upc_ca_ona_hts` (Catalan, HTS) and `lp_diphone` (Italian). None of them (nor any
  slt voice) is used for training: gen_data.py trains on espeak-ng, flite kal16 / awb /
  rms and festival kal_diphone / pc_diphone.
- Music: General MIDI rendered by fluidsynth (FluidR3_GM soundfont) from MIDI written
  here: a drum kit, sustained chords and a melody, on instruments training never uses.
- Noise makers of their own: level steps (15 dB every 2-4 s) and ramps, office ambience
  (HVAC + keyboard typing + far, reverberant, quiet chatter of other voices), door slams,
  dish clatter, traffic rumble with passing cars, transformer hum/buzz, IIR pink noise.
- Channels: reverberant rooms (synthetic impulse responses), telephone band + mu-law,
  slow gain rides.

Labels: 10 ms frames of the dry clean speech within 40 dB of its sentence's loudest frame,
gaps under 200 ms filled (the same rule as gen_data.py, so report.py scores both alike).
Splits: `real_test` (sentences T, seed 515) and `real_dev` (sentences D, seed 626).

Usage: python3 bench/vad/gen_real.py [--out bench/vad/data_real] [--files 6]
Needs: flite, festival (+ festvox-us-slt-hts festvox-kdlpc16k festvox-ca-ona-hts
festvox-italp16k), fluidsynth, fluid-soundfont-gm, sox; python3 with numpy.
"""

from __future__ import annotations

import argparse
import json
import struct
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

RATE = 16_000
CELL = RATE // 100  # 10 ms label cells
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"

TEXTS = {
    "real_test": [
        "I think we should move the meeting to Thursday afternoon.",
        "The printer on the second floor is out of paper again.",
        "Could you send me the latest version of the slides?",
        "Our flight was delayed by almost three hours last night.",
        "She planted tomatoes and basil along the garden fence.",
        "Remember to lock the back door before you leave.",
        "The results look promising, but we need more data.",
        "He ordered a large coffee and a slice of carrot cake.",
    ],
    "real_dev": [
        "Let me check my calendar and get back to you.",
        "The bus stops right outside the library every ten minutes.",
        "We finally fixed the leak under the kitchen sink.",
        "Please speak a little louder, the line is very noisy.",
        "The museum opens at nine on weekdays.",
        "They painted the fence white over the long weekend.",
    ],
}
CATALAN = ["Bon dia, com estàs avui?", "La reunió és a les tres de la tarda.", "Tinc molta gana i vull sopar."]
ITALIAN = ["Ci vediamo domani mattina alla stazione.", "Il gatto dorme sul divano tutto il giorno."]
# (engine, voice, language)
VOICES = [
    ("flite", "slt", "en"),
    ("festival", "cmu_us_slt_arctic_hts", "en"),
    ("festival", "ked_diphone", "en"),
    ("festival", "upc_ca_ona_hts", "ca"),
    ("festival", "lp_diphone", "it"),
]
# General MIDI programs (0-based) for the evaluation music; training uses others.
PADS = [48, 89, 19, 0]  # string ensemble, warm pad, church organ, grand piano
LEADS = [73, 65, 40, 11]  # flute, alto sax, violin, vibraphone


def load(path: Path) -> np.ndarray:
    """Mono float samples of a 16-bit WAV (channels averaged)."""
    with wave.open(str(path), "rb") as w:
        ch = w.getnchannels()
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768.0
    return raw.reshape(-1, ch).mean(axis=1)


def save(path: Path, x: np.ndarray) -> None:
    """16-bit mono WAV at RATE (clipped)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.clip(np.round(x * 32767.0), -32768, 32767).astype("<i2").tobytes())


def to_rate(src: Path, dst: Path, tempo: float = 1.0) -> np.ndarray:
    """Resample (and optionally time-stretch) a WAV to RATE mono with sox."""
    effects = ["tempo", f"{tempo:.3f}"] if abs(tempo - 1.0) > 1e-3 else []
    subprocess.run(["sox", "-V1", str(src), "-r", str(RATE), "-c", "1", "-b", "16", str(dst), *effects], check=True)
    return load(dst)


def synthesize(engine: str, voice: str, text: str, tempo: float, tmp: Path) -> np.ndarray:
    """Speak `text` with flite or festival; 16 kHz float samples."""
    raw = tmp / "raw.wav"
    if engine == "flite":
        subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(raw)], check=True, capture_output=True)
    else:
        subprocess.run(
            ["text2wave", "-eval", f"(voice_{voice})", "-o", str(raw)],
            input=text.encode(),
            check=True,
            capture_output=True,
        )
    return to_rate(raw, tmp / "r16.wav", tempo)


def cell_power(x: np.ndarray) -> np.ndarray:
    """Mean square per 10 ms cell."""
    n = len(x) // CELL
    return (x[: n * CELL].reshape(n, CELL) ** 2).mean(axis=1)


def label_sentence(s: np.ndarray) -> np.ndarray:
    """Cells within 40 dB of the sentence's loudest cell."""
    p = cell_power(s)
    return (p > p.max() * 1e-4).astype(np.int8)


def bridge(lab: np.ndarray, cells: int) -> np.ndarray:
    """Set interior zero runs shorter than `cells` to one."""
    out = lab.copy()
    on = np.flatnonzero(lab)
    gaps = np.flatnonzero(np.diff(on) > 1)
    for g in gaps:
        a, b = on[g], on[g + 1]
        if b - a <= cells:
            out[a:b] = 1
    return out


def sentence_pool(split: str, tmp: Path, rng: np.random.Generator) -> dict[int, list[np.ndarray]]:
    """Every voice speaks its split's sentences once (tempo 0.85-1.15)."""
    pool: dict[int, list[np.ndarray]] = {}
    for v, (engine, voice, lang) in enumerate(VOICES):
        texts = {"en": TEXTS[split], "ca": CATALAN, "it": ITALIAN}[lang]
        pool[v] = [synthesize(engine, voice, t, float(rng.uniform(0.85, 1.15)), tmp) for t in texts]
    return pool


def utterance(pool: dict[int, list[np.ndarray]], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One talker: 3-5 sentences with 0.3-1.5 s pauses; (dry clean, labels)."""
    talker = pool[int(rng.integers(len(pool)))]
    pieces = [np.zeros(int(rng.uniform(0.5, 1.2) * RATE) // CELL * CELL)]
    for _ in range(int(rng.integers(3, 6))):
        s = talker[int(rng.integers(len(talker)))]
        pieces += [s[: len(s) // CELL * CELL], np.zeros(int(rng.uniform(0.3, 1.5) * RATE) // CELL * CELL)]
    labs = [label_sentence(p) if i % 2 else np.zeros(len(p) // CELL, dtype=np.int8) for i, p in enumerate(pieces)]
    return np.concatenate(pieces), bridge(np.concatenate(labs), 20)


# ---------------------------------------------------------------- noise makers


def unit(x: np.ndarray) -> np.ndarray:
    """Scale to unit RMS."""
    return x / (np.sqrt(np.mean(x**2)) + 1e-12)


def kellet_pink(rng: np.random.Generator, n: int) -> np.ndarray:
    """Pink noise from white by a sum of one-pole filters (Kellet's economy set)."""
    w = rng.standard_normal(n)
    poles = [(0.99765, 0.0990460), (0.96300, 0.2965164), (0.57000, 1.0526913)]
    out = 0.1848 * w
    for a, g in poles:
        out = out + g * fft_one_pole(w, a)
    return unit(out)


def fft_one_pole(x: np.ndarray, a: float) -> np.ndarray:
    """One-pole low-pass y[n] = x[n] + a y[n-1], applied in the frequency domain (fast)."""
    n = len(x)
    m = 1 << int(np.ceil(np.log2(2 * n)))
    h = a ** np.arange(min(m, int(np.log(1e-6) / np.log(a)) + 1))
    return np.fft.irfft(np.fft.rfft(x, m) * np.fft.rfft(h, m), m)[:n]


def band(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Brick-wall band-pass in the frequency domain."""
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / RATE)
    spec[(f < lo) | (f > hi)] = 0
    return np.fft.irfft(spec, len(x))


def level_steps(rng: np.random.Generator, n: int) -> np.ndarray:
    """Broadband noise whose level jumps by +-15 dB every 2-4 s."""
    base = kellet_pink(rng, n) if rng.random() < 0.5 else unit(band(rng.standard_normal(n), 80, 6000))
    gain = np.empty(n)
    pos, high = 0, bool(rng.random() < 0.5)
    while pos < n:
        d = int(rng.uniform(2, 4) * RATE)
        gain[pos : pos + d] = 10 ** ((15 if high else 0) / 20)
        high = not high
        pos += d
    return unit(base * gain)


def ramps(rng: np.random.Generator, n: int) -> np.ndarray:
    """Noise that swells and fades by 20 dB over 1.5-4 s ramps."""
    base = unit(band(rng.standard_normal(n), 50, 4000)) + 0.5 * kellet_pink(rng, n)
    knots = np.cumsum(rng.uniform(1.5, 4, size=n // RATE + 2)) * RATE
    levels = rng.choice([0.0, 20.0], size=len(knots))
    db = np.interp(np.arange(n), np.concatenate([[0], knots]), np.concatenate([[levels[0]], levels]))
    return unit(base * 10 ** (db / 20))


def hvac(rng: np.random.Generator, n: int) -> np.ndarray:
    """Air handling: low rumble, a fan blade tone with harmonics, slow airflow swell."""
    t = np.arange(n) / RATE
    rumble = unit(fft_one_pole(rng.standard_normal(n), 0.985))
    hiss = unit(band(rng.standard_normal(n), 300, 3000))
    blade = rng.uniform(90, 180)
    tones = sum(np.sin(2 * np.pi * blade * k * t + rng.uniform(0, 6.3)) / k**1.5 for k in range(1, 5))
    swell = 1 + 0.2 * np.sin(2 * np.pi * rng.uniform(0.05, 0.2) * t)
    return unit((rumble + 0.3 * hiss + 0.15 * tones) * swell)


def keystroke(rng: np.random.Generator) -> np.ndarray:
    """One key: a click (bright, ~5 ms) and its release a little later (duller)."""
    n = int(0.12 * RATE)
    x = np.zeros(n)
    for start, bright, amp in ((0, 1.0, 1.0), (int(rng.uniform(0.05, 0.09) * RATE), 0.4, 0.5)):
        m = int(rng.uniform(0.004, 0.012) * RATE)
        burst = rng.standard_normal(m) * np.exp(-np.arange(m) / (m / 4))
        burst = band(burst, 500, 2000 + 5000 * bright)
        x[start : start + m] += amp * burst
    return x


def typing(rng: np.random.Generator, n: int) -> np.ndarray:
    """Bursts of typing (4-9 keys/s, spacebar thumps) with pauses; unit RMS while typing."""
    x = np.zeros(n + RATE)
    pos = int(rng.uniform(0, 1) * RATE)
    while pos < n:
        burst_end = pos + int(rng.uniform(1, 5) * RATE)
        rate = rng.uniform(4, 9)
        while pos < min(burst_end, n):
            k = keystroke(rng) * rng.uniform(0.4, 1.2)
            if rng.random() < 0.15:
                k = fft_one_pole(k, 0.8) * 3  # spacebar: duller, louder
            x[pos : pos + len(k)] += k
            pos += int(rng.exponential(1 / rate) * RATE) + int(0.03 * RATE)
        pos += int(rng.uniform(0.5, 3) * RATE)
    return unit(x[:n])


def room_ir(rng: np.random.Generator, rt60: float) -> np.ndarray:
    """Synthetic room response: direct path, sparse early reflections, exponential diffuse tail."""
    n = int(rt60 * RATE)
    t = np.arange(n) / RATE
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    tail = fft_one_pole(tail, 0.3)
    ir = 0.3 * tail / np.sqrt(np.sum(tail**2))
    ir[0] += 1.0
    for _ in range(6):
        ir[int(rng.uniform(0.003, 0.03) * RATE)] += rng.uniform(-0.5, 0.5)
    return ir


def reverb(x: np.ndarray, ir: np.ndarray) -> np.ndarray:
    """Convolve (same length as x)."""
    m = 1 << int(np.ceil(np.log2(len(x) + len(ir))))
    return np.fft.irfft(np.fft.rfft(x, m) * np.fft.rfft(ir, m), m)[: len(x)]


def chatter(rng: np.random.Generator, n: int, pool: dict[int, list[np.ndarray]]) -> np.ndarray:
    """Two or three far talkers: quiet, reverberant (RT60 0.8-1.2 s), muffled."""
    out = np.zeros(n)
    for _ in range(int(rng.integers(2, 4))):
        x = np.zeros(n)
        pos = int(rng.uniform(0, 2) * RATE)
        talker = pool[int(rng.integers(len(pool)))]
        while pos < n:
            s = talker[int(rng.integers(len(talker)))]
            take = min(len(s), n - pos)
            x[pos : pos + take] += s[:take]
            pos += take + int(rng.uniform(0.5, 3) * RATE)
        wet = reverb(x, room_ir(rng, rng.uniform(0.8, 1.2)))
        out += unit(fft_one_pole(wet, 0.5)) * rng.uniform(0.5, 1.0)
    return unit(out)


def office(rng: np.random.Generator, n: int, chat_pool: dict[int, list[np.ndarray]]) -> np.ndarray:
    """HVAC bed, typing from 2 dB under to 6 dB over it, far chatter 10-16 dB under it."""
    bed = hvac(rng, n)
    keys = typing(rng, n) * 10 ** (rng.uniform(-2, 6) / 20)
    voices = chatter(rng, n, chat_pool) * 10 ** (-rng.uniform(10, 16) / 20)
    return unit(bed + keys + voices)


def door_slams(rng: np.random.Generator, n: int) -> np.ndarray:
    """A slam every 1.5-4 s: low thump with a resonant panel ring, plus a latch click."""
    x = np.zeros(n + RATE)
    pos = int(rng.uniform(0.3, 1.5) * RATE)
    while pos < n:
        m = int(0.5 * RATE)
        t = np.arange(m) / RATE
        f = rng.uniform(60, 140)
        thump = np.sin(2 * np.pi * f * t) * np.exp(-t * rng.uniform(8, 20))
        thump += 0.5 * fft_one_pole(rng.standard_normal(m), 0.9) * np.exp(-t * 30)
        thump[: int(0.006 * RATE)] += rng.standard_normal(int(0.006 * RATE)) * 0.8
        x[pos : pos + m] += thump * rng.uniform(0.5, 1.0)
        pos += int(rng.uniform(1.5, 4) * RATE)
    return unit(x[:n] + 0.003 * rng.standard_normal(n))


def dishes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Clatter: clusters of short inharmonic rings (ceramic, metal), 2-8 hits per cluster."""
    x = np.zeros(n + RATE)
    pos = int(rng.uniform(0, 1) * RATE)
    while pos < n:
        for _ in range(int(rng.integers(2, 9))):
            if pos >= n:
                break
            m = int(rng.uniform(0.08, 0.4) * RATE)
            t = np.arange(m) / RATE
            f0 = rng.uniform(900, 3500)
            ring = sum(
                np.sin(2 * np.pi * f0 * r * t + rng.uniform(0, 6.3)) * np.exp(-t * rng.uniform(15, 60))
                for r in (1.0, 2.76, 5.40, 8.93)
            )
            ring[: int(0.002 * RATE)] += rng.standard_normal(int(0.002 * RATE))
            x[pos : pos + m] += ring * rng.uniform(0.3, 1.0)
            pos += int(rng.uniform(0.03, 0.25) * RATE)
        pos += int(rng.uniform(0.5, 2.5) * RATE)
    return unit(x[:n] + 0.01 * kellet_pink(rng, n))


def traffic(rng: np.random.Generator, n: int) -> np.ndarray:
    """Distant road rumble with cars passing (a 3-6 s swell of filtered noise and engine tone)."""
    t = np.arange(n) / RATE
    bed = unit(fft_one_pole(fft_one_pole(rng.standard_normal(n), 0.97), 0.9))
    cars = np.zeros(n)
    pos = rng.uniform(-2, 2)
    while pos < n / RATE:
        dur = rng.uniform(3, 6)
        env = np.exp(-(((t - pos - dur / 2) / (dur / 5)) ** 2))
        f = rng.uniform(40, 90) * (1 + 0.05 * np.tanh((pos + dur / 2 - t) * 2))  # Doppler drop
        engine = np.sin(2 * np.pi * np.cumsum(f) / RATE) + 0.5 * np.sin(4 * np.pi * np.cumsum(f) / RATE)
        tyres = band(rng.standard_normal(n), 200, 2500)
        cars += env * (0.5 * engine + unit(tyres)) * rng.uniform(1, 3)
        pos += rng.uniform(2, 7)
    return unit(bed + cars)


def buzz(rng: np.random.Generator, n: int) -> np.ndarray:
    """Transformer / ground-loop buzz: a soft-clipped mains sine (rich odd harmonics) plus 2x mains."""
    mains = float(rng.choice([50.0, 60.0]))
    t = np.arange(n) / RATE
    x = np.tanh(3 * np.sin(2 * np.pi * mains * t)) + 0.4 * np.sin(4 * np.pi * mains * t + 1.0)
    return unit(x + 0.02 * rng.standard_normal(n))


def midi_file(rng: np.random.Generator, seconds: float, path: Path) -> None:
    """A format-0 MIDI file: drums (ch 10), a sustained chord part and a melody."""
    tpq = 480
    bpm = float(rng.uniform(80, 140))
    events: list[tuple[int, bytes]] = []  # (tick, message)
    pad, lead = int(rng.choice(PADS)), int(rng.choice(LEADS))
    events += [(0, bytes([0xC0, pad])), (0, bytes([0xC1, lead]))]
    beats = int(seconds * bpm / 60) + 1
    root = int(rng.integers(45, 57))
    minor = rng.random() < 0.5
    scale = [0, 2, 3, 5, 7, 8, 10] if minor else [0, 2, 4, 5, 7, 9, 11]
    for bar in range(0, beats, 4):
        deg = int(rng.choice([0, 3, 4, 5]))
        chord = [root + scale[deg % 7], root + scale[(deg + 2) % 7] + 12 * ((deg + 2) // 7), root + 7 + scale[deg % 7]]
        for note in chord:
            events += [(bar * tpq, bytes([0x90, note, 70])), ((bar + 4) * tpq - 10, bytes([0x80, note, 0]))]
        for b in range(4):
            tick = (bar + b) * tpq
            if b % 2 == 0:
                events.append((tick, bytes([0x99, 36, 110])))
            else:
                events.append((tick, bytes([0x99, 38, 100])))
            for half in (0, tpq // 2):
                events.append((tick + half, bytes([0x99, 42, 70])))
    tick = 0
    while tick < beats * tpq:
        dur = int(rng.choice([tpq // 2, tpq, tpq * 3 // 2, tpq * 2]))
        note = root + 12 + scale[int(rng.integers(7))] + 12 * int(rng.integers(0, 2))
        if rng.random() < 0.8:
            events += [(tick, bytes([0x91, note, 90])), (tick + dur - 20, bytes([0x81, note, 0]))]
        tick += dur
    events.sort(key=lambda e: e[0])
    track = bytearray(b"\x00\xff\x51\x03" + int(60_000_000 / bpm).to_bytes(3, "big"))
    last = 0
    for tick, msg in events:
        track += vlq(tick - last) + msg
        last = tick
    track += b"\x00\xff\x2f\x00"
    path.write_bytes(b"MThd" + struct.pack(">IHHH", 6, 0, 1, tpq) + b"MTrk" + struct.pack(">I", len(track)) + track)


def vlq(v: int) -> bytes:
    """MIDI variable-length quantity."""
    out = [v & 0x7F]
    v >>= 7
    while v:
        out.append(0x80 | (v & 0x7F))
        v >>= 7
    return bytes(reversed(out))


def band_music(rng: np.random.Generator, n: int, tmp: Path) -> np.ndarray:
    """fluidsynth renders a fresh MIDI arrangement; unit RMS, n samples."""
    mid, out = tmp / "m.mid", tmp / "m.wav"
    midi_file(rng, n / RATE + 1, mid)
    subprocess.run(
        ["fluidsynth", "-ni", "-q", "-g", "0.6", "-r", str(RATE), "-F", str(out), SOUNDFONT, str(mid)],
        check=True,
        capture_output=True,
    )
    x = load(out)
    x = np.tile(x, n // len(x) + 1)[:n] if len(x) < n else x[:n]
    return unit(x)


def telephone(x: np.ndarray) -> np.ndarray:
    """300-3400 Hz band, then mu-law (mu = 255, 8-bit) companding and back."""
    y = np.clip(band(x, 300, 3400), -1, 1)
    mu = 255.0
    c = np.sign(y) * np.log1p(mu * np.abs(y)) / np.log1p(mu)
    q = np.round(c * 127) / 127
    return np.sign(q) * ((1 + mu) ** np.abs(q) - 1) / mu


def gain_ride(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """Slow random gain changes of +-8 dB (a talker moving, an AGC)."""
    knots = np.arange(0, len(x) + RATE, RATE)
    db = rng.uniform(-8, 8, size=len(knots))
    return x * 10 ** (np.interp(np.arange(len(x)), knots, db) / 20)


# ------------------------------------------------------------------- the set

# name -> (noise maker or None, SNR dB, speech level dBFS, channel)
SPEECH_CONDITIONS: dict[str, tuple[str | None, float, float, str]] = {
    "clean": (None, 0, -22, "dry"),
    "quiet_-42dBFS": (None, 0, -42, "dry"),
    "pink_0dB": ("pink", 0, -22, "dry"),
    "hum_5dB": ("buzz", 5, -22, "dry"),
    "music_5dB": ("music", 5, -22, "dry"),
    "office_10dB": ("office", 10, -22, "dry"),
    "steps_10dB": ("steps", 10, -22, "dry"),
    "traffic_5dB": ("traffic", 5, -22, "dry"),
    "typing_10dB": ("typing", 10, -22, "dry"),
    "room_reverb": (None, 0, -22, "room"),
    "room_pink_10dB": ("pink", 10, -22, "room"),
    "phone_hvac_10dB": ("hvac", 10, -22, "phone"),
    "ride_dishes_10dB": ("dishes", 10, -22, "ride"),
}
NOISE_CONDITIONS = ["office", "steps", "ramps", "hvac", "typing", "doors", "dishes", "traffic", "music", "buzz", "pink"]


def noise(kind: str, rng: np.random.Generator, n: int, chat: dict[int, list[np.ndarray]], tmp: Path) -> np.ndarray:
    """Unit-RMS noise of a kind."""
    makers = {
        "pink": lambda: kellet_pink(rng, n),
        "buzz": lambda: buzz(rng, n),
        "music": lambda: band_music(rng, n, tmp),
        "office": lambda: office(rng, n, chat),
        "steps": lambda: level_steps(rng, n),
        "ramps": lambda: ramps(rng, n),
        "traffic": lambda: traffic(rng, n),
        "typing": lambda: typing(rng, n),
        "hvac": lambda: hvac(rng, n),
        "doors": lambda: door_slams(rng, n),
        "dishes": lambda: dishes(rng, n),
    }
    return makers[kind]()


def build(split: str, seed: int, files: int, out: Path, tmp: Path) -> list[dict[str, object]]:
    """All conditions of one split; returns manifest rows."""
    rng = np.random.default_rng(seed)
    pool = sentence_pool(split, tmp, rng)
    rows: list[dict[str, object]] = []
    for i in range(files):
        dry, lab = utterance(pool, rng)
        # Far chatter comes from this split's talkers (a colleague may sound alike; it is far and quiet).
        for name, (kind, snr, level, channel) in SPEECH_CONDITIONS.items():
            speech = dry
            if channel == "room":
                speech = reverb(dry, room_ir(rng, rng.uniform(0.3, 0.7)))
            elif channel == "ride":
                speech = gain_ride(rng, dry)
            active = np.sqrt(np.mean(cell_power(dry)[lab.astype(bool)]))
            gain = 10 ** (level / 20) / active
            x = speech * gain
            if kind is not None:
                x = x + noise(kind, rng, len(x), pool, tmp) * 10 ** ((level - snr) / 20)
            if channel == "phone":
                x = telephone(x)
            rel = f"{split}/{name}/{i:02d}.wav"
            save(out / rel, x)
            rows.append({"split": split, "condition": name, "wav": rel, "labels": lab.tolist()})
        for kind in NOISE_CONDITIONS:
            n = int(rng.uniform(10, 16) * RATE) // CELL * CELL
            x = noise(kind, rng, n, pool, tmp) * 10 ** (rng.uniform(-45, -22) / 20)
            rel = f"{split}/only_{kind}/{i:02d}.wav"
            save(out / rel, x)
            rows.append({"split": split, "condition": f"only_{kind}", "wav": rel, "labels": [0] * (n // CELL)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "data_real")
    ap.add_argument("--files", type=int, default=6, help="utterances (and noise clips) per condition")
    args = ap.parse_args()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as td:
        rows += build("real_test", 515, args.files, args.out, Path(td))
        rows += build("real_dev", 626, max(args.files * 2 // 3, 2), args.out, Path(td))
    (args.out / "manifest.json").write_text(json.dumps(rows))
    print(f"wrote {len(rows)} clips to {args.out}")


if __name__ == "__main__":
    main()
