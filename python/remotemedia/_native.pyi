"""Type stubs of the extension module ``remotemedia._native``."""

from typing import Any, final

__all__ = ["NativeNode", "NativePipeline", "NativeStream", "SampleOwner", "__version__", "has_native", "node_types"]

__version__: str

def node_types() -> list[str]:
    """Names and aliases of every node type the native registry knows."""

def has_native(node_type: str) -> bool:
    """True when ``node_type`` has a native implementation."""

@final
class NativePipeline:
    """A manifest compiled by the engine, Python nodes bound in by id."""

    def __new__(cls, manifest: str, python_nodes: dict[str, Any] | None = None) -> NativePipeline: ...
    def run(self, items: list[Any]) -> list[list[Any]]:
        """Runs each item as its own clip; returns the outputs per item."""
    def stream(self) -> NativeStream:
        """A new stream over this pipeline."""
    def node_ids(self) -> list[str]:
        """The node ids, in manifest order."""
    def runtimes(self) -> dict[str, str]:
        """``"rust"`` or ``"python"`` per node id."""
    def metrics(self) -> dict[str, Any] | None:
        """The engine's metrics of the last ``run``, or ``None`` before one."""

@final
class NativeStream:
    """A live stream through a ``NativePipeline``."""

    def push(self, item: Any) -> list[Any]:
        """Pushes one chunk; returns the outputs it produced."""
    def flush(self) -> list[Any]:
        """Ends the stream; returns what the nodes still held."""
    def reset(self) -> None:
        """Drops all stream state."""
    def metrics(self) -> dict[str, Any]:
        """The engine's metrics of this stream so far."""

@final
class NativeNode:
    """One native node, called directly."""

    def __new__(
        cls,
        node_type: str,
        params: dict[str, Any] | None = None,
        stream: bool = False,
        label: str | None = None,
        audio_only: bool = False,
    ) -> NativeNode: ...
    @property
    def stream(self) -> bool:
        """True in stream mode."""
    def process(self, data: Any) -> Any:
        """One clip (or the next chunk in stream mode)."""
    def flush(self) -> Any:
        """Ends the stream; what the node still held, or ``None``."""
    def reset(self) -> None:
        """Forgets all stream state."""

@final
class SampleOwner:
    """Owns a Rust sample buffer on behalf of the numpy arrays viewing it."""

    def __len__(self) -> int: ...
    @property
    def format(self) -> str:
        """``"f32"``, ``"i16"`` or ``"i32"``."""
