"""How the Rust engine calls a Python node instance.

The engine calls ``process(data) -> list``, ``flush() -> list`` and
``reset()`` on an adapter wrapping the user's very instance, from one of its
own threads (a tokio worker inside a session, a detached thread under a
``timeout_ms``, or the thread of a batch run), holding the GIL for the call.

An ``async def`` hook returns a coroutine: it runs on **the node's own event
loop**, one asyncio loop on a daemon thread per node instance, started on
first use (see :func:`node_loop`). The engine thread waits for the result
with the GIL released, so native nodes, other sessions and the caller's own
event loop keep running; coroutines of different sessions of one node
interleave on its loop. A node that blocks its loop stalls only itself.

**Interruption.** When the engine gives up on a call (``timeout_ms`` passed,
or the run was cancelled), it calls :meth:`EngineAdapter.interrupt` with the
thread of that call (see ``crates/remotemedia-python/src/interrupt.rs``):

- a sync hook gets :class:`remotemedia.exceptions.Interrupted` raised in its
  thread at its next bytecode (a blocking C call such as ``time.sleep`` sees
  it when it returns);
- an async hook's coroutine is cancelled. If the node's loop does not answer
  within the node's timeout (a coroutine that busy-loops or blocks without
  awaiting), the loop is stuck: ``Interrupted`` is raised in the loop's
  thread, and the node gets a fresh loop for its next calls; the old one
  stops once it has nothing left to run.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import inspect
import os
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from remotemedia.core.node import Node

T = TypeVar("T")

#: How long a loop may take to answer after a cancellation when the node has
#: no timeout of its own (seconds).
_DEFAULT_GRACE_S = 0.1


class NodeLoop:
    """An asyncio event loop on a daemon thread of its own."""

    __slots__ = ("deadlines", "loop", "pid", "thread_id")

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        #: When each call with a timeout in progress on this loop is due
        #: (``time.monotonic()``), by call.
        self.deadlines: dict[int, float] = {}
        #: The process that started the thread (threads do not survive fork).
        self.pid = os.getpid()
        ready = threading.Event()
        ident: list[int] = []

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            ident.append(threading.get_ident())
            self.loop.call_soon(ready.set)
            self.loop.run_forever()
            self.loop.close()  # retired: the thread ends

        threading.Thread(target=run, name=f"remotemedia-loop-{name}", daemon=True).start()
        ready.wait()
        self.thread_id = ident[0]

    def overdue(self) -> bool:
        """True when a call on this loop is past its deadline: the engine has
        given up on it, and the loop may be stuck in it."""
        now = time.monotonic()
        return any(due < now for due in list(self.deadlines.values()))

    def responds_within(self, seconds: float) -> bool:
        """True when the loop runs a trivial callback within ``seconds``."""
        answered = threading.Event()
        try:
            self.loop.call_soon_threadsafe(answered.set)
        except RuntimeError:  # closed
            return False
        return answered.wait(seconds)

    def retire(self) -> None:
        """Stops the loop once it has no task left (it may still be stuck)."""

        def stop_when_idle() -> None:
            if asyncio.all_tasks(self.loop):
                self.loop.call_later(0.05, stop_when_idle)
            else:
                self.loop.stop()

        try:
            self.loop.call_soon_threadsafe(stop_when_idle)
        except RuntimeError:
            pass


_loops_lock = threading.Lock()
_LOOP_ATTR = "_remotemedia_loop"


def node_loop(node: Node) -> NodeLoop:
    """The event loop that runs ``node``'s coroutines inside the engine."""
    with _loops_lock:
        current: NodeLoop | None = getattr(node, _LOOP_ATTR, None)
        if current is not None and current.overdue():
            # A call the engine gave up on is still running there: new calls
            # go to a fresh loop; the overdue call's own waiter deals with
            # the old one.
            current.retire()
            current = None
        if current is None or current.loop.is_closed() or current.pid != os.getpid():
            current = NodeLoop(node.name)
            setattr(node, _LOOP_ATTR, current)
        return current


def _replace_loop(node: Node, stuck: NodeLoop) -> None:
    with _loops_lock:
        if getattr(node, _LOOP_ATTR, None) is stuck:
            setattr(node, _LOOP_ATTR, None)
    _native_interrupt(stuck.thread_id)
    stuck.retire()


def _native_interrupt(thread_id: int) -> None:
    from remotemedia._runtime import native

    native.interrupt_thread(thread_id)


def _on_thread_of(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


async def await_on_node_loop(node: Node, coro: Coroutine[Any, Any, T]) -> T:
    """Awaits ``coro`` on ``node``'s loop from another event loop (used for
    async ``initialize``/``cleanup`` of nodes whose ``process`` runs there,
    so what they bind to a loop belongs to the right one)."""
    loop = node_loop(node).loop
    if _on_thread_of(loop):
        return await coro
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))


def is_streaming(node: Node) -> bool:
    """True for a streaming node: ``is_streaming = True`` on it (class or
    instance), or a ``process`` that is an async generator function (it takes
    the stream of inputs)."""
    return bool(getattr(node, "is_streaming", False)) or inspect.isasyncgenfunction(type(node).process)


class EngineAdapter:
    """Adapts a ``Node`` to the engine's node contract."""

    __slots__ = ("_waiting", "node", "timeout")

    def for_run(self, clips: bool) -> EngineAdapter | StreamAdapter:
        """What the engine calls for one batch run (``clips``: every input a
        whole clip) or one session: this adapter; an adapter of the node's
        own :meth:`Node.python_step` for that run (a built-in node's Python
        implementation, fresh per run); or for a streaming node, a
        :class:`StreamAdapter` of its own (each run and session is its own
        stream)."""
        step = self.node.python_step(clips)
        if step is not self.node:
            return EngineAdapter(step)
        return StreamAdapter(self.node, self.timeout) if is_streaming(self.node) else self

    def __init__(self, node: Node) -> None:
        self.node = node
        #: Seconds a call may take before the engine gives up on it (the
        #: node's ``timeout_ms``), or ``None``.
        self.timeout: float | None = node.timeout_ms / 1000.0 if node.timeout_ms else None
        #: The coroutine futures engine threads are waiting for, by thread.
        self._waiting: dict[int, concurrent.futures.Future[Any]] = {}

    def process(self, data: Any) -> list[Any]:
        """One input in, the list of outputs (empty for ``None``) out."""
        value = self.node.process(data)
        if inspect.isawaitable(value):
            value = self._run_async(value)
        return self.node.engine_outputs(value)

    def flush(self) -> list[Any]:
        """What the node still holds at the end of an item or stream."""
        value = self.node.flush()
        if inspect.isawaitable(value):
            value = self._run_async(value)
        return self.node.engine_outputs(value)

    def reset(self) -> None:
        """Forgets the node's stream state."""
        self.node.reset()

    def interrupt(self, thread_id: int) -> None:
        """Stops the call running on ``thread_id`` (called by the engine, see
        the module's docs)."""
        waiting = self._waiting.get(thread_id)
        if waiting is not None:
            waiting.cancel()
        else:
            _native_interrupt(thread_id)

    def _run_async(self, awaitable: Any) -> Any:
        """Runs the coroutine on the node's loop and waits for it (GIL
        released while waiting)."""
        current = node_loop(self.node)
        if _on_thread_of(current.loop):
            raise RuntimeError("a Python node was called from its own event loop")
        me = threading.get_ident()
        if self.timeout is not None:
            current.deadlines[me] = time.monotonic() + self.timeout
        future = asyncio.run_coroutine_threadsafe(_as_coroutine(awaitable), current.loop)
        self._waiting[me] = future
        try:
            return future.result(self.timeout)
        except (concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
            future.cancel()
            if not current.responds_within(self.timeout or _DEFAULT_GRACE_S):
                _replace_loop(self.node, current)
            raise TimeoutError(f"async node {self.node.name!r} was stopped (timeout or cancellation)") from None
        finally:
            del self._waiting[me]
            current.deadlines.pop(me, None)


async def _as_coroutine(awaitable: Any) -> Any:
    return await awaitable


class _Inputs:
    """The stream of inputs a streaming node's ``process`` iterates over, fed
    by the engine one input at a time (lives on the node's loop)."""

    def __init__(self, stream: StreamAdapter) -> None:
        self._stream = stream

    def __aiter__(self) -> _Inputs:
        return self

    async def __anext__(self) -> Any:
        stream = self._stream
        while not stream.pending:
            if stream.closed:
                raise StopAsyncIteration
            stream.starved.set()  # the engine's call may return now
            stream.arrived.clear()
            await stream.arrived.wait()
        return stream.pending.popleft()


#: The most outputs a streaming node hands the engine per call: past them
#: its generator waits, and the engine takes the next batch (``release``)
#: once it has walked this one through the graph and, in a session, found
#: room for it in the output queue. So a node that yields a lot for one
#: input is held back by a reader that does not keep up.
STREAM_BATCH = 32


class StreamAdapter:
    """One run's (or session's) stream through a streaming node.

    The node's ``process(data_stream)`` async generator runs on the node's
    loop. Each engine call hands it one input and returns what it yields
    until it asks for the next input, at most :data:`STREAM_BATCH` outputs:
    past them the generator waits and ``holding`` is true until the engine
    has taken the rest with ``release()`` calls. ``flush`` ends the input
    and returns what it yields until it finishes. Each run and session has
    its own, so concurrent streams never share a generator."""

    def __init__(self, node: Node, timeout: float | None) -> None:
        self.node = node
        self.timeout = timeout
        self._generator: Any = None
        self._pump: asyncio.Task[None] | None = None
        self._outputs: list[Any] = []
        self._error: BaseException | None = None
        self._finished = False
        self._calls = EngineAdapter(node)
        self.pending: collections.deque[Any] = collections.deque()
        self.closed = False
        self.starved = asyncio.Event()
        self.arrived = asyncio.Event()
        #: Set by the generator's pump when a batch is full; ``room`` lets
        #: it go on.
        self.full = asyncio.Event()
        self.room = asyncio.Event()
        self.room.set()
        #: True while outputs of the last call are held back.
        self.holding = False

    def process(self, data: Any) -> list[Any]:
        """One input in; the outputs it led to (up to a batch) out."""
        return self._calls._run_async(self._step(data, close=False))

    def release(self) -> list[Any]:
        """The next batch of the outputs held back (see ``holding``)."""
        return self._calls._run_async(self._next_batch())

    def flush(self) -> list[Any]:
        """Ends the input: what the node yields until it finishes; the next
        input starts a new stream."""
        try:
            return self._calls._run_async(self._step(None, close=True))
        finally:
            self._restart()

    def reset(self) -> None:
        """Forgets the stream (its generator is closed)."""
        self._restart()
        self.node.reset()

    def interrupt(self, thread_id: int) -> None:
        """Stops the call on ``thread_id`` (see :meth:`EngineAdapter.interrupt`)."""
        self._calls.interrupt(thread_id)

    async def _step(self, data: Any, close: bool) -> list[Any]:
        if close:
            self.closed = True
            self.room.set()  # the end of the stream is taken whole
        else:
            self.pending.append(data)
        if self._pump is None and not self._finished:
            self._generator = self.node.process(_Inputs(self))
            if not hasattr(self._generator, "__anext__"):
                raise TypeError(
                    f"{type(self.node).__name__}.process of a streaming node must be an async generator "
                    f"taking the input stream, got {type(self._generator).__name__}"
                )
            self._pump = asyncio.get_running_loop().create_task(self._run())
        self.starved.clear()
        self.arrived.set()
        return await self._collect(close)

    async def _next_batch(self) -> list[Any]:
        self.starved.clear()
        self.room.set()
        return await self._collect(False)

    async def _collect(self, until_finished: bool) -> list[Any]:
        """The outputs of the step that just began, once the generator wants
        an input it was not given, has filled a batch, or (at the end of the
        input) has finished."""
        if not self._finished:
            await self._wait(until_finished)
        outputs, self._outputs = self._outputs, []
        self.holding = self.full.is_set() and not self._finished
        self.full.clear()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return outputs

    async def _wait(self, until_finished: bool) -> None:
        assert self._pump is not None
        if until_finished:
            await asyncio.wait({self._pump})
            return
        starved = asyncio.ensure_future(self.starved.wait())
        full = asyncio.ensure_future(self.full.wait())
        try:
            await asyncio.wait({self._pump, starved, full}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            starved.cancel()
            full.cancel()

    async def _run(self) -> None:
        try:
            async for value in self._generator:
                if value is not None:
                    self._outputs.append(value)
                    if len(self._outputs) >= STREAM_BATCH and not self.closed:
                        self.room.clear()
                        self.full.set()
                        await self.room.wait()
        except Exception as exc:
            self._error = exc
        finally:
            self._finished = True

    def _restart(self) -> None:
        pump, generator = self._pump, self._generator
        self._pump = self._generator = None
        self._outputs, self._error, self._finished = [], None, False
        self.pending.clear()
        self.closed = False
        self.holding = False
        # Fresh events (this may run on an engine thread; the old pump, which
        # may wait on the old ones, is cancelled on its loop below).
        self.full = asyncio.Event()
        self.room = asyncio.Event()
        self.room.set()
        if pump is not None and not pump.done():
            loop = pump.get_loop()

            async def stop() -> None:
                pump.cancel()
                if generator is not None:
                    await generator.aclose()

            with contextlib.suppress(RuntimeError):
                asyncio.run_coroutine_threadsafe(stop(), loop)


def _after_fork_in_child() -> None:
    """A lock held by another thread at ``fork`` would never be released in
    the child."""
    global _loops_lock
    _loops_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
