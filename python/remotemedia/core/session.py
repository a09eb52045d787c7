"""``StreamSession``: push chunks into the Rust engine and pull outputs, from
asyncio.

The session is the engine's own streaming session: a task on the engine's
tokio runtime walks every chunk through the graph while your coroutine does
other things. Its queues are bounded, so memory stays flat: when outputs are
not read, the engine stops, its input queue fills, and ``await send(...)``
waits until there is room again (backpressure).

The bridge to asyncio does not poll and does not use a thread: the native
session wakes this event loop through a socket registered with
``loop.add_reader``, and engine threads never take the GIL to do so.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

from remotemedia.exceptions import RemoteMediaError


class StreamSession:
    """A live stream through a pipeline on the Rust engine.

    Open one with ``pipeline.open_session()`` inside a coroutine::

        async with pipeline.open_session() as session:
            await session.send(chunk)      # waits while the input queue is full
            out = await session.recv()     # the next output; None at the end
            await session.close()          # end of input: nodes are flushed
            async for out in session:      # the remaining outputs
                ...

    Chunks form one continuous stream: stateful nodes keep their state. Its
    first audio chunk fixes the stream's shape: mono sent 1-D comes back (and
    reaches Python nodes) 1-D for the whole session, mono sent ``(1, frames)``
    2-D.
    ``recv()`` returns ``None`` once the session has been closed and every
    output delivered (``None`` is never an output; ``send(None)`` is
    refused). A node failure is raised by ``recv()`` as ``NodeError`` and
    ends the session. One task may wait in ``send`` and one in ``recv`` at a
    time (a second one gets ``RuntimeError``).

    How it ends:

    - leaving the ``async with`` block normally closes the input and returns
      once every chunk accepted by ``send`` has gone through the graph and
      the nodes were flushed; outputs nobody received are dropped and counted
      in the metrics (``pipeline.discarded_outputs``);
    - leaving it by an exception (the enclosing task cancelled included), or
      calling :meth:`cancel`, cancels: Python node calls in progress are
      interrupted, the engine stops at its next wait, waiting chunks and
      outputs are dropped, and no metrics are kept.
    """

    def __init__(self, native: Any, on_end: Any = None) -> None:
        self._native = native
        self._loop = asyncio.get_running_loop()
        self._fd: int = native.fileno()
        self._send_waiter: asyncio.Future[None] | None = None
        self._recv_waiter: asyncio.Future[tuple[Any, ...]] | None = None
        self._on_end = on_end
        self._discarded = 0
        self._watching = True
        # A weak reference: a session dropped without being closed is freed
        # (and stops being watched, see ``__del__``).
        self._loop.add_reader(self._fd, _wake, weakref.ref(self))

    async def send(self, chunk: Any) -> None:
        """Queues ``chunk``; waits while the session's input queue is full."""
        if chunk is None:
            raise TypeError("chunk: None is not a chunk (close() ends the input)")
        if self._native.send(chunk):
            return
        waiter = self._loop.create_future()
        self._send_waiter = waiter
        try:
            await waiter
        except asyncio.CancelledError:
            self._native.cancel_send()
            raise
        finally:
            self._send_waiter = None

    async def recv(self) -> Any:
        """The next output, waiting for it; ``None`` once the session ended."""
        if self._recv_waiter is not None:
            raise RuntimeError("another task is already waiting in recv() on this session")
        try:
            ready = self._native.recv()
            if ready is None:
                waiter = self._loop.create_future()
                self._recv_waiter = waiter
                try:
                    ready = await waiter
                finally:
                    self._recv_waiter = None
        except RemoteMediaError:
            if self._native.ended:
                self._stop_watching()
            raise
        if not ready:
            self._stop_watching()
            return None
        return ready[0]

    async def close(self) -> None:
        """Ends the input. The nodes are flushed; ``recv()`` delivers what
        remains, then ``None``."""
        self._native.close()

    @property
    def ended(self) -> bool:
        """True once ``recv()`` has returned the end (or raised)."""
        return bool(self._native.ended)

    async def cancel(self) -> None:
        """Cancels the session (see the class docs): nothing more is
        processed, and ``recv()`` returns ``None``."""
        self._native.cancel()
        self._stop_watching()

    def metrics(self) -> dict[str, Any] | None:
        """The engine's metrics of this session: a live snapshot while it is
        open (what it has processed so far; it waits for the session's
        current step, at most 2 s), the final figures once it has ended (none
        after a cancellation)."""
        if not self._native.ended:
            live: dict[str, Any] | None = self._native.metrics_snapshot()
            return live
        metrics: dict[str, Any] | None = self._native.metrics()
        if metrics is not None:
            metrics["pipeline"]["discarded_outputs"] = self._discarded
        return metrics

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._outputs()

    async def _outputs(self) -> AsyncIterator[Any]:
        while (out := await self.recv()) is not None:
            yield out

    async def __aenter__(self) -> StreamSession:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            await self.cancel()
            return
        if self._send_waiter is not None or self._recv_waiter is not None:
            # Another task still uses the session: the block cannot wait for
            # the end on its behalf.
            await self.cancel()
            raise RuntimeError("the session's block was left while another task was still using it")
        self._native.close()
        try:
            while await self.recv() is not None:
                self._discarded += 1
        except BaseException:
            await self.cancel()
            raise

    def _on_wake(self) -> None:
        """The engine made progress: finish whatever was waiting for it."""
        self._native.clear_wake()
        send = self._send_waiter
        if send is not None and not send.done():
            try:
                if self._native.poll_send():
                    send.set_result(None)
            except Exception as exc:
                send.set_exception(exc)
        recv = self._recv_waiter
        if recv is not None and not recv.done():
            try:
                ready = self._native.recv()
            except Exception as exc:
                recv.set_exception(exc)
            else:
                if ready is not None:
                    recv.set_result(ready)

    def __del__(self) -> None:
        # Before the native session (and its socket) goes: the loop must not
        # keep watching a closed descriptor.
        if getattr(self, "_watching", False) and not self._loop.is_closed():
            self._watching = False
            self._loop.remove_reader(self._fd)

    def _stop_watching(self) -> None:
        if not self._watching:
            return
        self._watching = False
        self._loop.remove_reader(self._fd)
        for waiter in (self._send_waiter, self._recv_waiter):
            if waiter is not None and not waiter.done():
                waiter.set_exception(RemoteMediaError("the session has ended"))
        if self._on_end is not None:
            self._on_end(self)


def _wake(ref: weakref.ref[StreamSession]) -> None:
    session = ref()
    if session is not None:
        session._on_wake()
