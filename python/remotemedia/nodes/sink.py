"""Sink nodes: ``MediaWriterNode`` writes the audio it receives to a WAV file."""

from __future__ import annotations

from typing import Any, ClassVar

from remotemedia.core.node import Node, split_inert


class MediaWriterNode(Node):
    """Writes the audio it receives to ``output_path`` as WAV (f32, i16 or
    i32 as received) and passes it on. Runs natively in a pipeline; the file
    is finished when the stream ends."""

    native_type: ClassVar[str | None] = "MediaWriterNode"
    #: The writer is native only (``use_rust=False`` runs it natively too).
    has_python_implementation: ClassVar[bool] = False

    def __init__(self, output_path: str, name: str | None = None, **kwargs: Any) -> None:
        if not isinstance(output_path, str) or not output_path:
            raise ValueError(f"output_path: expected the WAV file to write, got {output_path!r}")
        fields, inert = split_inert(type(self).__name__, kwargs)
        super().__init__(name, output_path=output_path, **fields)
        self.keep_inert(inert)
        self.output_path = output_path

    def process(self, data: Any) -> Any:
        """Writing happens in the engine: run it in a pipeline."""
        raise TypeError("MediaWriterNode writes inside a pipeline: put it in one and run or stream it")


__all__ = ["MediaWriterNode"]
