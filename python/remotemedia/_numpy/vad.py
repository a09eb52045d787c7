"""Voice activity detection in numpy.

Frames are ``round(sample_rate * frame_duration_ms / 1000)`` samples (a
trailing partial frame is dropped); a frame's level is ``10 log10`` of its
mean square (dBFS). Multichannel audio is averaged to mono first, integer PCM
scaled to [-1, 1).

- ``mode="energy"`` is exactly the native detector: a frame is active when
  its level is above ``threshold_db``; every run of active frames is a
  segment.
Streams (``StreamVad``) give the same decisions and segments as one clip in
energy mode, call by call as the native node reports them.

- ``mode="speech"`` is an approximation of the native speech detector (which
  runs a trained classifier on spectral features): a frame is active when it
  is above ``threshold_db`` *and* at least 9 dB above the clip's noise floor
  (its 10th-percentile frame level). It finds speech in silence or light
  noise like the native one, but it calls any loud non-stationary sound
  speech (music, crowd noise) and it misses speech in strong noise. Its
  smoothing takes the native params (minimum speech and silence, hangover),
  but not the native edge fitting (lead-in, trimming, merging of short runs
  before a segment).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from remotemedia._numpy.convert import to_f32

NOISE_MARGIN_DB = 9.0


@dataclass(frozen=True)
class VadSettings:
    """Detector settings: the native node's params, resolved by the engine
    (see ``remotemedia._runtime.resolve_params``)."""

    frame_duration_ms: int
    mode: str
    threshold_db: float
    hangover_ms: int
    min_speech_ms: int
    min_silence_ms: int

    @staticmethod
    def from_params(params: dict[str, Any]) -> VadSettings:
        """Settings from the resolved ``VADNode`` params."""
        return VadSettings(
            int(params["frame_duration_ms"]),
            str(params["mode"]),
            float(np.float32(params["threshold_db"])),
            int(params["hangover_ms"]),
            int(params["min_speech_ms"]),
            int(params["min_silence_ms"]),
        )


def mono(samples: np.ndarray) -> np.ndarray:
    """Float32 mono: channels averaged, non-finite samples as 0."""
    x = to_f32(samples)
    if x.ndim == 1:
        return np.where(np.isfinite(x), x, np.float32(0.0))
    x = np.where(np.isfinite(x), x, np.float32(0.0))
    total = x[0].copy()
    for c in range(1, x.shape[0]):
        total += x[c]
    return total * np.float32(1.0 / x.shape[0])


def detect(samples: np.ndarray, sample_rate: int, settings: VadSettings) -> dict[str, Any]:
    """Runs the detector over a whole clip; returns the info dict."""
    x = mono(samples)
    frame_len = (sample_rate * settings.frame_duration_ms + 500) // 1000
    n = len(x) // frame_len
    frames = x[: n * frame_len].reshape(n, frame_len).astype(np.float64)
    mean_square = np.einsum("ij,ij->i", frames, frames) / frame_len if n else np.zeros(0)
    level_db = 10.0 * np.log10(mean_square + 1e-20)
    active = level_db > settings.threshold_db
    if settings.mode == "speech" and n:
        floor = float(np.percentile(level_db, 10))
        active &= level_db > floor + NOISE_MARGIN_DB
    seg = _Segmenter(frame_len, sample_rate, settings)
    decisions: list[bool] = []
    segments: list[dict[str, float]] = []
    for i in range(n):
        seg.push(i, bool(active[i]), float(mean_square[i]), decisions, segments)
    seg.flush(n, decisions, segments)
    return {
        "is_speech": bool(segments),
        "speech_frames": int(sum(decisions)),
        "total_frames": n,
        "segments": segments,
        "frame_decisions": decisions,
    }


class StreamVad:
    """The detector on a stream: each call judges the whole frames completed
    so far (a partial frame waits for the next call) and reports the
    decisions made final and the segments closed during the call, with times
    from the start of the stream. In speech mode the noise floor is the 10th
    percentile of every frame level seen so far."""

    def __init__(self, sample_rate: int, settings: VadSettings) -> None:
        self.settings = settings
        self.frame_len = (sample_rate * settings.frame_duration_ms + 500) // 1000
        self.sample_rate = sample_rate
        self.rest = np.zeros(0, dtype=np.float32)
        self.index = 0
        self.levels: list[float] = []
        self.segmenter = _Segmenter(self.frame_len, sample_rate, settings)

    def process(self, samples: np.ndarray) -> dict[str, Any]:
        """Feeds audio of any length; returns this call's info dict."""
        x = np.concatenate([self.rest, mono(samples)])
        n = len(x) // self.frame_len
        frames = x[: n * self.frame_len].reshape(n, self.frame_len).astype(np.float64)
        self.rest = x[n * self.frame_len :]
        mean_square = np.einsum("ij,ij->i", frames, frames) / self.frame_len if n else np.zeros(0)
        level_db = 10.0 * np.log10(mean_square + 1e-20)
        active = level_db > self.settings.threshold_db
        if self.settings.mode == "speech" and n:
            self.levels.extend(level_db.tolist())
            active &= level_db > float(np.percentile(self.levels, 10)) + NOISE_MARGIN_DB
        decisions: list[bool] = []
        segments: list[dict[str, float]] = []
        for i in range(n):
            self.segmenter.push(self.index + i, bool(active[i]), float(mean_square[i]), decisions, segments)
        self.index += n
        return _info(decisions, segments)

    def flush(self) -> dict[str, Any]:
        """Ends the stream (a partial last frame is dropped) and starts anew."""
        decisions: list[bool] = []
        segments: list[dict[str, float]] = []
        self.segmenter.flush(self.index, decisions, segments)
        self.__init__(self.sample_rate, self.settings)  # type: ignore[misc]
        return _info(decisions, segments)


def _info(decisions: list[bool], segments: list[dict[str, float]]) -> dict[str, Any]:
    speech = int(sum(decisions))
    return {
        "is_speech": speech > 0,
        "speech_frames": speech,
        "total_frames": len(decisions),
        "segments": segments,
        "frame_decisions": decisions,
    }


class _Segmenter:
    """The native segmenter's rules: a run of ``min_speech`` active frames
    opens a segment at its first frame; ``close_after`` inactive frames close
    it at the last active frame plus the hangover."""

    def __init__(self, frame_len: int, sample_rate: int, s: VadSettings) -> None:
        def frames_for(ms: int) -> int:
            return -(-ms // s.frame_duration_ms)

        self.frame_len = frame_len
        self.rate = float(sample_rate)
        self.min_speech = max(frames_for(s.min_speech_ms), 1)
        self.hangover = frames_for(s.hangover_ms)
        self.close_after = max(frames_for(s.min_silence_ms), self.hangover, 1)
        self.pending: deque[tuple[int, float]] = deque()
        self.in_segment = False
        self.run_len = 0
        self.seg_start = 0
        self.last_active = 0
        self.seg_energy = 0.0
        self.seg_frames = 0

    def push(self, index: int, active: bool, ms: float, out: list[bool], segs: list[dict[str, float]]) -> None:
        self.pending.append((index, ms))
        if self.in_segment:
            if active:
                self.last_active = index
                self._emit(lambda _: True, True, out)
            elif index - self.last_active >= self.close_after:
                self._close(self.last_active + 1 + self.hangover, out, segs)
        elif active:
            self.run_len += 1
            if self.run_len >= self.min_speech:
                self.in_segment = True
                self.seg_start = index + 1 - self.run_len
                self.last_active = index
                self.seg_energy = 0.0
                self.seg_frames = 0
                start = self.seg_start
                self._emit(lambda i: i < start, False, out)
                self._emit(lambda _: True, True, out)
        else:
            self.run_len = 0
            self._emit(lambda _: True, False, out)

    def flush(self, total: int, out: list[bool], segs: list[dict[str, float]]) -> None:
        if self.in_segment:
            self._close(min(self.last_active + 1 + self.hangover, total), out, segs)
        self.run_len = 0
        self._emit(lambda _: True, False, out)

    def _close(self, end: int, out: list[bool], segs: list[dict[str, float]]) -> None:
        self._emit(lambda i: i < end, True, out)
        self._emit(lambda _: True, False, out)
        energy = self.seg_energy / max(self.seg_frames, 1)
        segs.append(
            {
                "start": self.seg_start * self.frame_len / self.rate,
                "end": end * self.frame_len / self.rate,
                "energy_db": float(np.float32(10.0 * np.log10(energy + 1e-20))),
            }
        )
        self.in_segment = False
        self.run_len = 0

    def _emit(self, cond: Any, speech: bool, out: list[bool]) -> None:
        while self.pending and cond(self.pending[0][0]):
            _, ms = self.pending.popleft()
            if speech:
                self.seg_energy += ms
                self.seg_frames += 1
            out.append(speech)
