"""Issue 6: the user's own Python nodes inside the Rust engine.

Every node class here is defined inside its test function: not importable by
module path, exactly like a class in a user's script.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest

from conftest import run
from remotemedia import (
    FormatConverterNode,
    MultiplyNode,
    Node,
    NodeError,
    PassThroughNode,
    Pipeline,
    RetryableError,
)
from remotemedia.core.adapter import node_loop

FAST_RETRY = {"max_retries": 2, "initial_delay_ms": 1, "multiplier": 1.0}


async def chunks(items: list[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


async def collect(p: Pipeline, items: list[Any]) -> list[Any]:
    return [out async for out in p.process(chunks(items))]


def test_script_local_node_runs_in_the_engine_beside_native_nodes() -> None:
    class Halve(Node):
        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            self.calls = 0

        def process(self, data: Any) -> Any:
            self.calls += 1
            samples, rate = data
            return samples * np.float32(0.5), rate

    halve = Halve()
    p = Pipeline([MultiplyNode(factor=4.0), halve, FormatConverterNode(target_format="i16")])
    runtimes = p._native_pipeline().runtimes()
    assert sorted(runtimes.values()) == ["python", "rust", "rust"]
    a = np.full(480, 0.25, dtype=np.float32)
    out, rate = run(p.run((a, 16000)))
    assert rate == 16000 and out.dtype == np.int16 and int(out[0]) == 16384
    streamed = run(collect(p, [(a, 16000)] * 3))
    assert len(streamed) == 3 and all(int(o[0][0]) == 16384 for o in streamed)
    # The engine called this very instance: once for the run, once per chunk.
    assert halve.calls == 4


def test_sync_and_async_nodes_on_run_and_stream() -> None:
    class SyncAdd(Node):
        def process(self, data: Any) -> Any:
            return data + 1

    class AsyncDouble(Node):
        def __init__(self) -> None:
            super().__init__()
            self.threads: set[str] = set()

        async def process(self, data: Any) -> Any:
            await asyncio.sleep(0.001)
            self.threads.add(threading.current_thread().name)
            return data * 2

    double = AsyncDouble()
    p = Pipeline([SyncAdd(), double, MultiplyNode(factor=10)])
    assert run(p.run([1, 2, 3])) == [40, 60, 80]
    assert run(collect(p, [1, 2, 3])) == [40, 60, 80]
    assert double.threads == {"remotemedia-loop-AsyncDouble"}  # the node's own loop


def test_async_node_does_not_block_the_callers_loop() -> None:
    class SlowAsync(Node):
        async def process(self, data: Any) -> Any:
            await asyncio.sleep(0.3)
            return data

    async def main() -> tuple[Any, int]:
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.ensure_future(ticker())
        outs = await collect(Pipeline([SlowAsync()]), [1, 2])
        done.set()
        await task
        return outs, ticks

    outs, ticks = run(main())
    # 0.6 s of node time: the caller's loop ticked throughout (well over 5).
    assert outs == [1, 2] and ticks > 5


def test_initialize_cleanup_and_flush_are_honoured() -> None:
    class Buffering(Node):
        """Holds every chunk; releases their sum at the end of the stream."""

        def __init__(self) -> None:
            super().__init__()
            self.held: list[int] = []
            self.events: list[str] = []
            self.init_loop: object = None

        async def initialize(self) -> None:
            self.init_loop = asyncio.get_running_loop()
            self.events.append("init")

        def cleanup(self) -> None:
            self.events.append("cleanup")

        def process(self, data: Any) -> Any:
            self.held.append(data)
            return None

        async def flush(self) -> Any:
            total, self.held = sum(self.held), []
            return total

    node = Buffering()
    p = Pipeline([node, MultiplyNode(factor=2)])

    async def main() -> list[Any]:
        async with p.managed_execution():
            return await collect(p, [1, 2, 3])

    assert run(main()) == [12]
    assert node.events == ["init", "cleanup"]
    # The async initialize ran on the loop where the node's coroutines run.
    assert node.init_loop is node_loop(node).loop


TRANSIENT: list[type[Exception]] = [TimeoutError, ConnectionError, RetryableError]
FATAL = [ValueError, KeyError, RuntimeError, ZeroDivisionError]


@pytest.mark.parametrize("exc_type", TRANSIENT + FATAL, ids=lambda t: t.__name__)
@pytest.mark.parametrize("mode", ["run", "stream"])
def test_exceptions_map_to_error_classes_with_retries(exc_type: type[Exception], mode: str) -> None:
    class Failing(Node):
        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            self.calls = 0

        def process(self, data: Any) -> Any:
            self.calls += 1
            raise_it(exc_type, f"boom {self.calls}")

    node = Failing(retry=FAST_RETRY)
    p = Pipeline([PassThroughNode(), node])
    with pytest.raises(NodeError) as info:
        if mode == "run":
            run(p.run(1))
        else:
            run(collect(p, [1]))
    err = info.value
    transient = exc_type in TRANSIENT
    assert err.node_id == "Failing_1"
    assert err.error_class == ("transient" if transient else "fatal")
    # Transient: the first call and both retries; fatal: never retried.
    assert node.calls == (3 if transient else 1)
    assert err.attempts == node.calls
    assert err.exception_type == exc_type.__name__
    assert isinstance(err.__cause__, exc_type)
    assert err.traceback is not None
    assert "raise_it" in err.traceback and "Traceback (most recent call last)" in err.traceback
    assert f"boom {node.calls}" in err.traceback


def raise_it(exc_type: type[Exception], message: str) -> None:
    """Raises from a named frame, so the traceback can be checked."""
    raise exc_type(message)


def test_transient_failure_then_success_is_retried() -> None:
    class Flaky(Node):
        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            self.calls = 0

        async def process(self, data: Any) -> Any:
            self.calls += 1
            if self.calls < 3:
                raise ConnectionError("not yet")
            return data

    node = Flaky(retry=FAST_RETRY)
    assert run(Pipeline([node]).run(5)) == 5
    assert node.calls == 3


def test_native_audio_reaches_a_python_node_without_a_copy_and_read_only() -> None:
    class Spy(Node):
        def process(self, data: Any) -> Any:
            self.seen = data[0]
            return data

    spy = Spy()
    a = np.ones((2, 960), dtype=np.float32)
    # PassThroughNode hands the caller's buffer on: the node sees that memory.
    run(Pipeline([PassThroughNode(), spy]).run((a, 48000)))
    assert spy.seen.__array_interface__["data"][0] == a.__array_interface__["data"][0]
    assert np.shares_memory(spy.seen, a) and not spy.seen.flags.writeable
    with pytest.raises(ValueError):
        spy.seen[0, 0] = 2.0
    # The buffer a native node made: also a view, not a copy.
    out = run(Pipeline([MultiplyNode(factor=0.5), spy]).run((a, 48000)))
    assert np.shares_memory(out[0], spy.seen) and not spy.seen.flags.writeable


def test_array_returned_by_a_python_node_reaches_native_nodes_without_a_copy() -> None:
    class Make(Node):
        def process(self, data: Any) -> Any:
            self.made = np.arange(960, dtype=np.float32).reshape(2, 480)
            return self.made, 16000

    make = Make()
    p = Pipeline([make, PassThroughNode(), FormatConverterNode(target_format="f32")])
    out, _ = run(p.run(0))
    assert out.__array_interface__["data"][0] == make.made.__array_interface__["data"][0]
    (streamed, _), *_ = run(collect(p, [0]))
    assert np.shares_memory(streamed, make.made)


def test_python_objects_pass_between_python_nodes_untouched() -> None:
    @dataclasses.dataclass
    class Result:
        text: str
        scores: np.ndarray

    class Model(Node):
        def process(self, data: Any) -> Any:
            self.made = Result(text=f"item {data}", scores=np.zeros(3))
            return self.made

    class Wrap(Node):
        def process(self, data: Any) -> Any:
            self.got = data
            self.made = {"result": data, "tensor": object()}
            return self.made

    class Last(Node):
        def process(self, data: Any) -> Any:
            self.got = data
            return data

    model, wrap, last = Model(), Wrap(), Last()
    out = run(Pipeline([model, wrap, last]).run(1))
    assert wrap.got is model.made and last.got is wrap.made and out is wrap.made
    (streamed,) = run(collect(Pipeline([model, wrap, last]), [2]))
    assert streamed is wrap.made and streamed["result"].text == "item 2"


def test_a_never_returning_sync_node_is_cut_off_by_its_timeout() -> None:
    release = threading.Event()

    class Stuck(Node):
        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            self.calls = 0

        def process(self, data: Any) -> Any:
            self.calls += 1
            release.wait()  # "never" returns (released when the test ends)
            return data

    try:
        for mode in ("run", "stream"):
            node = Stuck(timeout_ms=200, retry={"max_retries": 1, "initial_delay_ms": 1})
            p = Pipeline([PassThroughNode(), node])
            started = time.monotonic()
            with pytest.raises(NodeError) as info:
                run(p.run(1) if mode == "run" else collect(p, [1]))
            elapsed = time.monotonic() - started
            assert info.value.error_class == "transient" and "timed out after 200 ms" in str(info.value)
            assert node.calls == 2 and info.value.attempts == 2
            assert elapsed < 20  # two 0.2 s attempts, not forever
        # The GIL is free and the engine works on: a fresh run succeeds.
        assert run(Pipeline([MultiplyNode(factor=3)]).run(2)) == 6
    finally:
        release.set()


def test_a_never_returning_async_node_is_cut_off_and_cancelled() -> None:
    cancelled = threading.Event()

    class StuckAsync(Node):
        async def process(self, data: Any) -> Any:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.set()
                raise
            return data

    p = Pipeline([StuckAsync(timeout_ms=200, retry={"max_retries": 0})])
    with pytest.raises(NodeError) as info:
        run(collect(p, [1]))
    assert info.value.error_class == "transient"
    # The coroutine itself was cancelled on the engine loop, not left behind.
    assert cancelled.wait(10)


def test_a_sleeping_python_node_does_not_stall_a_native_session() -> None:
    """Two sessions whose Python node sleeps (GIL released) occupy as many
    threads as the engine's runtime has workers; a native-only session keeps
    streaming at full speed meanwhile."""

    class Sleepy(Node):
        def process(self, data: Any) -> Any:
            time.sleep(0.5)
            return data

    slow = [Pipeline([PassThroughNode(), Sleepy()]) for _ in range(2)]
    fast = Pipeline([MultiplyNode(factor=2.0), FormatConverterNode(target_format="i16")])
    chunk = (np.ones(320, dtype=np.float32) * 0.1, 16000)

    async def main() -> tuple[float, float, int]:
        started = time.monotonic()
        sleepers = [asyncio.ensure_future(collect(p, [chunk] * 4)) for p in slow]
        await asyncio.sleep(0.1)  # both Python nodes are asleep now
        t0 = time.monotonic()
        outs = await collect(fast, [chunk] * 500)
        native_elapsed = time.monotonic() - t0
        await asyncio.gather(*sleepers)
        return native_elapsed, time.monotonic() - started, len(outs)

    native_elapsed, total, n = run(main())
    assert n == 500
    # The sleepers take 4 x 0.5 s = 2 s; 500 native chunks take milliseconds.
    # Stalled behind the sleepers they would take about 2 s.
    assert native_elapsed < 1.0, f"native session took {native_elapsed:.3f} s beside sleeping Python nodes"
    assert total >= 1.9
