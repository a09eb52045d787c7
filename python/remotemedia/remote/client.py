"""``Client``: runs pipelines on a ``remotemedia serve`` server.

Built on the native extension (``remotemedia._native.RemoteClient``, the
Rust gRPC client of ``remotemedia-remote``): no grpcio needed. The calls are
coroutines; the network waits run on worker threads, never on the event
loop.

- ``await client.execute(manifest, inputs)``: a whole pipeline on whole
  inputs. ``inputs`` maps node ids to ``(samples, sample_rate)`` (numpy,
  shape ``(channels, frames)`` or 1-D) or to JSON-able data; the result is
  ``{"audio": {sink: (array, rate)}, "data": {sink: value}}``.
- ``async for result in client.stream(manifest, chunks)``: a live session.
  ``chunks`` (an iterable or async iterable of ``(samples, sample_rate)``)
  is sent as fast as the server takes it while results come back: one per
  chunk, in order, ``{"sequence": n, "audio": {...}, "data": {...}}``; after
  the last chunk, what the pipeline still held (the flushed tail), if
  anything, comes as one more result with the last chunk's sequence.

A manifest is a dict, JSON text, or a :class:`~remotemedia.Pipeline`. Older
dict manifests that write connections as ``from_node`` / ``to_node`` (with
``from_output`` / ``to_input``, ports our engine does not have, dropped) and
params as JSON text are accepted as they are.

Failures raise :class:`~remotemedia.exceptions.RemoteExecutionError`
(``error_class`` ``"transient"`` when another attempt may work, ``endpoint``,
``code``); a bad endpoint or timeout raises ``ConfigurationError``.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import Any

from remotemedia import _runtime
from remotemedia.exceptions import ConfigurationError

#: How long a closing stream waits for its feeder to stop, in seconds.
_FEEDER_GRACE_S = 5.0


class Client:
    """A client of one server: ``Client("host:port", auth_token=None, timeout=30.0)``.

    ``timeout`` (seconds) bounds connecting, each ``execute``, and each wait
    for a stream's next message. The connection is opened on first use and
    shared by every call (HTTP/2 multiplexes them).
    """

    def __init__(self, endpoint: str, *, auth_token: str | None = None, timeout: float = 30.0) -> None:
        self.endpoint = check_endpoint(endpoint)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not (0 < timeout <= 86_400):
            raise ConfigurationError(f"timeout: expected seconds in (0, 86400], got {timeout!r}")
        if auth_token is not None and not isinstance(auth_token, str):
            raise ConfigurationError(f"auth_token: expected a string, got {type(auth_token).__name__}")
        self.auth_token = auth_token
        self.timeout = float(timeout)
        self._native: Any = None
        self._lock = threading.Lock()

    def _connection(self) -> Any:
        """The native client, connected on first use (blocking: call it off the loop)."""
        with self._lock:
            if self._native is None:
                native = _runtime.native
                self._native = native.RemoteClient(self.endpoint, self.auth_token, self.timeout)
            return self._native

    async def execute(self, manifest: Any, inputs: dict[str, Any]) -> dict[str, Any]:
        """Runs ``manifest`` on the server over ``inputs`` (see the module docs)."""
        text = manifest_json(manifest)
        if not isinstance(inputs, dict) or not all(isinstance(k, str) for k in inputs):
            raise TypeError("inputs: expected a dict of node id (str) -> input")
        if not inputs:
            raise ValueError("inputs: give at least one input, keyed by the node it enters")
        return await asyncio.to_thread(lambda: self._connection().execute(text, inputs))

    async def stream(self, manifest: Any, chunks: Iterable[Any] | AsyncIterable[Any]) -> AsyncIterator[dict[str, Any]]:
        """Streams ``chunks`` through ``manifest`` on the server; yields each
        chunk's result as it comes back (see the module docs). Stopping the
        iteration early closes the remote session."""
        text = manifest_json(manifest)
        session = await asyncio.to_thread(lambda: self._connection().open_stream(text))
        feeder = asyncio.ensure_future(_feed(session, chunks))
        try:
            while True:
                result = await asyncio.to_thread(session.recv)
                if result is None:
                    break
                yield result
            await feeder
        finally:
            if not feeder.done():
                feeder.cancel()
                await asyncio.wait({feeder}, timeout=_FEEDER_GRACE_S)

    def __repr__(self) -> str:
        return f"Client({self.endpoint!r})"


async def _feed(session: Any, chunks: Iterable[Any] | AsyncIterable[Any]) -> None:
    """Sends every chunk, then closes the session (also after a bad chunk, so
    the reader ends; the error is raised once it has)."""
    try:
        index = 0
        async for chunk in _each(chunks):
            samples, rate = _chunk(index, chunk)
            await asyncio.to_thread(session.send, samples, rate)
            index += 1
    finally:
        await asyncio.to_thread(_close_quietly, session)


def _close_quietly(session: Any) -> None:
    """Closes the session; a stream the server already ended reports that
    through ``recv``, so a failed close is not an error of its own."""
    try:
        session.close()
    except Exception:  # the reader raises the real error
        return


async def _each(chunks: Iterable[Any] | AsyncIterable[Any]) -> AsyncIterator[Any]:
    if isinstance(chunks, AsyncIterable):
        async for c in chunks:
            yield c
    elif isinstance(chunks, Iterable):
        for c in chunks:
            yield c
    else:
        raise TypeError(f"chunks: expected an iterable or async iterable, got {type(chunks).__name__}")


def _chunk(index: int, chunk: Any) -> tuple[Any, Any]:
    if not (isinstance(chunk, tuple) and len(chunk) == 2):
        raise TypeError(f"chunks[{index}]: expected (samples, sample_rate), got {type(chunk).__name__}")
    return chunk[0], chunk[1]


def check_endpoint(endpoint: Any) -> str:
    """``endpoint`` as ``host:port``, or ``ConfigurationError`` naming what is wrong."""
    if not isinstance(endpoint, str):
        raise ConfigurationError(f"endpoint: expected 'host:port', got {type(endpoint).__name__}")
    host, sep, port = endpoint.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigurationError(f"endpoint: expected 'host:port' with a port in 1..65535, got {endpoint!r}")
    return endpoint


def manifest_json(manifest: Any) -> str:
    """A v1 manifest (dict, JSON text, or a Pipeline) as JSON text, with the
    older clients' spellings mapped (see the module docs)."""
    if hasattr(manifest, "serialize") and callable(manifest.serialize):
        return str(manifest.serialize())
    if isinstance(manifest, str):
        try:
            manifest = json.loads(manifest)
        except json.JSONDecodeError as exc:
            raise ValueError(f"manifest: not JSON text: {exc}") from exc
    if not isinstance(manifest, dict):
        raise TypeError(f"manifest: expected a dict, JSON text or a Pipeline, got {type(manifest).__name__}")
    m = dict(manifest)
    if isinstance(m.get("nodes"), list):
        m["nodes"] = [_node(n) for n in m["nodes"]]
    if isinstance(m.get("connections"), list):
        m["connections"] = [_connection(c) for c in m["connections"]]
    return json.dumps(m)


def _node(node: Any) -> Any:
    if isinstance(node, dict) and isinstance(node.get("params"), str):
        text = node["params"]
        try:
            params = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as exc:
            raise ValueError(f"manifest: node {node.get('id')!r}: params must be JSON text: {exc}") from exc
        return {**node, "params": params}
    return node


def _connection(c: Any) -> Any:
    if isinstance(c, dict) and ("from_node" in c or "to_node" in c):
        return {"from": c.get("from_node"), "to": c.get("to_node")}
    return c


__all__ = ["Client", "check_endpoint", "manifest_json"]
