"""The audio nodes: resampling, voice activity detection, format conversion.

Each node runs the native (Rust) kernel when the runtime has it
(``runtime_hint="auto"`` or ``"rust"``), else its numpy implementation
(``remotemedia._fallback``). Audio is ``(samples, sample_rate)`` with
``samples`` shaped ``(channels, frames)``; a 1-D array is one channel and
comes back 1-D.

Called directly, ``process`` treats each call as one whole clip (fresh state,
flushed at the end). Built with ``stream=True``, consecutive calls are one
stream: state carries over, ``flush()`` ends it, ``reset()`` starts anew, in
the native and the numpy implementations alike.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from remotemedia import _runtime
from remotemedia._fallback import convert as _convert
from remotemedia._fallback import resample as _resample
from remotemedia._fallback import vad as _vad
from remotemedia.core.node import Node, split_inert
from remotemedia.core.pipeline import register_alias

Audio = tuple[np.ndarray, int]


def audio_arg(data: Any) -> tuple[np.ndarray, int, bool]:
    """Checks an audio input: returns ``(samples as 2-D, sample_rate, was_1d)``.

    Float arrays of another width become float32 and non-contiguous arrays
    are made contiguous (one copy each); other dtypes are a ``TypeError``.
    """
    if not isinstance(data, tuple) or len(data) not in (2, 3):
        raise TypeError(f"data: expected a (samples, sample_rate) tuple, got {type(data).__name__}")
    samples, rate = data[0], data[1]
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)):
        raise TypeError(f"sample_rate: expected an integer number of Hz, got {type(rate).__name__}")
    if rate <= 0:
        raise ValueError(f"sample_rate: must be a positive integer (Hz), got {rate}")
    try:
        array = np.ascontiguousarray(samples)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"samples: expected a numpy array of float32, int16 or int32 ({exc})") from exc
    if array.ndim not in (1, 2):
        raise ValueError(f"samples: expected a 1-D (frames) or 2-D (channels, frames) array, got {array.ndim}-D")
    if array.dtype.kind == "f" and array.dtype != np.float32:
        array = array.astype(np.float32)
    elif array.dtype not in (np.float32, np.int16, np.int32):
        raise TypeError(f"samples: dtype {array.dtype} is not supported; use float32, int16 or int32")
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    if array.ndim == 2 and array.shape[0] == 0:
        raise ValueError("samples: an audio array needs at least one channel")
    return (array if array.ndim == 2 else array[np.newaxis, :]), int(rate), array.ndim == 1


class _AudioNode(Node):
    """Shared plumbing: native handle or numpy fallback, clip or stream."""

    native_type: ClassVar[str | None] = None

    def __init__(
        self, name: str | None, runtime_hint: str, stream: bool, params: dict[str, Any], **kwargs: Any
    ) -> None:
        node_type = next(c.__dict__["native_type"] for c in type(self).__mro__ if c.__dict__.get("native_type"))
        fields, inert = split_inert(type(self).__name__, kwargs)
        super().__init__(name, runtime_hint=runtime_hint, **params, **fields)
        self.keep_inert(inert)
        self.stream = bool(stream)
        self._handle: Any = None
        if self.runtime_hint == "python":
            return
        if self.runtime_hint == "rust":
            _runtime.require_native(node_type)
        elif not _runtime.has_native(node_type):
            _runtime.warn_fallback(node_type)
            return
        assert _runtime.native is not None
        self._handle = _runtime.native.NativeNode(node_type, self.native_params(), self.stream, self.name, True)
        if type(self).process is _AudioNode.process:
            # Direct calls go straight to Rust, with no Python frame between.
            self.process = self._handle.process  # type: ignore[method-assign]

    def native_params(self) -> dict[str, Any]:
        """The params given to the native node (the manifest params)."""
        return self.params()

    @property
    def uses_native(self) -> bool:
        """True when direct calls run the native kernel."""
        return self._handle is not None

    def process(self, data: Any) -> Any:
        """One clip (or, with ``stream=True``, the next chunk)."""
        if self._handle is not None:
            return self._handle.process(data)
        if self.stream:
            return self.process_stream_python(data)
        return self.process_python(data)

    def flush(self) -> Any:
        """Ends a stream: what the node still holds, or ``None``."""
        if self._handle is not None:
            return self._handle.flush()
        return self.flush_python()

    def reset(self) -> None:
        """Forgets stream state."""
        if self._handle is not None:
            self._handle.reset()

    def process_python(self, data: Any) -> Any:
        """The numpy implementation on one whole clip."""
        samples, rate, one_d = audio_arg(data)
        out = self.clip_python(samples, rate, data)
        return _shape(out, one_d)

    def process_stream_python(self, data: Any) -> Any:
        """The numpy implementation on the next chunk of a stream (stateless
        nodes: the same as a clip)."""
        return self.process_python(data)

    def flush_python(self) -> Any:
        """Ends a numpy stream: what the node still holds, or ``None``."""
        return None

    def clip_python(self, samples: np.ndarray, rate: int, original: Any) -> Any:
        """The numpy kernel on 2-D samples; returns the output tuple (an
        annotation such as VAD results, ``original[2:]``, is kept)."""
        raise NotImplementedError


def _shape(out: Any, one_d: bool) -> Any:
    if one_d and isinstance(out, tuple) and out[0].ndim == 2 and out[0].shape[0] == 1:
        return (out[0][0], *out[1:])
    return out


class AudioResampleNode(_AudioNode):
    """Converts the sample rate to ``target_sample_rate``; the output is float32
    (integer input is converted first).

    The output is time-aligned with the input (filter delay compensated) and
    exactly ``round(frames * target / sample_rate)`` frames long; the same rate
    in and out returns the input.
    """

    native_type: ClassVar[str | None] = "AudioResampleNode"

    def __init__(
        self,
        target_sample_rate: int = 16000,
        quality: str = "high",
        runtime_hint: str = "auto",
        name: str | None = None,
        stream: bool = False,
        **kwargs: Any,
    ) -> None:
        if isinstance(target_sample_rate, bool) or not isinstance(target_sample_rate, (int, np.integer)):
            raise TypeError(f"target_sample_rate: expected an integer number of Hz, got {target_sample_rate!r}")
        if target_sample_rate <= 0:
            raise ValueError(f"target_sample_rate: must be a positive integer (Hz), got {target_sample_rate}")
        if quality not in _resample.QUALITIES:
            raise ValueError(f"quality: expected 'low', 'medium' or 'high', got {quality!r}")
        self.target_sample_rate = int(target_sample_rate)
        self.quality = quality
        self._stream_state: tuple[_resample.StreamResampler, bool] | None = None
        params = {"target_sample_rate": self.target_sample_rate, "quality": quality}
        super().__init__(name, runtime_hint, stream, params, **kwargs)

    def process_stream_python(self, data: Any) -> Any:
        """The numpy stream: filter history carries over between chunks."""
        samples, rate, one_d = audio_arg(data)
        state = self._stream_state
        if state is None and rate == self.target_sample_rate:
            return _shape((samples, rate, *data[2:]), one_d)
        if state is not None and (state[0].in_rate, state[0].buffer.shape[0]) != (rate, samples.shape[0]):
            raise ValueError(
                f"sample_rate: the stream's rate or channel count changed (now {rate} Hz, "
                f"{samples.shape[0]} channels); flush() before starting another stream"
            )
        if state is None:
            state = (_resample.StreamResampler(rate, self.target_sample_rate, samples.shape[0], self.quality), one_d)
            self._stream_state = state
        out = state[0].process(_convert.to_f32(samples))
        return _shape((out, self.target_sample_rate, *data[2:]), one_d)

    def flush_python(self) -> Any:
        """Ends the numpy stream: the filter's tail, or ``None``."""
        state, self._stream_state = self._stream_state, None
        if state is None:
            return None
        return _shape((state[0].flush(), self.target_sample_rate), state[1])

    def reset(self) -> None:
        """Forgets stream state."""
        super().reset()
        self._stream_state = None

    def clip_python(self, samples: np.ndarray, rate: int, original: Any) -> Any:
        if rate == self.target_sample_rate:
            return (samples, rate, *original[2:])
        out = _resample.resample(_convert.to_f32(samples), rate, self.target_sample_rate, self.quality)
        return (out, self.target_sample_rate, *original[2:])


class VADNode(_AudioNode):
    """Voice activity detection: ``(a, sr) -> (a, sr, info)``.

    ``info`` has ``is_speech``, ``speech_frames``, ``total_frames``,
    ``segments`` (``{"start", "end", "energy_db"}``, seconds) and
    ``frame_decisions``. ``mode="speech"`` (default) is the robust speech
    detector; ``mode="energy"`` the plain RMS detector (selected by passing
    ``energy_threshold`` without ``mode``).
    """

    native_type: ClassVar[str | None] = "VADNode"

    def __init__(
        self,
        frame_duration_ms: int = 30,
        energy_threshold: float | None = None,
        threshold_db: float | None = None,
        mode: str | None = None,
        runtime_hint: str = "auto",
        name: str | None = None,
        stream: bool = False,
        sample_rate: int | None = None,
        **kwargs: Any,
    ) -> None:
        if sample_rate is not None and (
            isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0
        ):
            raise ValueError(f"sample_rate: expected a positive integer number of Hz, got {sample_rate!r}")
        if frame_duration_ms not in (10, 20, 30) or isinstance(frame_duration_ms, bool):
            raise ValueError(f"frame_duration_ms: expected 10, 20 or 30, got {frame_duration_ms!r}")
        if mode not in (None, "speech", "energy"):
            raise ValueError(f"mode: expected 'speech' or 'energy', got {mode!r}")
        if threshold_db is not None and (
            isinstance(threshold_db, bool)
            or not isinstance(threshold_db, (int, float))
            or not math.isfinite(threshold_db)
        ):
            raise ValueError(f"threshold_db: must be a finite number of dBFS, got {threshold_db!r}")
        if energy_threshold is not None and (
            isinstance(energy_threshold, bool)
            or not isinstance(energy_threshold, (int, float))
            or not math.isfinite(energy_threshold)
            or energy_threshold <= 0
        ):
            raise ValueError(f"energy_threshold: must be a finite RMS above 0, got {energy_threshold!r}")
        self.frame_duration_ms = frame_duration_ms
        self.energy_threshold = energy_threshold
        self.threshold_db = threshold_db
        self.mode = mode if mode is not None else ("energy" if energy_threshold is not None else "speech")
        params: dict[str, Any] = {"frame_duration_ms": frame_duration_ms}
        if energy_threshold is not None:
            params["energy_threshold"] = energy_threshold
        if threshold_db is not None:
            params["threshold_db"] = threshold_db
        if mode is not None or energy_threshold is not None:
            params["mode"] = self.mode
        #: The rate the audio must have (older scripts state it), or ``None``.
        self.sample_rate = None if sample_rate is None else int(sample_rate)
        if self.sample_rate is not None:
            params["sample_rate"] = self.sample_rate
        self.settings = _vad.VadSettings.resolve(frame_duration_ms, self.mode, threshold_db, energy_threshold)
        self._stream_state: tuple[_vad.StreamVad, np.ndarray, bool] | None = None
        super().__init__(name, runtime_hint, stream, params, **kwargs)

    def process_stream_python(self, data: Any) -> Any:
        """The numpy stream: this chunk's decisions and closed segments."""
        samples, rate, one_d = audio_arg(data)
        self._check_rate(rate)
        state = self._stream_state
        if state is not None and state[0].sample_rate != rate:
            raise ValueError(
                f"sample_rate: the stream's rate changed from {state[0].sample_rate} to {rate} Hz; "
                "flush() before starting another stream"
            )
        if state is None:
            state = (_vad.StreamVad(rate, self.settings), samples[:, :0], one_d)
        self._stream_state = (state[0], samples[:, :0], one_d)
        info = state[0].process(samples)
        return _shape((samples, rate, info), one_d)

    def flush_python(self) -> Any:
        """Ends the numpy stream: zero frames of float32 audio with the last
        decisions and segments, or ``None`` when there are none (as natively)."""
        state, self._stream_state = self._stream_state, None
        if state is None:
            return None
        info = state[0].flush()
        if not info["total_frames"] and not info["segments"]:
            return None
        empty = np.zeros((state[1].shape[0], 0), dtype=np.float32)
        return _shape((empty, state[0].sample_rate, info), state[2])

    def reset(self) -> None:
        """Forgets stream state."""
        super().reset()
        self._stream_state = None

    def _check_rate(self, rate: int) -> None:
        if self.sample_rate is not None and rate != self.sample_rate:
            raise ValueError(
                f"VADNode: audio at {rate} Hz, but the node was built for sample_rate={self.sample_rate} Hz"
            )

    def clip_python(self, samples: np.ndarray, rate: int, original: Any) -> Any:
        self._check_rate(rate)
        info = _vad.detect(samples, rate, self.settings)
        return (samples, rate, info)


class FormatConverterNode(_AudioNode):
    """Converts samples to ``target_format`` (``f32``, ``i16`` or ``i32``).

    i16 -> f32 divides by 32768; f32 -> i16 scales by 32768, rounds and
    clamps (1.0 becomes 32767). The shape is kept; the same format in and out
    returns the input.
    """

    native_type: ClassVar[str | None] = "FormatConverterNode"

    def __init__(
        self,
        target_format: str = "f32",
        runtime_hint: str = "auto",
        name: str | None = None,
        stream: bool = False,
        **kwargs: Any,
    ) -> None:
        if target_format not in _convert.FORMATS:
            raise ValueError(f"target_format: expected 'f32', 'i16' or 'i32', got {target_format!r}")
        self.target_format = target_format
        super().__init__(name, runtime_hint, stream, {"target_format": target_format}, **kwargs)

    def clip_python(self, samples: np.ndarray, rate: int, original: Any) -> Any:
        return (_convert.convert(samples, self.target_format), rate, *original[2:])


register_alias("ResampleNode", AudioResampleNode)

__all__ = ["AudioResampleNode", "FormatConverterNode", "VADNode", "audio_arg"]
