"""Type stubs of the extension module ``remotemedia._native``."""

import os
from typing import Any, final

__all__ = [
    "BatchPipeline",
    "NativeNode",
    "NativePipeline",
    "NativeSession",
    "RunToken",
    "SampleOwner",
    "__version__",
    "after_fork_in_child",
    "cli_main",
    "convert_samples",
    "has_native",
    "interrupt_thread",
    "list_batch_inputs",
    "node_types",
    "parse_manifest_text",
    "resolve_params",
    "set_worker_threads",
    "shut_down",
    "worker_threads",
]

__version__: str

def node_types() -> list[str]:
    """Names and aliases of every node type the native registry knows."""

def has_native(node_type: str) -> bool:
    """True when ``node_type`` has a native implementation."""

def resolve_params(node_type: str, params: str) -> str:
    """``params`` (JSON text) checked by the native definition of
    ``node_type``, every unset value filled in (JSON text); ``ValueError``
    naming the param otherwise."""

def cli_main(args: list[str]) -> int:
    """Runs the ``remotemedia`` command with ``args`` (no program name);
    returns its exit status."""

def set_worker_threads(n: int) -> None:
    """Sets the engine runtime's worker count, before its first use."""

def worker_threads() -> int:
    """The engine runtime's worker count (the one it will have, before its first use)."""

def parse_manifest_text(text: str, format: str) -> str:
    """Reads JSON or YAML (``format``: ``"json"``/``"yaml"``) manifest text
    strictly, as the CLI does; returns the document as JSON text. Raises
    ``PipelineError`` naming the path of what was refused."""

def interrupt_thread(thread: int) -> None:
    """Raises ``remotemedia.exceptions.Interrupted`` in that Python thread at
    its next bytecode."""

def shut_down(grace_s: float) -> None:
    """At exit: no Python node is called any more; those running are
    interrupted and awaited up to ``grace_s`` seconds."""

def after_fork_in_child() -> None:
    """In a forked child: forget the parent's engine threads."""

@final
class RunToken:
    """Cancels the batch run it is given to."""

    def __new__(cls) -> RunToken: ...
    def cancel(self) -> None:
        """Stops the run: Python node calls are interrupted; it returns at its
        next wait."""
    @property
    def cancelled(self) -> bool:
        """True once ``cancel()`` was called."""

def convert_samples(samples: Any, target_format: str, out: Any = None) -> Any:
    """``samples`` (a C-contiguous float32, int16 or int32 array) in ``target_format``,
    into ``out`` when given (returned), else into a new array."""

@final
class NativePipeline:
    """A manifest compiled by the engine, Python nodes bound in by id."""

    def __new__(cls, manifest: str, python_nodes: dict[str, Any] | None = None) -> NativePipeline: ...
    def run(
        self, items: list[Any], metrics: list[dict[str, Any]] | None = None, token: RunToken | None = None
    ) -> list[list[Any]]:
        """Runs each item as its own clip; returns the outputs per item. The
        run's metrics are appended to ``metrics`` once it has started (also
        when a node fails); ``token.cancel()`` stops the run."""
    def open_session(self, input_capacity: int = 16, output_capacity: int = 64) -> NativeSession:
        """A streaming session driven on the engine's runtime, polled from asyncio."""
    def node_ids(self) -> list[str]:
        """The node ids, in manifest order."""
    def runtimes(self) -> dict[str, str]:
        """``"rust"`` or ``"python"`` per node id."""

@final
class BatchPipeline:
    """A manifest compiled once, processing files exactly like ``remotemedia batch``
    (``chunk_ms`` defaults to ``batch --chunk-ms``'s 1000)."""

    def __new__(cls, manifest: str, chunk_ms: int = ..., output_node: str | None = None) -> BatchPipeline: ...
    def process_file(
        self, path: str | os.PathLike[str], relative: str | os.PathLike[str], output_dir: str | os.PathLike[str]
    ) -> str:
        """Processes one file, writing its audio under ``output_dir`` at ``relative``
        (as .wav); returns its index row as JSON text (a failure is a row, not an
        exception)."""

def list_batch_inputs(spec: str, exclude: str | os.PathLike[str] | None = None) -> list[tuple[str, str]]:
    """``(path, relative)`` for each input ``spec`` names, as ``remotemedia batch --input`` lists them."""

@final
class NativeSession:
    """A streaming session on the engine; wrapped by ``StreamSession``."""

    def send(self, item: Any) -> bool:
        """Queues a chunk; False when it waits for room (finish with ``poll_send``)."""
    def poll_send(self) -> bool:
        """Finishes the waiting send if there is room; True when done."""
    def cancel_send(self) -> None:
        """Gives up the waiting send."""
    def recv(self) -> tuple[Any, ...] | None:
        """``(output,)``, ``()`` at the end, or ``None`` when nothing is ready."""
    def close(self) -> None:
        """Ends the input; the nodes are flushed."""
    def cancel(self) -> None:
        """Stops the session: Python node calls interrupted, queues dropped."""
    @property
    def ended(self) -> bool:
        """True once ``recv`` has seen the end."""
    def fileno(self) -> int:
        """The wake-up socket, for ``loop.add_reader``."""
    def clear_wake(self) -> None:
        """Empties the wake-up socket."""
    def metrics_snapshot(self) -> dict[str, Any] | None:
        """The session's metrics now: live while it runs, final once ended."""
    def metrics(self) -> dict[str, Any] | None:
        """The engine's metrics once the session has ended."""

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

@final
class RemoteClient:
    """A connection to one ``remotemedia serve`` server."""

    def __new__(cls, endpoint: str, auth_token: str | None = None, timeout_s: float = 30.0) -> RemoteClient: ...
    @property
    def endpoint(self) -> str:
        """The server's ``host:port``."""
    def execute(self, manifest_json: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """``{"audio": {sink: (array, rate)}, "data": {sink: value}}``."""
    def open_stream(self, manifest_json: str) -> RemoteStream:
        """Opens a live stream and waits for ``ready``."""

@final
class RemoteStream:
    """One live stream on a server."""

    @property
    def session_id(self) -> str:
        """The server's id of the session."""
    def send(self, samples: Any, sample_rate: int) -> int:
        """Sends one chunk; its sequence number."""
    def close(self) -> None:
        """Asks the server to flush and close."""
    def recv(self) -> dict[str, Any] | None:
        """The next chunk's result, or ``None`` at the end."""
