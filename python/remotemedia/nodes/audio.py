"""The audio nodes: resampling, voice activity detection, format conversion.

Each node has two implementations of one definition: the native (Rust)
kernel, which runs by default, and its numpy implementation
(``remotemedia._numpy``), which runs for ``runtime_hint="python"`` and, in a
pipeline, for ``use_rust=False`` — inside the engine, like any Python node.
The params are checked, and their defaults filled in, by the engine's
definition of the node type in both cases. Audio is ``(samples,
sample_rate)`` with ``samples`` shaped ``(channels, frames)``; a 1-D array is
one channel and comes back 1-D.

Called directly, ``process`` treats each call as one whole clip (fresh state,
flushed at the end). Built with ``stream=True``, consecutive calls are one
stream: state carries over, ``flush()`` ends it, ``reset()`` starts anew, in
the native and the numpy implementations alike.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from remotemedia import _runtime
from remotemedia._numpy import convert as _convert
from remotemedia._numpy import resample as _resample
from remotemedia._numpy import vad as _vad
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
    """Shared plumbing: the native kernel or the numpy implementation, clip or
    stream."""

    native_type: ClassVar[str | None] = None

    def __init__(
        self, name: str | None, runtime_hint: str, stream: bool, params: dict[str, Any], **kwargs: Any
    ) -> None:
        node_type = next(c.__dict__["native_type"] for c in type(self).__mro__ if c.__dict__.get("native_type"))
        fields, inert = split_inert(type(self).__name__, kwargs)
        super().__init__(name, runtime_hint=runtime_hint, **params, **fields)
        self.keep_inert(inert)
        #: The params as the node uses them: checked, and every default
        #: filled in, by the engine's definition of the node type.
        self.resolved: dict[str, Any] = _runtime.resolve_params(node_type, self.native_params())
        self.stream = bool(stream)
        self._handle: Any = None
        if self.runtime_hint == "python":
            return
        self._handle = _runtime.native.NativeNode(node_type, self.native_params(), self.stream, self.name, True)
        if type(self).process is _AudioNode.process:
            # Direct calls go straight to Rust, with no Python frame between.
            self.process = self._handle.process  # type: ignore[method-assign]

    def python_step(self, clips: bool) -> Node:
        """A fresh instance running the numpy implementation, for one engine
        run (``clips``: every input a whole clip) or one session (a stream)."""
        step = type(self)(**self.params(), runtime_hint="python", stream=not clips, name=self.name)
        step.timeout_ms = self.timeout_ms
        return step

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


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (params go to the engine
    as JSON); anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value


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
        self._stream_state: tuple[_resample.StreamResampler, bool] | None = None
        params = {"target_sample_rate": _plain(target_sample_rate), "quality": quality}
        super().__init__(name, runtime_hint, stream, params, **kwargs)
        self.target_sample_rate = int(self.resolved["target_sample_rate"])
        self.quality = str(self.resolved["quality"])

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
        given = {
            "frame_duration_ms": frame_duration_ms,
            "energy_threshold": energy_threshold,
            "threshold_db": threshold_db,
            "mode": mode if mode is not None or energy_threshold is None else "energy",
            "sample_rate": sample_rate,
        }
        params = {k: _plain(v) for k, v in given.items() if v is not None}
        self._stream_state: tuple[_vad.StreamVad, np.ndarray, bool] | None = None
        super().__init__(name, runtime_hint, stream, params, **kwargs)
        self.frame_duration_ms = int(self.resolved["frame_duration_ms"])
        self.energy_threshold = energy_threshold
        self.threshold_db = threshold_db
        self.mode = str(self.resolved["mode"])
        #: The rate the audio must have (older scripts state it), or ``None``.
        self.sample_rate = self.resolved.get("sample_rate")
        self.settings = _vad.VadSettings.from_params(self.resolved)

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
        super().__init__(name, runtime_hint, stream, {"target_format": target_format}, **kwargs)
        self.target_format = str(self.resolved["target_format"])

    def clip_python(self, samples: np.ndarray, rate: int, original: Any) -> Any:
        return (_convert.convert(samples, self.target_format), rate, *original[2:])


# -- the older SDK's audio nodes -------------------------------------------------


def mix_channels(samples: np.ndarray, channels: int) -> np.ndarray:
    """``samples`` (2-D) mixed to ``channels``: fewer by averaging the input
    channels ``i`` with ``i % channels == j`` into output ``j`` (mono: the
    mean of all), more by copying input channel ``j % inputs`` (as the native
    ``AudioTransform``)."""
    inputs = samples.shape[0]
    if channels >= inputs:
        return samples[[j % inputs for j in range(channels)]]
    return np.stack([samples[j::channels].mean(axis=0) for j in range(channels)]).astype(np.float32)


class AudioTransform(_AudioNode):
    """Resamples to ``output_sample_rate`` and mixes to ``output_channels``
    (down-mix by averaging, up-mix by copying): ``(a, sr) -> (a', rate)``,
    float32."""

    native_type: ClassVar[str | None] = "AudioTransform"

    def __init__(
        self,
        output_sample_rate: int = 44100,
        output_channels: int = 2,
        runtime_hint: str = "auto",
        name: str | None = None,
        stream: bool = False,
        **kwargs: Any,
    ) -> None:
        params = {"output_sample_rate": _plain(output_sample_rate), "output_channels": _plain(output_channels)}
        super().__init__(name, runtime_hint, stream, params, **kwargs)
        self.output_sample_rate = int(self.resolved["output_sample_rate"])
        self.output_channels = int(self.resolved["output_channels"])
        self._stream_resampler = AudioResampleNode(self.output_sample_rate, runtime_hint="python", stream=True)

    def process_stream_python(self, data: Any) -> Any:
        """The numpy stream: mixed, then resampled with filter history."""
        samples, rate, one_d = audio_arg(data)
        mixed = mix_channels(_convert.to_f32(samples), self.output_channels)
        return _shape(self._stream_resampler.process_stream_python((mixed, rate))[:2], one_d)

    def flush_python(self) -> Any:
        """Ends the numpy stream: the resampler's tail, or ``None``."""
        return self._stream_resampler.flush_python()

    def reset(self) -> None:
        """Forgets stream state."""
        super().reset()
        self._stream_resampler.reset()

    def clip_python(self, samples: np.ndarray, rate: int, original: Any) -> Any:
        mixed = mix_channels(_convert.to_f32(samples), self.output_channels)
        if rate != self.output_sample_rate:
            mixed = _resample.resample(mixed, rate, self.output_sample_rate, "high")
        return (mixed, self.output_sample_rate)


class AudioResampler(AudioResampleNode):
    """``AudioResampleNode`` with the older SDK's default rate (44.1 kHz)."""

    native_type: ClassVar[str | None] = "AudioResampler"

    def __init__(self, target_sample_rate: int = 44100, **kwargs: Any) -> None:
        super().__init__(target_sample_rate, **kwargs)


class AudioBuffer(_AudioNode):
    """Re-chunks a stream of audio into blocks of exactly
    ``buffer_size_samples`` frames; the remainder comes at the end (flush); a
    change of rate, channel count or format hands on what is held first.

    Called directly (numpy), each call returns the list of blocks completed
    by that chunk (``flush()`` the rest), as consecutive calls are one stream.
    With ``stream=False`` each call is a whole clip, re-chunked and joined
    again: the clip's audio comes back as it is (what a batch run of a
    pipeline does with it)."""

    native_type: ClassVar[str | None] = "AudioBuffer"

    def __init__(
        self,
        buffer_size_samples: int,
        runtime_hint: str = "auto",
        name: str | None = None,
        stream: bool = True,
        **kwargs: Any,
    ):
        self._held: tuple[np.ndarray, int, bool] | None = None
        params = {"buffer_size_samples": _plain(buffer_size_samples)}
        super().__init__(name, runtime_hint, stream, params, **kwargs)
        self.buffer_size_samples = int(self.resolved["buffer_size_samples"])
        # Direct calls run in numpy, a list of blocks per call.
        self.process = self._process_stream if self.stream else self._process_clip  # type: ignore[method-assign]

    def engine_outputs(self, value: Any) -> list[Any]:
        """Each block a call returned is an output of its own."""
        if isinstance(value, list):
            return value
        return super().engine_outputs(value)

    def _process_clip(self, data: Any) -> Any:
        samples, rate, one_d = audio_arg(data)
        return _shape((samples, rate), one_d)

    def _process_stream(self, data: Any) -> list[Any]:
        samples, rate, one_d = audio_arg(data)
        blocks: list[Any] = []
        if self._held is not None:
            held, held_rate, _ = self._held
            if (held_rate, held.shape[0], held.dtype) != (rate, samples.shape[0], samples.dtype):
                blocks.extend(self._drain(final=True))
        if self._held is None:
            self._held = (samples, rate, one_d)
        else:
            self._held = (np.concatenate([self._held[0], samples], axis=1), rate, one_d)
        blocks.extend(self._drain(final=False))
        return blocks

    def _drain(self, final: bool) -> list[Any]:
        assert self._held is not None
        held, rate, one_d = self._held
        size = self.buffer_size_samples
        cut = held.shape[1] if final else held.shape[1] - held.shape[1] % size
        blocks = [_shape((held[:, i : min(i + size, cut)].copy(), rate), one_d) for i in range(0, cut, size)]
        self._held = None if final or cut == held.shape[1] else (held[:, cut:], rate, one_d)
        return blocks

    def flush(self) -> Any:
        """The held remainder as a last block, or ``None``."""
        if self._held is None:
            return None
        blocks = self._drain(final=True)
        return blocks[0] if blocks else None

    def reset(self) -> None:
        """Forgets what is held."""
        self._held = None


class ExtractAudioDataNode(Node):
    """``(a, sr)`` or ``((a, sr), metadata)`` -> the array ``a`` alone."""

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)

    def process(self, data: Any) -> Any:
        """The samples of an audio input."""
        audio, _metadata = self.split_data_metadata(data)
        if isinstance(audio, tuple) and len(audio) >= 2 and isinstance(audio[0], np.ndarray):
            return audio[0]
        raise TypeError(f"data: expected (samples, sample_rate) or ((samples, sample_rate), metadata), got {data!r}")


class VoiceActivityDetector(Node):
    """Per chunk of a stream, whether it is speech: ``is_speech`` when at
    least ``speech_threshold`` of its frames are speech, as judged by our
    speech detector (``VADNode``, speech mode; ``energy_threshold`` is
    accepted for older scripts and has no effect).

    ``filter_mode=True`` yields only the speech chunks ``(a, sr)``; otherwise
    every chunk as ``((a, sr), {"is_speech", "speech_ratio", "avg_energy",
    "frame_duration_ms"})``, or ``(a, sr)`` with ``include_metadata=False``.
    The detector decides a frame a few hundred ms after it arrives (it waits
    to see whether a burst is speech), so chunks come out with that delay,
    in order, the last ones at the end of the stream."""

    is_streaming = True

    def __init__(
        self,
        frame_duration_ms: int = 30,
        energy_threshold: float = 0.02,
        speech_threshold: float = 0.3,
        filter_mode: bool = False,
        include_metadata: bool = True,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not 0.0 <= speech_threshold <= 1.0:
            raise ValueError(f"speech_threshold: expected a share of frames from 0 to 1, got {speech_threshold!r}")
        VADNode(frame_duration_ms=frame_duration_ms)  # checks frame_duration_ms
        super().__init__(
            name,
            frame_duration_ms=frame_duration_ms,
            energy_threshold=energy_threshold,
            speech_threshold=speech_threshold,
            filter_mode=filter_mode,
            include_metadata=include_metadata,
            **kwargs,
        )
        self.frame_duration_ms = frame_duration_ms
        self.speech_threshold = float(speech_threshold)
        self.filter_mode = bool(filter_mode)
        self.include_metadata = bool(include_metadata)

    async def process(self, data_stream: Any) -> Any:  # type: ignore[override]
        """Yields the chunks of ``data_stream`` with their decisions."""
        vad = VADNode(frame_duration_ms=self.frame_duration_ms, stream=True)
        decided: list[bool] = []
        waiting: list[tuple[Any, int, int]] = []  # (chunk, first sample, end sample)
        pushed, rate = 0, 0
        async for data in data_stream:
            audio, _metadata = self.split_data_metadata(data)
            samples, chunk_rate, _ = audio_arg(audio)
            if rate and chunk_rate != rate:
                for out in self._release(waiting, decided, vad, rate, final=True):
                    yield out
                decided, pushed = [], 0
            rate = chunk_rate
            _, _, info = vad.process((samples, rate))
            decided.extend(info["frame_decisions"])
            waiting.append((audio, pushed, pushed + samples.shape[1]))
            pushed += samples.shape[1]
            for out in self._release(waiting, decided, vad, rate, final=False):
                yield out
        for out in self._release(waiting, decided, vad, rate, final=True):
            yield out

    def _release(
        self, waiting: list[tuple[Any, int, int]], decided: list[bool], vad: VADNode, rate: int, final: bool
    ) -> list[Any]:
        """The waiting chunks whose frames are all decided (all of them, at the
        end of the stream, after flushing the detector)."""
        if final:
            tail = vad.flush()
            if tail is not None:
                decided.extend(tail[2]["frame_decisions"])
        frame = max(1, rate * self.frame_duration_ms // 1000)
        out: list[Any] = []
        while waiting and (final or len(decided) * frame >= waiting[0][2]):
            audio, start, end = waiting.pop(0)
            frames = decided[start // frame : max(start // frame + 1, -(-end // frame))]
            ratio = sum(frames) / len(frames) if frames else 0.0
            is_speech = ratio >= self.speech_threshold and bool(frames)
            if self.filter_mode:
                if is_speech:
                    out.append(audio)
                continue
            if not self.include_metadata:
                out.append(audio)
                continue
            samples = np.asarray(audio[0], dtype=np.float32)
            meta = {
                "is_speech": is_speech,
                "speech_ratio": ratio,
                "avg_energy": float(np.sqrt(np.mean(np.square(samples)))) if samples.size else 0.0,
                "frame_duration_ms": self.frame_duration_ms,
            }
            out.append((audio, meta))
        return out


register_alias("ResampleNode", AudioResampleNode)

__all__ = [
    "AudioBuffer",
    "AudioResampleNode",
    "AudioResampler",
    "AudioTransform",
    "ExtractAudioDataNode",
    "FormatConverterNode",
    "VADNode",
    "VoiceActivityDetector",
    "audio_arg",
    "mix_channels",
]
