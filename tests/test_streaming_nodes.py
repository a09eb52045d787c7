"""Streaming Python nodes inside the engine (issue 15, item 1): a node whose
``process`` is an async generator over its input stream, or that sets
``is_streaming``, yields any number of outputs per input and at the end."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest

from conftest import run
from remotemedia import MultiplyNode, Node, NodeError, Pipeline, PipelineError
from remotemedia.core.adapter import STREAM_BATCH


class Twice(Node):
    """Yields every input twice, then the count of inputs at the end."""

    async def process(self, data_stream: AsyncIterator[Any]) -> AsyncIterator[Any]:  # type: ignore[override]
        seen = 0
        async for item in data_stream:
            seen += 1
            yield item
            yield item
        yield 1000 + seen


class Rechunk(Node):
    """Re-chunks audio into blocks of ``size`` frames; the remainder at the end."""

    is_streaming = True

    def __init__(self, size: int) -> None:
        super().__init__(size=size)
        self.size = size

    async def process(self, data_stream: AsyncIterator[Any]) -> AsyncIterator[Any]:  # type: ignore[override]
        held = np.zeros((1, 0), dtype=np.float32)
        rate = 0
        async for samples, rate in data_stream:
            held = np.concatenate([held, samples.reshape(1, -1)], axis=1)
            while held.shape[1] >= self.size:
                yield held[:, : self.size].copy(), rate
                held = held[:, self.size :]
        if held.shape[1]:
            yield held, rate


async def collect(p: Pipeline, items: list[Any]) -> list[Any]:
    async def source() -> AsyncIterator[Any]:
        for item in items:
            yield item

    return [out async for out in p.process(source())]


def test_an_async_generator_node_yields_many_per_input_and_at_the_end() -> None:
    p = Pipeline([Twice(), MultiplyNode(factor=10)])
    assert run(collect(p, [1, 2, 3])) == [10, 10, 20, 20, 30, 30, 10030]
    # A batch run: each item is its own stream.
    assert run(p.run([1, 2])) == [10, 10, 10010, 20, 20, 10010]


def test_concurrent_sessions_each_have_their_own_stream() -> None:
    node = Twice()
    p = Pipeline([node])

    async def one(k: int) -> list[Any]:
        async with p.open_session() as s:
            for i in range(5):
                await s.send(k * 100 + i)
            await s.close()
            return [x async for x in s]

    async def main() -> list[list[Any]]:
        return await asyncio.gather(*(one(k) for k in range(1, 5)))

    for k, outs in enumerate(run(main()), start=1):
        assert outs == [v for i in range(5) for v in (k * 100 + i,) * 2] + [1005]


def test_an_is_streaming_node_rechunks_audio() -> None:
    chunks = [(np.full(300, i, dtype=np.float32), 16000) for i in range(10)]
    outs = run(collect(Pipeline([Rechunk(size=800)]), chunks))
    # Mono sent 1-D comes back 1-D (the session's shape).
    assert [o[0].shape for o in outs] == [(800,), (800,), (800,), (600,)]
    joined = np.concatenate([o[0] for o in outs])
    np.testing.assert_array_equal(joined, np.repeat(np.arange(10, dtype=np.float32), 300))


def test_a_streaming_node_failure_is_a_node_error() -> None:
    class Fails(Node):
        async def process(self, data_stream: AsyncIterator[Any]) -> AsyncIterator[Any]:  # type: ignore[override]
            async for item in data_stream:
                if item == 3:
                    raise ValueError("three")
                yield item

    with pytest.raises(NodeError) as info:
        run(collect(Pipeline([Fails()]), [1, 2, 3, 4]))
    assert info.value.node_id == "Fails_0" and info.value.exception_type == "ValueError"


def test_a_node_that_holds_nothing_keeps_memory_flat() -> None:
    class Drop(Node):
        async def process(self, data_stream: AsyncIterator[Any]) -> AsyncIterator[Any]:  # type: ignore[override]
            async for _ in data_stream:
                pass
            yield "end"

    chunk = (np.zeros(960, dtype=np.float32), 48000)

    async def source(n: int) -> AsyncIterator[Any]:
        for _ in range(n):
            yield chunk

    async def main(n: int) -> list[Any]:
        return [o async for o in Pipeline([Drop()]).process(source(n))]

    tracemalloc.start()
    try:
        assert run(main(200)) == ["end"]
        base = tracemalloc.get_traced_memory()[0]
        assert run(main(3000)) == ["end"]
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert grown < 1_000_000, grown


class Fountain(Node):
    """Yields 1000 numbers for every input, counting what it has made."""

    def __init__(self) -> None:
        super().__init__()
        self.made = 0

    async def process(self, data_stream: AsyncIterator[Any]) -> AsyncIterator[Any]:  # type: ignore[override]
        async for n in data_stream:
            for i in range(1000):
                self.made += 1
                yield n * 1000 + i


def test_a_node_that_yields_a_lot_is_held_back_by_a_reader_that_does_not_read() -> None:
    fountain = Fountain()
    p = Pipeline([fountain])
    capacity = 16

    async def main() -> list[Any]:
        async with p.open_session(input_capacity=1, output_capacity=capacity) as session:
            await session.send(1)
            # Time for a node that is not held back to make all 1000.
            for _ in range(50):
                await asyncio.sleep(0.004)
            ahead = fountain.made
            got = [await session.recv() for _ in range(1000)]
            assert ahead <= capacity + 3 * STREAM_BATCH, ahead
            return got

    assert run(main()) == list(range(1000, 2000))
    # A batch run takes everything, in order.
    assert run(p.run([2, 3])) == list(range(2000, 4000))


def test_process_without_a_stream_runs_the_first_node_as_the_source() -> None:
    class Counter(Node):
        async def process(self, data: Any) -> Any:
            assert data is None
            return self._count()

        async def _count(self) -> AsyncIterator[int]:
            for i in range(4):
                yield i

    class CounterGen(Node):
        def process(self, data: Any) -> Any:
            return self._count()

        async def _count(self) -> AsyncIterator[int]:
            for i in range(3):
                yield i

    async def main(p: Pipeline) -> list[Any]:
        return [o async for o in p.process()]

    assert run(main(Pipeline([CounterGen(), MultiplyNode(factor=2)]))) == [0, 2, 4]
    assert run(main(Pipeline([Counter()]))) == [0, 1, 2, 3]
    with pytest.raises(PipelineError, match="must return an async iterator"):
        run(main(Pipeline([MultiplyNode(factor=2)])))


def test_streaming_nodes_run_with_the_python_implementations_too() -> None:
    # use_rust=False changes which implementation the built-in nodes run,
    # not the executor: a streaming node runs as it does by default.
    p = Pipeline([Twice(), MultiplyNode(factor=3)])
    assert run(p.run([1], use_rust=False)) == run(p.run([1]))


def test_metadata_helpers_of_the_older_sdk() -> None:
    node = Twice()
    audio = (np.zeros(4, dtype=np.float32), 16000)
    assert node.split_data_metadata((audio, {"k": 1})) == (audio, {"k": 1})
    assert node.split_data_metadata(audio) == (audio, None)
    assert node.merge_data_metadata(audio, None) is audio
    assert node.merge_data_metadata(audio, {"k": 1}) == (audio, {"k": 1})
