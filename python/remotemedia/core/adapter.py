"""How the Rust engine calls a Python node instance.

The engine calls ``process(data) -> list``, ``flush() -> list`` and
``reset()`` on an adapter wrapping the user's very instance, from one of its
own threads (a tokio worker inside a session, the blocking pool under a
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
import concurrent.futures
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

    if native is not None:
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


class EngineAdapter:
    """Adapts a ``Node`` to the engine's node contract."""

    __slots__ = ("_waiting", "node", "timeout")

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
        return [] if value is None else [value]

    def flush(self) -> list[Any]:
        """What the node still holds at the end of an item or stream."""
        value = self.node.flush()
        if inspect.isawaitable(value):
            value = self._run_async(value)
        return [] if value is None else [value]

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


def _after_fork_in_child() -> None:
    """A lock held by another thread at ``fork`` would never be released in
    the child."""
    global _loops_lock
    _loops_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
