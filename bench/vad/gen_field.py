"""A third, fully held-out VAD evaluation family ("field" set), deterministic.

Written apart from gen_data.py and gen_real.py (only their docstrings and the README were read):
it shares no code, voice, text, noise maker, instrument or channel model with them.

- Speech, mostly real recordings: the Asterisk PBX prompts (Debian asterisk-core-sounds-en-g722,
  -fr-g722, -ru-g722: a US English, a Canadian French and a Russian speaker, 16 kHz G.722;
  asterisk-prompt-es-co and asterisk-prompt-fr-armelle: a Colombian Spanish and a French speaker,
  8 kHz GSM) and the spoken channel names of alsa-utils and sound-theme-freedesktop; plus festival
  voices no other family uses: Czech czech_dita, czech_krb (a child), czech_ph, Finnish
  suo_fi_lj_diphone, hy_fi_mv_diphone, Hindi hindi_NSK_diphone. Utterances run from one word to
  6 s, with pauses of 0.25-3 s. Recorded prompts keep a noise floor 33-50 dB under their peak; a
  gate 8 dB above that floor clears it before labelling and mixing.
- Noise makers of its own: rain, gusty wind, washing machine, vacuum cleaner with motor speed
  changes, cafe clatter (cups, spoons, steam wand, grinder; no voices), car interior with turn
  signal, TV (music + effects), desk (clock, mouse clicks, paper), office (ventilation, typing,
  printer, far phone ring, two far reverberant talkers), level steps and gain rides; real sound
  events (sound-theme-freedesktop, deepin-sound-theme, oxygen-sounds: phone rings, shutter,
  bells, alarms); real recorded music (asterisk-moh-opsound-g722); fluidsynth music from MIDI
  written here on GM programs no other family uses (marimba, steel guitar, accordion, trombone,
  harmonica, kalimba, steel drums, clean guitar, sitar; acoustic/fretless bass; brush, jazz and
  TR-808 kits), and choir aahs / voice oohs (voice-like: kept apart, like babble).
- Channels: a shoebox room (image sources to order 2 plus a two-band diffuse tail), a laptop mic
  (band limit, hiss, AGC), a Bluetooth HFP mSBC round trip and an Opus 8 kbit/s VoIP round trip
  (ffmpeg, codec delay removed), clipping.
- Labels: 10 ms cells of the dry speech within 40 dB of its utterance's loudest cell, gaps under
  200 ms filled (the rule report.py assumes), so reverberant tails count as non-speech.
- One split, `field_test` (seed 9091, --files clips per condition), never used to choose anything.

Usage: python3 bench/vad/gen_field.py [--out bench/vad/data_field] [--files 6]
Needs: ffmpeg, fluidsynth, fluid-soundfont-gm, festival with festvox-czech-dita, festvox-czech-krb,
festvox-czech-ph, festvox-suopuhe-lj, festvox-suopuhe-mv, festvox-hi-nsk, asterisk-core-sounds-{en,fr,ru}-g722,
asterisk-prompt-es-co, asterisk-prompt-fr-armelle, asterisk-moh-opsound-g722, alsa-utils,
sound-theme-freedesktop, deepin-sound-theme, oxygen-sounds; python3 with numpy and scipy.
"""

from __future__ import annotations

import argparse
import itertools
import json
import struct
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy import signal
from scipy.io import wavfile

RATE = 16_000
CELL = RATE // 100
SEED = 9091
AST = Path("/usr/share/asterisk/sounds")
SOUNDS = Path("/usr/share/sounds")
SF2 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
Rng = np.random.Generator

REAL = {  # speaker -> (prompt folder, file suffix)
    "allison_en": (AST / "en_US_f_Allison", "g722"),
    "june_fr": (AST / "fr_CA_f_June", "g722"),
    "ivr_ru": (AST / "ru_RU_f_IvrvoiceRU", "g722"),
    "co_es": (AST / "es", "gsm"),
    "armelle_fr": (AST / "fr", "gsm"),
}
TTS = {  # festival voice -> language of its texts
    "czech_dita": "cs",
    "czech_krb": "cs",
    "czech_ph": "cs",
    "suo_fi_lj_diphone": "fi",
    "hy_fi_mv_diphone": "fi",
    "hindi_NSK_diphone": "hi",
}
TEXTS = {  # language -> (encoding festival reads, sentences separated by "|")
    "cs": (
        "iso-8859-2",
        "Ano.|Dobře, rozumím.|Zítra ráno pojedeme vlakem do Brna.|Můžete mi prosím říct, kolik je hodin?|"
        "Na stole leží tři jablka a jedna hruška.|Nevím, musím se zeptat kolegy.|Děkuji, to je všechno.|"
        "V létě jezdíme k babičce na chalupu u lesa.",
    ),
    "fi": (
        "iso-8859-1",
        "Kyllä.|Selvä, kiitos.|Huomenna sataa luultavasti koko päivän.|Voisitko laittaa ikkunan kiinni?|"
        "Kirjasto on auki kahdeksaan asti.|En tiedä vielä.|Ostin torilta mansikoita ja uusia perunoita.|"
        "Nähdään ensi viikolla.",
    ),
    "hi": ("utf-8", "हाँ।|ठीक है।|कल सुबह हम बाज़ार जाएँगे।|क्या आप मेरी मदद कर सकते हैं?|आज मौसम बहुत अच्छा है।"),
}
SKIP = ("beep", "tone", "silence", "dtmf")


def ffmpeg_pcm(args: list[str], data: bytes | None = None) -> np.ndarray:
    """Run ffmpeg with `args` (inputs and options) and read its 16 kHz mono s16 output."""
    cmd = ["ffmpeg", "-v", "error", *args, "-ac", "1", "-ar", str(RATE), "-f", "s16le", "-"]
    out = subprocess.run(cmd, input=data, capture_output=True, check=True).stdout
    return np.frombuffer(out, "<i2").astype(np.float64) / 32768


def decode(path: Path) -> np.ndarray:
    fmt = {".g722": ["-f", "g722"], ".gsm": ["-f", "gsm"]}.get(path.suffix, [])
    return ffmpeg_pcm([*fmt, "-i", str(path)])


def to_i16(x: np.ndarray) -> bytes:
    return (np.clip(x, -1, 32767 / 32768) * 32768).astype("<i2").tobytes()


def cells_db(x: np.ndarray) -> np.ndarray:
    """Energy (dB) of each whole 10 ms cell."""
    n = len(x) // CELL
    return 10 * np.log10(np.mean(x[: n * CELL].reshape(n, CELL) ** 2, axis=1) + 1e-12)


def level(x: np.ndarray) -> float:
    """Active RMS: over the 10 ms cells within 30 dB of the loudest (sparse events count by their own level)."""
    e = cells_db(x)
    return float(np.sqrt(np.mean(10 ** (e[e > e.max() - 30] / 10))))


def spread(gain: np.ndarray, n: int) -> np.ndarray:
    """A per-cell gain as a per-sample curve of length n (linear between cell centres)."""
    return np.interp(np.arange(n), np.arange(len(gain)) * CELL + CELL / 2, gain)


def gate(x: np.ndarray) -> np.ndarray:
    """Clear a recording's noise floor: cells under floor + 8 dB (30 ms hold) fade to silence."""
    e = cells_db(x)
    keep = e > np.percentile(e, 10) + 8
    keep = np.convolve(keep, np.ones(7), mode="same") > 0
    return x[: len(e) * CELL] * spread(keep.astype(float), len(e) * CELL)


def label(x: np.ndarray) -> np.ndarray:
    """Cells within 40 dB of the utterance's loudest cell."""
    e = cells_db(x)
    return e > e.max() - 40


def fill_gaps(lab: np.ndarray, cells: int = 20) -> np.ndarray:
    lab = lab.copy()
    on = np.flatnonzero(lab)
    for a, b in itertools.pairwise(on):
        if 1 < b - a <= cells:
            lab[a:b] = True
    return lab


class Speech:
    """Utterances of one talker: recorded prompts or festival sentences (cached)."""

    def __init__(self, voice: str, cache: Path) -> None:
        self.voice = voice
        self.cache = cache
        if voice in REAL:
            folder, suffix = REAL[voice]
            found = folder.rglob(f"*.{suffix}")
            self.files = sorted(p for p in found if not any(s in str(p.relative_to(folder)) for s in SKIP))
        elif voice == "channel_names":
            self.files = sorted((SOUNDS / "alsa").glob("[FRS]*.wav"))
            self.files += sorted((SOUNDS / "freedesktop/stereo").glob("audio-channel-*.oga"))

    def utterance(self, rng: Rng) -> np.ndarray:
        if self.voice in TTS:
            enc, joined = TEXTS[TTS[self.voice]]
            texts = joined.split("|")
            i = int(rng.integers(len(texts)))
            out = self.cache / f"{self.voice}_{i}.wav"
            if not out.exists():
                txt = out.with_suffix(".txt")
                txt.write_bytes(texts[i].encode(enc))
                cmd = ["text2wave", "-eval", f"(voice_{self.voice})", str(txt), "-o", str(out)]
                subprocess.run(cmd, check=True, capture_output=True)
            return gate(decode(out))
        for _ in range(50):
            x = gate(decode(self.files[int(rng.integers(len(self.files)))]))
            if 0.3 < len(x) / RATE < 6:
                return x
        raise RuntimeError(f"{self.voice}: no prompt between 0.3 and 6 s")


def talk(sp: Speech, rng: Rng, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """A clip of utterances with varied pauses: dry signal (active level 0 dBFS) and labels."""
    parts: list[np.ndarray] = [np.zeros(CELL * int(rng.integers(40, 180)))]
    lab: list[np.ndarray] = [np.zeros(len(parts[0]) // CELL, bool)]
    while sum(map(len, parts)) < seconds * RATE:
        u = sp.utterance(rng)
        u = u[: len(u) // CELL * CELL] * 10 ** (rng.uniform(-4, 4) / 20)
        parts.append(u)
        lab.append(label(u))
        pause = rng.choice([rng.uniform(0.25, 0.5), rng.uniform(0.5, 1.5), rng.uniform(1.5, 3.0)], p=[0.3, 0.5, 0.2])
        parts.append(np.zeros(CELL * int(pause * 100)))
        lab.append(np.zeros(int(pause * 100), bool))
    x, y = np.concatenate(parts), fill_gaps(np.concatenate(lab))
    active = np.mean(x[: len(y) * CELL].reshape(-1, CELL)[y] ** 2)
    return x / np.sqrt(active), y


# ---------------------------------------------------------------- noise makers


def bandpass(x: np.ndarray, lo: float, hi: float, order: int = 2) -> np.ndarray:
    return signal.sosfilt(signal.butter(order, [lo, hi], "bandpass", fs=RATE, output="sos"), x)


def lowpass(x: np.ndarray, f: float, order: int = 2) -> np.ndarray:
    return signal.sosfilt(signal.butter(order, f, "lowpass", fs=RATE, output="sos"), x)


def highpass(x: np.ndarray, f: float, order: int = 2) -> np.ndarray:
    return signal.sosfilt(signal.butter(order, f, "highpass", fs=RATE, output="sos"), x)


def wander(n: int, rng: Rng, rate_hz: float, depth_db: float) -> np.ndarray:
    """A slow random gain curve (linear), changing at about rate_hz."""
    k = max(int(n / RATE * rate_hz) + 2, 3)
    pts = rng.normal(0, depth_db / 2, k)
    return 10 ** (np.interp(np.arange(n), np.linspace(0, n, k), pts) / 20)


def scatter(n: int, rng: Rng, per_s: float, make: Callable[[], np.ndarray]) -> np.ndarray:
    """Events from `make` at Poisson times."""
    out = np.zeros(n)
    for t in np.sort(rng.uniform(0, n, max(1, rng.poisson(per_s * n / RATE)))).astype(int):
        e = make()[: n - t]
        out[t : t + len(e)] += e
    return out


def decay(rng: Rng, ms: float, n_ms: float | None = None) -> np.ndarray:
    m = int((n_ms or ms * 5) * RATE / 1000)
    return np.exp(-np.arange(m) / (ms * RATE / 1000)) * rng.uniform(0.5, 1.0)


def modes(rng: Rng, freqs: list[float], ms: float) -> np.ndarray:
    """An inharmonic struck object: decaying partials."""
    t = np.arange(int(ms * 5 * RATE / 1000)) / RATE
    out = sum(
        np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) * np.exp(-t / (ms / 1000 * rng.uniform(0.4, 1.2))) for f in freqs
    )
    return np.asarray(out) * rng.uniform(0.3, 1.0) / len(freqs)


def click(rng: Rng, lo: float, hi: float, ms: float) -> np.ndarray:
    return bandpass(rng.normal(0, 1, int(ms * 6 * RATE / 1000)), lo, hi) * decay(rng, ms, ms * 6)


def rain(n: int, rng: Rng) -> np.ndarray:
    drops = scatter(n, rng, rng.uniform(150, 600), lambda: click(rng, 1500, 7000, rng.uniform(0.5, 3)))
    bed = lowpass(rng.normal(0, 1, n), 800) * 0.15
    return (drops + bed) * wander(n, rng, 0.3, 4)


def wind(n: int, rng: Rng) -> np.ndarray:
    gust = wander(n, rng, 0.6, 18)
    rumble = lowpass(rng.normal(0, 1, n), rng.uniform(250, 600), 3)
    centre = 600 + 500 * (gust / gust.max())
    whistle, block = np.zeros(n + RATE // 10), RATE // 10
    for a in range(0, n, block // 2):  # a whistle whose pitch follows the gust, in overlapping blocks
        c = float(centre[a])
        whistle[a : a + block] += bandpass(rng.normal(0, 1, block + 400), c * 0.95, c * 1.05)[400:] * np.hanning(block)
    whistle = whistle[:n]
    return (rumble + 0.2 * whistle) * gust


def hum(n: int, f0: np.ndarray, harmonics: int, tilt: float) -> np.ndarray:
    """Harmonics of a varying fundamental f0 (per sample), amplitude falling by `tilt` per harmonic."""
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    return sum(tilt**k * np.sin((k + 1) * phase) for k in range(harmonics))  # type: ignore[return-value]


def washer(n: int, rng: Rng) -> np.ndarray:
    spin = rng.uniform(0.7, 1.3)  # drum turns per second
    rot = 0.5 + 0.5 * np.sin(2 * np.pi * spin * np.arange(n) / RATE)
    motor = hum(n, np.full(n, 50 * spin * rng.uniform(1.5, 3)), 8, 0.7)
    slosh = bandpass(rng.normal(0, 1, n), 150, 1200) * rot**3
    thumps = scatter(n, rng, spin, lambda: lowpass(rng.normal(0, 1, 2400), 120) * decay(rng, 30, 150))
    return 0.2 * motor + slosh + 3 * thumps


def vacuum(n: int, rng: Rng) -> np.ndarray:
    speed = np.repeat(rng.uniform(0.7, 1.2, n // RATE + 2), RATE)[:n]
    speed = np.convolve(speed, np.ones(RATE // 2) / (RATE // 2), mode="same")  # motor spins up/down
    whine = hum(n, 180 * speed * rng.uniform(0.9, 1.3), 6, 0.6)
    air = bandpass(rng.normal(0, 1, n), 300, 6000) * speed**2
    on = np.ones(n)
    if rng.random() < 0.6:  # switched on part-way
        start = int(rng.uniform(0.2, 0.5) * n)
        on[:start] = 0
        on[start : start + RATE] = np.linspace(0, 1, RATE)[: n - start] ** 2
    return (0.3 * whine + air) * on


def cafe(n: int, rng: Rng) -> np.ndarray:
    cups = scatter(n, rng, 1.5, lambda: modes(rng, list(rng.uniform(1800, 7000, 4)), rng.uniform(20, 90)))
    spoon = np.zeros(n)
    for _ in range(rng.poisson(n / RATE / 5)):  # stirring: fast little ticks for 2 s
        t = int(rng.uniform(0, n - 2 * RATE))
        spoon[t : t + 2 * RATE] += scatter(2 * RATE, rng, 7, lambda: modes(rng, [4000, 6100], 8))
    steam = np.zeros(n)
    if rng.random() < 0.7:
        a = int(rng.uniform(0, 0.6) * n)
        b = min(n, a + int(rng.uniform(2, 5) * RATE))
        steam[a:b] = highpass(rng.normal(0, 1, b - a), 2500) * 0.3 * np.hanning(b - a) ** 0.3
    grinder = np.zeros(n)
    if rng.random() < 0.5:
        a = int(rng.uniform(0, 0.7) * n)
        b = min(n, a + int(rng.uniform(1.5, 4) * RATE))
        grinder[a:b] = hum(b - a, np.full(b - a, 95.0), 20, 0.85) * bandpass(rng.normal(0, 1, b - a), 200, 4000)
    return cups + 0.5 * spoon + steam + 0.2 * grinder + 0.01 * lowpass(rng.normal(0, 1, n), 300)


def car(n: int, rng: Rng) -> np.ndarray:
    rpm = rng.uniform(1500, 3000) * wander(n, rng, 0.2, 3)
    engine = hum(n, rpm / 60 * 2, 6, 0.5)  # a four-stroke four fires twice per turn
    road = lowpass(rng.normal(0, 1, n), 180, 3) * 3 + bandpass(rng.normal(0, 1, n), 500, 1500) * 0.2
    tick = np.zeros(n)
    if rng.random() < 0.7:  # turn signal: relay tick and tock at 1.5 Hz
        a = int(rng.uniform(0, 0.5) * n)
        for k, t in enumerate(range(a, min(n, a + int(rng.uniform(3, 8) * RATE)), int(RATE / 1.5 / 2))):
            c = click(rng, 2500 if k % 2 else 1200, 6000, 2)[: n - t]
            tick[t : t + len(c)] += 3 * c
    return 0.05 * engine + road + tick


def midi(tracks: list[list[tuple[float, int, int, int, int]]], tempo_bpm: float) -> bytes:
    """A type-1 MIDI file. Each event: (beat, channel, kind 0x90/0x80/0xC0, data1, data2)."""
    tpq = 480
    chunks = [b"MThd" + struct.pack(">IHHH", 6, 1, len(tracks), tpq)]
    tempo = int(60e6 / tempo_bpm).to_bytes(3, "big")
    for i, evs in enumerate(tracks):
        body = bytearray(b"\x00\xff\x51\x03" + tempo if i == 0 else b"")
        now = 0
        for beat, ch, kind, d1, d2 in sorted(evs, key=lambda e: (e[0], e[2] == 0x90)):
            tick = int(beat * tpq)
            delta, now = tick - now, tick
            var = [delta & 0x7F]
            while delta > 0x7F:
                delta >>= 7
                var.insert(0, 0x80 | (delta & 0x7F))
            body += bytes(var) + bytes([kind | ch, d1] + ([] if kind == 0xC0 else [d2]))
        body += b"\x00\xff\x2f\x00"
        chunks.append(b"MTrk" + struct.pack(">I", len(body)) + bytes(body))
    return b"".join(chunks)


def render(mid: bytes, n: int) -> np.ndarray:
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "m.mid").write_bytes(mid)
        cmd = ["fluidsynth", "-ni", "-g", "0.7", "-r", str(RATE), "-F", f"{d}/m.wav", SF2, f"{d}/m.mid"]
        subprocess.run(cmd, check=True, capture_output=True)
        x = decode(Path(d) / "m.wav")
    return np.pad(x, (0, max(0, n - len(x))))[:n]


def song(n: int, rng: Rng, leads: list[int], basses: list[int], kits: list[int]) -> np.ndarray:
    """Chords, a bass line, a melody and (if kits) drums, at a random key and tempo."""
    bpm = float(rng.uniform(76, 150))
    beats = int(n / RATE * bpm / 60) + 4
    key = int(rng.integers(50, 62))
    prog = [[0, 4, 7], [5, 9, 12], [7, 11, 14], [-3, 0, 4], [2, 5, 9]]
    lp, cp, bp = (int(rng.choice(leads)), int(rng.choice(leads)), int(rng.choice(basses)))
    lead, chords, bass, drums = [(0.0, 0, 0xC0, lp, 0)], [(0.0, 1, 0xC0, cp, 0)], [(0.0, 2, 0xC0, bp, 0)], []
    scale = [0, 2, 4, 5, 7, 9, 11, 12, 14]
    for bar in range(0, beats, 4):
        ch = prog[int(rng.integers(len(prog)))]
        arp = rng.random() < 0.5
        for i, s in enumerate(ch):
            at = bar + (i * 0.5 if arp else 0)
            chords += [(at, 1, 0x90, key + s, 70), (bar + 3.9, 1, 0x80, key + s, 0)]
        bass += [(bar, 2, 0x90, key + ch[0] - 24, 90), (bar + 1.9, 2, 0x80, key + ch[0] - 24, 0)]
        bass += [(bar + 2, 2, 0x90, key + ch[1] - 24, 85), (bar + 3.9, 2, 0x80, key + ch[1] - 24, 0)]
        t = float(bar)
        while t < bar + 4:
            d = float(rng.choice([0.5, 1.0, 1.0, 1.5, 2.0]))
            if rng.random() < 0.8:
                p = key + 12 + int(rng.choice(scale))
                lead += [(t, 0, 0x90, p, int(rng.integers(70, 110))), (t + d * 0.9, 0, 0x80, p, 0)]
            t += d
        for b in range(4) if kits else []:
            for note, hit in ((36, b % 2 == 0), (38, b % 2 == 1), (42, True)):
                if hit:
                    drums += [(bar + b, 9, 0x90, note, 90), (bar + b + 0.2, 9, 0x80, note, 0)]
            drums += [(bar + b + 0.5, 9, 0x90, 42, 60), (bar + b + 0.7, 9, 0x80, 42, 0)]
    if kits:
        drums.insert(0, (0.0, 9, 0xC0, int(rng.choice(kits)), 0))
    start = int(rng.uniform(0, 0.5) * RATE)
    return np.roll(render(midi([lead, chords, bass, drums], bpm), n), start)


def music(n: int, rng: Rng) -> np.ndarray:
    return song(n, rng, [12, 25, 21, 57, 22, 108, 114, 27, 104], [32, 35], [40, 32, 25])


def choir(n: int, rng: Rng) -> np.ndarray:
    return song(n, rng, [52, 53], [52], [])


def hold_music(n: int, rng: Rng) -> np.ndarray:
    tracks = sorted(Path("/usr/share/asterisk/moh").glob("*.g722"))
    x = decode(tracks[int(rng.integers(len(tracks)))])
    a = int(rng.integers(0, len(x) - n))
    return x[a : a + n]


def effects(n: int, rng: Rng) -> np.ndarray:
    """Film sound effects: booms, whooshes, shots."""

    def boom() -> np.ndarray:
        return lowpass(rng.normal(0, 1, RATE), 150) * decay(rng, 250, 1000) * 4

    def whoosh() -> np.ndarray:
        m = int(rng.uniform(0.4, 1.2) * RATE)
        return bandpass(rng.normal(0, 1, m), 400, 3000) * np.hanning(m)

    def shot() -> np.ndarray:
        return highpass(rng.normal(0, 1, 4000), 300) * decay(rng, 20, 250) * 3

    return scatter(n, rng, 0.4, lambda: [boom, whoosh, shot][int(rng.integers(3))]())


def tv(n: int, rng: Rng) -> np.ndarray:
    score = song(n, rng, [60, 62, 10, 9, 105], [43, 58], [48, 0])
    return score / (np.std(score) + 1e-9) + 0.7 * effects(n, rng)


def sound_files() -> list[Path]:
    files = sorted((SOUNDS / "freedesktop/stereo").glob("*.oga"))
    files += sorted((SOUNDS / "deepin/stereo").glob("*.wav")) + sorted(SOUNDS.glob("Oxygen-*.ogg"))
    return [f for f in files if "channel" not in f.name and "test-signal" not in f.name]


def events(n: int, rng: Rng) -> np.ndarray:
    files = sound_files()
    return scatter(n, rng, 0.25, lambda: decode(files[int(rng.integers(len(files)))]))


def desk(n: int, rng: Rng) -> np.ndarray:
    clock = np.zeros(n)
    for k, t in enumerate(range(int(rng.integers(RATE)), n, RATE)):
        c = click(rng, 3000 if k % 2 else 2000, 7000, 1.5)[: n - t]
        clock[t : t + len(c)] += c
    mouse = scatter(
        n, rng, 0.5, lambda: np.concatenate([click(rng, 1500, 6000, 1), np.zeros(1600), click(rng, 1500, 6000, 1)])
    )

    def rustle() -> np.ndarray:
        m = int(rng.uniform(0.3, 1.5) * RATE)
        crackle = (rng.random(m) < 0.02) * rng.normal(0, 1, m)
        return highpass(crackle + 0.1 * rng.normal(0, 1, m), 1500) * np.hanning(m)

    return clock + 2 * mouse + scatter(n, rng, 0.3, rustle)


def typing(n: int, rng: Rng) -> np.ndarray:
    out = np.zeros(n)
    t = int(rng.uniform(0, 2) * RATE)
    while t < n:
        for _ in range(int(rng.integers(5, 40))):  # a burst of keystrokes
            c = click(rng, 800, 5000, rng.uniform(1, 3))[: max(0, n - t)]
            out[t : t + len(c)] += c
            t += int(rng.uniform(0.08, 0.25) * RATE)
        t += int(rng.uniform(1, 5) * RATE)
    return out


def office(n: int, rng: Rng, talkers: list[Speech]) -> np.ndarray:
    vent = lowpass(rng.normal(0, 1, n), 400, 3) * 0.5 + 0.05 * hum(n, np.full(n, 120.0), 3, 0.5)
    printer = np.zeros(n)
    if rng.random() < 0.5:
        a = int(rng.uniform(0, 0.6) * n)
        m = min(n - a, int(rng.uniform(2, 4) * RATE))
        feed = 0.5 + 0.5 * np.sign(np.sin(2 * np.pi * 3 * np.arange(m) / RATE))
        printer[a : a + m] = bandpass(rng.normal(0, 1, m), 300, 2500) * feed * 0.5
    ring = np.zeros(n)
    if rng.random() < 0.5:
        r = decode(SOUNDS / "freedesktop/stereo/phone-incoming-call.oga")[:n]
        a = int(rng.integers(0, n - len(r) + 1))
        ring[a : a + len(r)] = room(lowpass(r, 3000), rng, 0.9) * 0.3
    far = np.zeros(n)
    for sp in talkers:  # far talkers, muffled and reverberant, 15-25 dB down
        x, _ = talk(sp, rng, n / RATE)
        far += room(lowpass(x[:n], 2500), rng, rng.uniform(0.6, 1.0))[:n] * 10 ** (-rng.uniform(15, 25) / 20)
    return vent + 0.5 * typing(n, rng) + printer + ring + far


def steps(x: np.ndarray, rng: Rng) -> np.ndarray:
    """Level steps of 6-18 dB held 1.5-4 s, and now and then a ramp (a hand on a volume knob)."""
    n, gain, t, level = len(x), np.zeros(len(x)), 0, 0.0
    while t < n:
        m = int(rng.uniform(1.5, 4) * RATE)
        new = float(np.clip(level + rng.choice([-1, 1]) * rng.uniform(6, 18), -18, 12))
        ramp = int(rng.choice([1, int(rng.uniform(0.2, 1.5) * RATE)]))
        seg = np.concatenate([np.linspace(level, new, ramp), np.full(max(m - ramp, 0), new)])[: n - t]
        gain[t : t + len(seg)] = seg
        t, level = t + len(seg), new
    return x * 10 ** (gain / 20)


# ---------------------------------------------------------------- channels


def room(x: np.ndarray, rng: Rng, rt60: float) -> np.ndarray:
    """A shoebox room: image sources up to order 2 and a diffuse tail decaying faster above 1 kHz."""
    dims = rng.uniform([3, 3, 2.4], [8, 6, 3.2])
    src, mic = rng.uniform(0.5, dims - 0.5), rng.uniform(0.5, dims - 0.5)
    beta = np.sqrt(1 - rng.uniform(0.2, 0.5))  # wall reflection (amplitude)
    ir = np.zeros(int(rt60 * RATE))
    for i in range(-2, 3):
        for j in range(-2, 3):
            for k in range(-2, 3):
                order = abs(i) + abs(j) + abs(k)
                if order > 2:
                    continue
                img = np.array([i, j, k]) * dims + np.where(np.array([i, j, k]) % 2, dims - src, src)
                dist = float(np.linalg.norm(img - mic))
                at = int(dist / 343 * RATE)
                if at < len(ir):
                    ir[at] += beta**order / max(dist, 0.3)
    t = np.arange(len(ir)) / RATE
    start = int(0.04 * RATE) + int(np.argmax(ir))
    tail = lowpass(rng.normal(0, 1, len(ir)), 1000) * np.exp(-6.9 * t / rt60)
    tail += highpass(rng.normal(0, 1, len(ir)), 1000) * np.exp(-6.9 * t / (rt60 * 0.6))
    tail[:start] = 0
    ir += tail * ir.max() * 0.08
    y = signal.fftconvolve(x, ir / ir.max())[: len(x)]
    return y * np.std(x) / (np.std(y) + 1e-12)


def laptop(x: np.ndarray, rng: Rng) -> np.ndarray:
    """Cheap laptop mic: 200 Hz-6 kHz band, hiss, and an AGC that lifts the floor in pauses."""
    y = bandpass(x, rng.uniform(150, 300), rng.uniform(5000, 7000), 3) + rng.normal(0, 10 ** (-60 / 20), len(x))
    e = cells_db(np.pad(y, (0, CELL)))
    gain, g = np.zeros(len(e)), 0.0
    for i, level in enumerate(e):
        want = float(np.clip(-22 - level, -10, 24))
        g += (want - g) * (0.3 if want < g else 0.007)  # fast attack, slow release
        gain[i] = g
    return y * 10 ** (spread(gain, len(y)) / 20)


def codec(x: np.ndarray, enc: list[str], fmt: str) -> np.ndarray:
    """Round trip through an ffmpeg codec; the codec's delay is removed by cross-correlation."""
    args = ["-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", "-", *enc, "-f", fmt, "-"]
    coded = subprocess.run(["ffmpeg", "-v", "error", *args], input=to_i16(x), capture_output=True, check=True).stdout
    y = ffmpeg_pcm(["-f", fmt, "-i", "-"], coded)
    c = signal.correlate(y, x, mode="full", method="fft")[len(x) - 1 : len(x) - 1 + 4000]
    lag = int(np.argmax(c))
    y = y[lag:]
    return np.pad(y, (0, max(0, len(x) - len(y))))[: len(x)]


def clipped(x: np.ndarray, rng: Rng) -> np.ndarray:
    peak = np.max(np.abs(x))
    return np.clip(x, -peak / 4, peak / 4) * 4 * rng.uniform(0.8, 1.0)


# ---------------------------------------------------------------- conditions

Noise = Callable[[int, Rng], np.ndarray]
MAKERS: dict[str, Noise] = {
    "rain": rain,
    "wind": wind,
    "washer": washer,
    "vacuum": vacuum,
    "cafe": cafe,
    "car": car,
    "tv": tv,
    "events": events,
    "desk": desk,
    "music": music,
    "holdmusic": hold_music,
    "choir": choir,
}
# speech conditions: name -> (noise, SNR dB, channel applied to the mix, room on the speech)
SPEECH: dict[str, tuple[str | None, float, str | None, bool]] = {
    "clean": (None, 0, None, False),
    "quiet_m45": (None, 0, None, False),
    **{f"{k}_{s}": (k, s, None, False) for k, s in [("rain", 5), ("wind", 5), ("washer", 10), ("vacuum", 5)]},
    **{f"{k}_{s}": (k, s, None, False) for k, s in [("cafe", 10), ("car", 5), ("tv", 10), ("events", 10)]},
    **{f"{k}_{s}": (k, s, None, False) for k, s in [("desk", 15), ("music", 10), ("holdmusic", 10)]},
    **{f"{k}_{s}": (k, s, None, False) for k, s in [("choir", 10), ("office", 10), ("rain", 0), ("car", 0)]},
    "tvup_10": ("tvup", 10, None, False),
    "laptop_10": ("desk", 10, "laptop", False),
    "bluetooth_10": ("car", 10, "bluetooth", False),
    "voip_10": ("cafe", 10, "voip", False),
    "hall_10": ("rain", 10, None, True),
    "clipped_15": ("events", 15, "clipped", False),
}
ALONE = [*MAKERS, "laptop", "office", "steps"]
CHANNELS: dict[str, Callable[[np.ndarray, Rng], np.ndarray]] = {
    "laptop": laptop,
    "bluetooth": lambda x, rng: codec(x, ["-c:a", "sbc", "-msbc", "1"], "sbc"),  # Bluetooth HFP wideband
    "voip": lambda x, rng: codec(x, ["-c:a", "libopus", "-b:a", "8k", "-application", "voip"], "ogg"),
    "clipped": clipped,
}
VOICES = [*REAL, "channel_names", *TTS]


def make_noise(kind: str, n: int, rng: Rng, voices: list[Speech]) -> np.ndarray:
    """A noise at active level 1 over a faint room tone 40-50 dB down."""
    if kind == "office":
        x = office(n, rng, [voices[int(i)] for i in rng.choice(len(voices), 2, replace=False)])
    elif kind == "tvup":
        x = steps(tv(n, rng), rng)
    elif kind == "steps":
        base = [rain, car, tv, vacuum, hold_music][int(rng.integers(5))](n, rng)
        x = steps(base / level(base), rng)
    else:
        x = MAKERS[kind](n, rng)
    return x / level(x) + lowpass(rng.normal(0, 1, n), 2000) * 10 ** (-rng.uniform(40, 50) / 20)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "data_field")
    ap.add_argument("--files", type=int, default=6, help="clips per condition")
    args = ap.parse_args()
    out: Path = args.out
    (out / "field_test").mkdir(parents=True, exist_ok=True)
    (out / "cache").mkdir(exist_ok=True)
    voices = [Speech(v, out / "cache") for v in VOICES]
    manifest = []
    conditions = [(c, True) for c in SPEECH] + [(f"only_{k}", False) for k in ALONE]
    for ci, (cond, has_speech) in enumerate(conditions):
        for i in range(args.files):
            rng = np.random.default_rng([SEED, ci, i])
            seconds = float(rng.uniform(7, 13))
            if has_speech:
                noise, snr, channel, reverb = SPEECH[cond]
                sp = voices[(ci + 2 * i) % len(voices)]  # odd and even picks: half recorded, half festival
                x, lab = talk(sp, rng, seconds)
                active = 10 ** ((-45 if cond.startswith("quiet") else rng.uniform(-26, -18)) / 20)
                x = (room(x, rng, rng.uniform(0.5, 0.9)) if reverb else x) * active
                if noise is not None:
                    others = [v for v in voices if v is not sp]
                    nz = make_noise(noise, len(x), rng, others)
                    x = x + nz / level(nz) * active * 10 ** (-snr / 20)
                who = sp.voice
            else:
                kind, channel = cond[5:], None
                n = int(seconds * RATE) // CELL * CELL
                nz = make_noise("desk" if kind == "laptop" else kind, n, rng, voices)
                x = nz / level(nz) * 10 ** (rng.uniform(-50, -25) / 20)
                channel = "laptop" if kind == "laptop" else None
                lab, who = np.zeros(n // CELL, bool), ""
            if channel:
                x = CHANNELS[channel](x, rng)
            if np.max(np.abs(x)) > 0.99 and channel != "clipped":
                x *= 0.99 / np.max(np.abs(x))
            name = f"field_test/{cond}_{i}.wav"
            wavfile.write(out / name, RATE, np.frombuffer(to_i16(x), "<i2"))
            labels = lab[: len(x) // CELL].astype(int).tolist()
            manifest.append({"wav": name, "split": "field_test", "condition": cond, "voice": who, "labels": labels})
        print(f"{cond}: {args.files} clips", flush=True)
    (out / "manifest.json").write_text(json.dumps(manifest))


if __name__ == "__main__":
    main()
