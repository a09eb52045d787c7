"""1-D mono in, 1-D mono out: decided per run and per session, never by
whatever another caller of the same compiled pipeline sent meanwhile."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import numpy as np

from conftest import run
from remotemedia import MultiplyNode, Node, Pipeline

ROUNDS = 50
FRAMES = 480

# The two callers' chunks, told apart by their value.
ONE_D = np.full(FRAMES, 1.0, dtype=np.float32)
TWO_D = np.full((1, FRAMES), 2.0, dtype=np.float32)


class Together(Node):
    """Waits until the other caller's chunk is inside it too: both callers
    have then handed their input to the engine before either goes on."""

    def __init__(self) -> None:
        super().__init__(name="together")
        self.barrier = threading.Barrier(2)

    def process(self, data: Any) -> Any:
        self.barrier.wait(timeout=10)
        return data


class ShapeCheck(Node):
    """Notes every chunk it receives in the wrong shape for its caller."""

    def __init__(self) -> None:
        super().__init__(name="shape_check")
        self.wrong: list[str] = []

    def process(self, data: Any) -> Any:
        samples, _ = data
        expected = ONE_D.shape if samples.flat[0] == 1.0 else TWO_D.shape
        if samples.shape != expected:
            self.wrong.append(f"node got {samples.shape} for a {expected} caller")
        return data


def _pipeline() -> tuple[Pipeline, ShapeCheck]:
    check = ShapeCheck()
    # The native node last: the caller's output is a fresh engine buffer,
    # shaped by the bindings (not the caller's own array handed back).
    return Pipeline([Together(), check, MultiplyNode(factor=3)]), check


def _output_problem(chunk: np.ndarray, out: Any) -> str | None:
    samples, rate = out
    if samples.shape != chunk.shape or rate != 16000 or float(samples.flat[0]) != 3 * float(chunk.flat[0]):
        return f"caller sent {chunk.shape}, got {samples.shape}"
    return None


def test_concurrent_runs_each_get_their_own_shape() -> None:
    p, check = _pipeline()
    wrong: list[str] = []

    def caller(chunk: np.ndarray) -> None:
        for _ in range(ROUNDS):
            problem = _output_problem(chunk, run(p.run((chunk, 16000))))
            if problem:
                wrong.append(problem)

    p._native_pipeline()  # compiled once, shared by both threads
    threads = [threading.Thread(target=caller, args=(chunk,)) for chunk in (ONE_D, TWO_D)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wrong += check.wrong
    assert not wrong, f"{len(wrong)} wrong shapes in {2 * ROUNDS} runs, e.g. {wrong[:3]}"


def test_concurrent_sessions_each_get_their_own_shape() -> None:
    p, check = _pipeline()

    async def main() -> list[str]:
        wrong: list[str] = []
        async with p.open_session() as one_d, p.open_session() as two_d:

            async def step(session: Any, chunk: np.ndarray) -> str | None:
                await session.send((chunk, 16000))
                return _output_problem(chunk, await session.recv())

            for _ in range(ROUNDS):
                results = await asyncio.gather(step(one_d, ONE_D), step(two_d, TWO_D))
                wrong.extend(r for r in results if r)
        return wrong

    wrong = run(main()) + check.wrong
    assert not wrong, f"{len(wrong)} wrong shapes in {2 * ROUNDS} chunks, e.g. {wrong[:3]}"


def test_a_sessions_first_audio_chunk_fixes_its_shape() -> None:
    class Shapes(Node):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[tuple[int, ...]] = []

        def process(self, data: Any) -> Any:
            self.seen.append(data[0].shape)
            return data

    async def stream(chunks: list[np.ndarray]) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
        shapes = Shapes()
        async with Pipeline([shapes, MultiplyNode(factor=3)]).open_session() as session:
            outs = []
            for chunk in chunks:
                await session.send((chunk, 16000))
                outs.append((await session.recv())[0].shape)
        return shapes.seen, outs

    # One stream, one shape: later chunks given the other way follow the first.
    assert run(stream([ONE_D, TWO_D])) == ([ONE_D.shape] * 2, [ONE_D.shape] * 2)
    assert run(stream([TWO_D, ONE_D])) == ([TWO_D.shape] * 2, [TWO_D.shape] * 2)
