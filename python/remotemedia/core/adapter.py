"""How the Rust engine calls a Python node instance.

The engine calls ``process(data) -> list``, ``flush() -> list`` and
``reset()`` on an adapter wrapping the user's very instance, from one of its
own threads (a tokio worker inside a session, the blocking pool under a
``timeout_ms``, or the thread of a batch run), holding the GIL for the call.

An ``async def`` hook returns a coroutine: it runs on the **engine loop**, one
asyncio event loop on a daemon thread that the SDK starts on first use and
shares between all pipelines (see :func:`engine_loop`). The engine thread
waits for the result with the GIL released, so native nodes, other sessions
and the caller's own event loop keep running; coroutines of different
sessions interleave on the engine loop. A node with ``timeout_ms`` has its
coroutine cancelled when that time is up (the engine reports the timeout and
retries by its policy), so a stuck ``await`` does not linger.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from remotemedia.core.node import Node

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def engine_loop() -> asyncio.AbstractEventLoop:
    """The event loop that runs async nodes inside the engine (started on
    first use, on a daemon thread named ``remotemedia-engine-loop``)."""
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            threading.Thread(target=run, name="remotemedia-engine-loop", daemon=True).start()
            ready.wait()
            _loop = loop
        return _loop


def run_on_engine_loop(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Runs ``coro`` on the engine loop and waits for it (GIL released while
    waiting). After ``timeout`` seconds the coroutine is cancelled and
    ``TimeoutError`` raised."""
    loop = engine_loop()
    if _on_thread_of(loop):
        raise RuntimeError("a Python node was called from the engine loop itself")
    future = asyncio.run_coroutine_threadsafe(coro, loop)
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise TimeoutError(f"async node did not finish within {timeout} s") from None


async def await_on_engine_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Awaits ``coro`` on the engine loop from another event loop (used for
    async ``initialize``/``cleanup`` of nodes whose ``process`` runs there,
    so resources they bind to a loop belong to the right one)."""
    loop = engine_loop()
    if _on_thread_of(loop):
        return await coro
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))


def _on_thread_of(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


class EngineAdapter:
    """Adapts a ``Node`` to the engine's node contract."""

    __slots__ = ("node", "timeout")

    def __init__(self, node: Node) -> None:
        self.node = node
        #: Seconds an async hook may take before it is cancelled (the node's
        #: ``timeout_ms``; the engine cuts the call off at the same time).
        self.timeout = node.timeout_ms / 1000.0 if node.timeout_ms else None

    def process(self, data: Any) -> list[Any]:
        """One input in, the list of outputs (empty for ``None``) out."""
        value = self.node.process(data)
        if inspect.isawaitable(value):
            value = run_on_engine_loop(_as_coroutine(value), self.timeout)
        return [] if value is None else [value]

    def flush(self) -> list[Any]:
        """What the node still holds at the end of an item or stream."""
        value = self.node.flush()
        if inspect.isawaitable(value):
            value = run_on_engine_loop(_as_coroutine(value), self.timeout)
        return [] if value is None else [value]

    def reset(self) -> None:
        """Forgets the node's stream state."""
        self.node.reset()


async def _as_coroutine(awaitable: Any) -> Any:
    return await awaitable
