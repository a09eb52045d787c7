"""Issue 6: streaming from Python on the engine's session (bounded queues),
with ``pipeline.process(stream)`` and ``pipeline.open_session()``."""

from __future__ import annotations

import asyncio
import os
import time
import tracemalloc
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
    RemoteMediaError,
)


class Gain(Node):
    """A Python node on audio: scales the chunk (a new array each call)."""

    def process(self, data: Any) -> Any:
        samples, rate = data
        return samples * np.float32(0.5), rate


def test_session_send_recv_close() -> None:
    p = Pipeline([MultiplyNode(factor=2), Gain(), FormatConverterNode(target_format="f32")])
    chunk = (np.full(320, 0.25, dtype=np.float32), 16000)

    async def main() -> list[Any]:
        outs = []
        async with p.open_session() as session:
            for _ in range(3):
                await session.send(chunk)
                outs.append(await session.recv())
            await session.close()
            assert await session.recv() is None and session.ended
            assert await session.recv() is None
            with pytest.raises(RemoteMediaError):
                await session.send(chunk)
        return outs

    outs = run(main())
    assert len(outs) == 3 and all(o[1] == 16000 and float(o[0][0]) == 0.25 for o in outs)


def test_session_refuses_none_and_iterates() -> None:
    p = Pipeline([MultiplyNode(factor=3)])

    async def main() -> list[Any]:
        async with p.open_session() as session:
            with pytest.raises(TypeError):
                await session.send(None)
            for i in range(5):
                await session.send(i)
            await session.close()
            return [out async for out in session]

    assert run(main()) == [0, 3, 6, 9, 12]


def test_stateful_stream_equals_the_batch_result() -> None:
    from remotemedia import AudioResampleNode

    x = np.sin(np.arange(48000) / 10).astype(np.float32)
    p = Pipeline([AudioResampleNode(target_sample_rate=16000), Gain()])

    async def stream() -> AsyncIterator[Any]:
        for i in range(0, 48000, 960):
            yield (x[i : i + 960], 48000)

    async def main() -> np.ndarray:
        return np.concatenate([o[0] async for o in p.process(stream())])

    streamed = run(main())
    assert abs(len(streamed) - 16000) <= 64  # the filter's delay, flushed at the end
    assert np.all(np.isfinite(streamed))


def test_send_waits_when_nobody_reads() -> None:
    p = Pipeline([Gain()])
    chunk = (np.zeros(320, dtype=np.float32), 16000)

    async def main() -> int:
        async with p.open_session(input_capacity=1, output_capacity=1) as session:
            for sent in range(50):
                try:
                    await asyncio.wait_for(session.send(chunk), 1.0)
                except TimeoutError:
                    return sent
            return 50

    # Room for 1 waiting input, 1 unread output, and the chunk in flight.
    assert run(main()) <= 4


def test_slow_consumer_slows_the_producer() -> None:
    p = Pipeline([PassThroughNode(), Gain()])
    pulled = 0
    most_ahead = 0

    async def source() -> AsyncIterator[Any]:
        nonlocal pulled
        for _ in range(400):
            pulled += 1
            yield (np.zeros(320, dtype=np.float32), 16000)

    async def main() -> int:
        nonlocal most_ahead
        consumed = 0
        async for _ in p.process(source()):
            consumed += 1
            most_ahead = max(most_ahead, pulled - consumed)
            if consumed % 50 == 0:
                await asyncio.sleep(0.05)  # a slow consumer, now and then
        return consumed

    assert run(main()) == 400
    # Input queue (16) + output queue (64) + a few in flight: bounded, never
    # the whole stream.
    assert most_ahead <= 16 + 64 + 4


def test_node_failure_ends_the_session_with_a_node_error() -> None:
    class Breaks(Node):
        def process(self, data: Any) -> Any:
            if data == 3:
                raise ValueError("bad chunk")
            return data

    p = Pipeline([Breaks()])

    async def main() -> list[Any]:
        got = []
        with pytest.raises(NodeError) as info:
            async for out in p.process(counting(10)):
                got.append(out)
        assert info.value.exception_type == "ValueError" and "bad chunk" in (info.value.traceback or "")
        return got

    assert run(main()) == [0, 1, 2]


def test_stream_errors_and_early_exit_do_not_hang() -> None:
    class Boom(Exception):
        pass

    async def broken() -> AsyncIterator[Any]:
        yield 1
        raise Boom

    p = Pipeline([MultiplyNode(factor=2)])

    async def main() -> list[Any]:
        got = []
        with pytest.raises(Boom):
            async for out in p.process(broken()):
                got.append(out)
        async for out in p.process(counting(1000)):
            if out >= 10:
                break
        return got

    assert run(asyncio.wait_for(main(), 30)) == [2]


async def counting(n: int) -> AsyncIterator[int]:
    for i in range(n):
        yield i


def rss_bytes() -> int:
    """Resident set size of this process (Linux)."""
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


#: Minutes of 16 kHz audio streamed in 20 ms chunks: the full 30 minutes
#: (90,000 chunks; about 4 s with the release build the test script makes,
#: under 20 s with a debug build). bench/python/bench_python_nodes.py
#: reports the same run's time and memory.
LONG_STREAM_MINUTES = 30


def test_long_stream_through_a_python_node_keeps_memory_flat() -> None:
    p = Pipeline([MultiplyNode(factor=0.5), Gain(), FormatConverterNode(target_format="i16")])
    chunks = LONG_STREAM_MINUTES * 60 * 50
    rate = 16000
    base = (np.sin(np.arange(320) / 7) * 0.5).astype(np.float32)

    async def source() -> AsyncIterator[Any]:
        for _ in range(chunks):
            yield (base.copy(), rate)  # a fresh chunk each time, as from a device

    async def main() -> tuple[int, list[int], list[int], float]:
        rss: list[int] = []
        traced: list[int] = []
        n = 0
        started = time.monotonic()
        async for out in p.process(source()):
            n += 1
            if n % 9000 == 0:
                rss.append(rss_bytes())
                traced.append(tracemalloc.get_traced_memory()[0])
            assert out[0].dtype == np.int16
        return n, rss, traced, time.monotonic() - started

    tracemalloc.start()
    try:
        n, rss, traced, elapsed = run(main())
    finally:
        tracemalloc.stop()
    assert n == chunks
    # Faster than real time by far.
    assert elapsed < LONG_STREAM_MINUTES * 60 / 10
    # Flat: after warm-up, neither Python's traced heap nor the RSS grows
    # with the stream (a leak of one 640-byte chunk each would add 58 MB).
    assert max(traced[2:]) - traced[1] < 2_000_000, traced
    assert max(rss[2:]) - rss[1] < 8_000_000, rss


def test_a_dropped_session_is_freed_and_unwatched() -> None:
    import gc
    import weakref

    p = Pipeline([MultiplyNode(factor=2)])

    async def main() -> bool:
        session = p.open_session()
        await session.send(1)
        assert await session.recv() == 2
        ref = weakref.ref(session)
        del session
        gc.collect()
        # Still usable afterwards: a new session on the same loop.
        async with p.open_session() as again:
            await again.send(2)
            assert await again.recv() == 4
        return ref() is None

    assert run(main())


class Recorder(Node):
    """A sink with a side effect: it records every chunk it is called with."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[int] = []

    def process(self, data: Any) -> Any:
        time.sleep(0.05)
        self.seen.append(data)
        return data


def test_leaving_the_block_normally_waits_for_every_accepted_input() -> None:
    """Issue 13.8: chunks sent and the block left at once have all gone
    through the graph when the block ends; unread outputs are counted as
    discarded."""
    sink = Recorder()
    p = Pipeline([MultiplyNode(factor=1), sink], enable_metrics=True)

    async def main() -> None:
        async with p.open_session() as session:
            for i in range(3):
                await session.send(i)

    run(main())
    assert sink.seen == [0, 1, 2]
    metrics = p.get_metrics()
    assert metrics is not None and metrics["pipeline"]["discarded_outputs"] == 3


def test_leaving_the_block_by_an_exception_cancels() -> None:
    sink = Recorder()
    p = Pipeline([MultiplyNode(factor=1), sink])

    async def main() -> None:
        async with p.open_session() as session:
            for i in range(20):
                await session.send(i)
            raise KeyError("stop")

    with pytest.raises(KeyError):
        run(main())
    seen = len(sink.seen)
    assert seen < 20
    time.sleep(0.3)
    assert len(sink.seen) <= seen + 1  # at most the call in flight finished
