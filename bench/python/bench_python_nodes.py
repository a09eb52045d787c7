"""Per-chunk cost of custom Python nodes inside the Rust engine.

Measured in one run, on 20 ms chunks of 16 kHz mono float32 audio (320
samples), with chains of 1 and 5 trivial pass-through Python nodes:

- ``plain loop``: the same node objects called in a plain Python loop
  (``out = node.process(out)``): the floor of calling Python at all;
- ``engine run``: ``await pipeline.run(chunks)`` (a batch, every chunk a clip);
- ``engine stream, 1 in flight``: a ``StreamSession``, ``send`` then ``recv``
  per chunk (the live, real-time case);
- ``engine stream, batched``: ``async for out in pipeline.process(stream)``
  with the stream produced as fast as the engine takes it;
- ``pipecat``: the equivalent pipecat pipeline of pass-through
  ``FrameProcessor``s carrying ``InputAudioRawFrame``s, one frame in flight
  and batched (skipped, and said so, when ``pipecat-ai`` is not installed).

"per hop" is (5-node time - 1-node time) / 4: the cost of one more node.
Then a 30-minute stream (90,000 chunks) through native + Python nodes, with
RSS and Python's traced heap sampled: memory must stay flat.

Run: ``python bench/python/bench_python_nodes.py [--chunks N] [--minutes M]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable
from typing import Any

import numpy as np

from remotemedia import FormatConverterNode, MultiplyNode, Node, Pipeline

RATE = 16000
FRAMES = 320  # 20 ms


class Pass(Node):
    """The trivial Python node: hands its input on."""

    def process(self, data: Any) -> Any:
        return data


class Gain(Node):
    """A small real Python node for the long stream: scales the chunk."""

    def process(self, data: Any) -> Any:
        samples, rate = data
        return samples * np.float32(0.5), rate


def chunk() -> tuple[np.ndarray, int]:
    return (np.zeros(FRAMES, dtype=np.float32), RATE)


def best_of(repeats: int, measure: Callable[[], float]) -> float:
    """The lowest of ``repeats`` measurements (µs per chunk): the least noisy
    estimate on a shared machine."""
    return min(measure() for _ in range(repeats))


def plain_loop(nodes: int, n: int) -> float:
    chain = [Pass() for _ in range(nodes)]
    items = [chunk() for _ in range(n)]
    started = time.perf_counter()
    for item in items:
        out = item
        for node in chain:
            out = node.process(out)
    return (time.perf_counter() - started) / n * 1e6


def engine_run(nodes: int, n: int) -> float:
    p = Pipeline([Pass() for _ in range(nodes)])
    items = [chunk() for _ in range(n)]
    asyncio.run(p.run(items[:10]))  # compile and warm up

    async def timed() -> float:
        started = time.perf_counter()
        await p.run(items)
        return time.perf_counter() - started

    return asyncio.run(timed()) / n * 1e6


def engine_stream_one_in_flight(nodes: int, n: int) -> float:
    p = Pipeline([Pass() for _ in range(nodes)])
    items = [chunk() for _ in range(n)]

    async def timed() -> float:
        async with p.open_session() as session:
            for item in items[:50]:
                await session.send(item)
                await session.recv()
            started = time.perf_counter()
            for item in items:
                await session.send(item)
                await session.recv()
            elapsed = time.perf_counter() - started
            await session.close()
        return elapsed

    return asyncio.run(timed()) / n * 1e6


def engine_stream_batched(nodes: int, n: int) -> float:
    p = Pipeline([Pass() for _ in range(nodes)])
    items = [chunk() for _ in range(n)]

    async def source() -> AsyncIterator[Any]:
        for item in items:
            yield item

    async def timed() -> float:
        started = time.perf_counter()
        count = 0
        async for _ in p.process(source()):
            count += 1
        assert count == n
        return time.perf_counter() - started

    return asyncio.run(timed()) / n * 1e6


def pipecat_available() -> str | None:
    try:
        from importlib.metadata import version

        import pipecat.pipeline.worker  # noqa: F401
    except ImportError:
        return None
    return version("pipecat-ai")


def pipecat_bench(nodes: int, n: int, one_in_flight: bool) -> float:
    from pipecat.frames.frames import EndFrame, Frame, InputAudioRawFrame
    from pipecat.pipeline.pipeline import Pipeline as PcPipeline
    from pipecat.pipeline.worker import PipelineParams, PipelineWorker
    from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
    from pipecat.workers.runner import WorkerRunner

    try:
        from loguru import logger

        logger.remove()  # pipecat logs every start and stop at DEBUG
    except ImportError:
        pass

    class PcPass(FrameProcessor):
        async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
            await super().process_frame(frame, direction)
            await self.push_frame(frame, direction)

    class PcSink(FrameProcessor):
        def __init__(self) -> None:
            super().__init__()
            self.count = 0
            self.arrived = asyncio.Event()

        async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
            await super().process_frame(frame, direction)
            if isinstance(frame, InputAudioRawFrame):
                self.count += 1
                self.arrived.set()
            await self.push_frame(frame, direction)

    audio = np.zeros(FRAMES, dtype=np.int16).tobytes()

    async def timed() -> float:
        sink = PcSink()
        worker = PipelineWorker(
            PcPipeline([*(PcPass() for _ in range(nodes)), sink]),
            params=PipelineParams(audio_in_sample_rate=RATE),
            cancel_on_idle_timeout=False,
            check_dangling_tasks=False,
        )
        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(worker)
        running = asyncio.ensure_future(runner.run())
        frames = [InputAudioRawFrame(audio=audio, sample_rate=RATE, num_channels=1) for _ in range(n + 50)]

        async def send(batch: list[Any]) -> None:
            if one_in_flight:
                for f in batch:
                    sink.arrived.clear()
                    await worker.queue_frame(f)
                    await sink.arrived.wait()
            else:
                target = sink.count + len(batch)
                await worker.queue_frames(batch)
                while sink.count < target:
                    sink.arrived.clear()
                    await sink.arrived.wait()

        await asyncio.sleep(0.2)  # let the pipeline start
        await send(frames[:50])
        started = time.perf_counter()
        await send(frames[50:])
        elapsed = time.perf_counter() - started
        await worker.queue_frame(EndFrame())
        await asyncio.wait_for(running, 30)
        return elapsed

    return asyncio.run(timed()) / n * 1e6


def rss_bytes() -> int:
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def long_stream(minutes: float) -> dict[str, float]:
    """``minutes`` of audio through native + Python nodes, memory sampled."""
    p = Pipeline([MultiplyNode(factor=0.5), Gain(), FormatConverterNode(target_format="i16")])
    n = int(minutes * 60 * 50)
    base = np.zeros(FRAMES, dtype=np.float32)

    async def source() -> AsyncIterator[Any]:
        for _ in range(n):
            yield (base.copy(), RATE)

    async def main() -> tuple[float, list[int], list[int]]:
        rss: list[int] = []
        traced: list[int] = []
        count = 0
        started = time.perf_counter()
        async for _ in p.process(source()):
            count += 1
            if count % max(1, n // 30) == 0:
                rss.append(rss_bytes())
                traced.append(tracemalloc.get_traced_memory()[0])
        assert count == n
        return time.perf_counter() - started, rss, traced

    tracemalloc.start()
    try:
        elapsed, rss, traced = asyncio.run(main())
    finally:
        tracemalloc.stop()
    return {
        "chunks": n,
        "seconds": elapsed,
        "realtime_factor": minutes * 60 / elapsed,
        "rss_growth_mb": (max(rss[2:]) - rss[1]) / 1e6,
        "traced_growth_kb": (max(traced[2:]) - traced[1]) / 1e3,
        "rss_mb": rss[-1] / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=3000, help="chunks per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many measurements")
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the long stream (0: skip)")
    args = parser.parse_args()
    n, repeats = args.chunks, args.repeats

    rows: list[tuple[str, Callable[[int], float]]] = [
        ("plain Python loop", lambda k: plain_loop(k, n)),
        ("engine run (batch)", lambda k: engine_run(k, n)),
        ("engine stream, 1 in flight", lambda k: engine_stream_one_in_flight(k, n)),
        ("engine stream, batched", lambda k: engine_stream_batched(k, n)),
    ]
    pipecat = pipecat_available()
    if pipecat is not None:
        rows += [
            (f"pipecat {pipecat}, 1 in flight", lambda k: pipecat_bench(k, n, one_in_flight=True)),
            (f"pipecat {pipecat}, batched", lambda k: pipecat_bench(k, n, one_in_flight=False)),
        ]

    results: dict[str, tuple[float, float, float]] = {}
    print(f"{n} chunks of 20 ms (16 kHz f32 mono), best of {repeats}; µs per chunk")
    print(f"{'':32} {'1 node':>9} {'5 nodes':>9} {'per hop':>9}")
    for name, fn in rows:
        one = best_of(repeats, lambda fn=fn: fn(1))  # type: ignore[misc]
        five = best_of(repeats, lambda fn=fn: fn(5))  # type: ignore[misc]
        hop = (five - one) / 4
        results[name] = (one, five, hop)
        print(f"{name:32} {one:9.2f} {five:9.2f} {hop:9.2f}")
    if pipecat is None:
        print("pipecat: not installed (pip install pipecat-ai), not measured")
    else:
        ours = results["engine stream, 1 in flight"]
        theirs = results[f"pipecat {pipecat}, 1 in flight"]
        batched = results["engine stream, batched"]
        theirs_batched = results[f"pipecat {pipecat}, batched"]
        print(
            f"same-run ratios pipecat / engine per chunk: 1 in flight {theirs[0] / ours[0]:.1f}x (1 node), "
            f"{theirs[1] / ours[1]:.1f}x (5 nodes); batched {theirs_batched[0] / batched[0]:.1f}x (1 node), "
            f"{theirs_batched[1] / batched[1]:.1f}x (5 nodes)"
        )
    loop_one = results["plain Python loop"][0]
    for name in ("engine run (batch)", "engine stream, batched"):
        print(f"{name}: a 1-node chunk costs {results[name][0] - loop_one:.2f} µs more than the plain loop's")

    if args.minutes > 0:
        r = long_stream(args.minutes)
        print(
            f"long stream: {args.minutes:g} min of audio ({r['chunks']:.0f} chunks) through "
            f"Multiply (native) -> Gain (Python) -> FormatConverter (native): {r['seconds']:.1f} s "
            f"({r['realtime_factor']:.0f}x real time, tracemalloc on); after warm-up RSS grew "
            f"{r['rss_growth_mb']:.2f} MB, Python heap {r['traced_growth_kb']:.1f} kB (RSS {r['rss_mb']:.0f} MB)"
        )


if __name__ == "__main__":
    main()
