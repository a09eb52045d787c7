"""Source nodes: ``MediaReaderNode`` reads an audio file, ``AudioTrackSource``
turns what it yields into ``(samples, sample_rate)``.

Both run natively (``crates/remotemedia-media``). In a pipeline,
``pipeline.process()`` with no stream runs a ``MediaReaderNode`` first as the
source: the file is decoded a chunk at a time, never whole in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

import numpy as np

from remotemedia.core.node import Node, split_inert


class MediaReaderNode(Node):
    """Reads an audio file (WAV, FLAC, MP3, OGG/Vorbis, M4A/AAC; the format is
    found from the content) and yields it in chunks of ``chunk_size`` frames.

    ``process(None)`` returns an async iterator of ``{"audio": (samples,
    sample_rate)}`` (what ``AudioTrackSource`` takes), as the older node
    yielded ``{"audio": frame}`` dicts. Integer PCM comes as int16/int32,
    everything else as float32, ``(channels, frames)``."""

    native_type: ClassVar[str | None] = "MediaReaderNode"
    #: Yields by itself: ``pipeline.process()`` runs it first, natively.
    is_source: ClassVar[bool] = True
    #: The decoder is native only (``use_rust=False`` runs it natively too).
    has_python_implementation: ClassVar[bool] = False

    def __init__(self, path: str, chunk_size: int = 4096, name: str | None = None, **kwargs: Any) -> None:
        if not isinstance(path, str) or not path:
            raise ValueError(f"path: expected the file to read, got {path!r}")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(f"chunk_size: expected a positive number of frames, got {chunk_size!r}")
        fields, inert = split_inert(type(self).__name__, kwargs)
        super().__init__(name, path=path, chunk_size=chunk_size, **fields)
        self.keep_inert(inert)
        self.path = path
        self.chunk_size = chunk_size

    def process(self, data: Any) -> Any:
        """``process(None)``: the file's chunks, as an async iterator."""
        if data is not None:
            raise TypeError("MediaReaderNode is a source: call process(None)")
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[dict[str, Any]]:
        from remotemedia.core.pipeline import Pipeline

        async for audio in Pipeline([self]).process():
            yield {"audio": audio}


class AudioTrackSource(Node):
    """``{"audio": (samples, sample_rate)}`` (what ``MediaReaderNode`` yields)
    or ``(samples, sample_rate)`` -> ``(samples, sample_rate)`` with float32
    ``(channels, frames)`` samples; anything without audio is dropped."""

    native_type: ClassVar[str | None] = "AudioTrackSource"

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        fields, inert = split_inert(type(self).__name__, kwargs)
        super().__init__(name, **fields)
        self.keep_inert(inert)

    def process(self, data: Any) -> Any:
        """The audio of ``data`` as float32, or ``None`` when it has none."""
        audio = data.get("audio") if isinstance(data, dict) else data
        if not (isinstance(audio, tuple) and len(audio) >= 2 and isinstance(audio[0], np.ndarray)):
            return None
        samples, rate = audio[0], int(audio[1])
        samples = samples if samples.ndim == 2 else samples[np.newaxis, :]
        if samples.dtype == np.int16:
            samples = samples.astype(np.float32) / 32768.0
        elif samples.dtype == np.int32:
            samples = (samples.astype(np.float64) / 2147483648.0).astype(np.float32)
        return np.ascontiguousarray(samples, dtype=np.float32), rate


__all__ = ["AudioTrackSource", "MediaReaderNode"]
