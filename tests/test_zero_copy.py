"""Zero-copy in and out (never at the cost of corrupted samples), and the GIL
released while Rust works."""

from __future__ import annotations

import threading
import time
import tracemalloc
from typing import Any

import numpy as np
import pytest

from conftest import run, tone
from remotemedia import (
    AudioResampleNode,
    FormatConverterNode,
    MultiplyNode,
    Node,
    PassThroughNode,
    Pipeline,
    VADNode,
    _native,
)


def test_pipeline_pass_through_returns_the_same_memory() -> None:
    for dtype in (np.float32, np.int16, np.int32):
        a = np.ones((2, 4800), dtype=dtype)
        out, rate = run(Pipeline([PassThroughNode()]).run((a, 48000)))
        assert rate == 48000 and np.shares_memory(out, a)
        assert out is a


def test_native_outputs_own_the_rust_buffer() -> None:
    a = np.linspace(-1, 1, 48000, dtype=np.float32)
    out, _ = run(Pipeline([MultiplyNode(factor=0.5)]).run((a, 48000)))
    assert isinstance(out.base, _native.SampleOwner)
    assert len(out.base) == 48000 and out.base.format == "f32"
    assert not np.shares_memory(out, a)
    del a
    assert float(out[-1]) == 0.5


def test_direct_calls_borrow_the_input() -> None:
    a = np.ones(480, dtype=np.float32)
    assert FormatConverterNode(target_format="f32").process((a, 16000))[0] is a
    assert VADNode().process((a, 16000))[0] is a


def test_big_input_is_not_copied() -> None:
    a = np.zeros(25_000_000, dtype=np.float32)  # 100 MB
    node = VADNode(mode="energy")
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        out = node.process((a, 16000))
        peak = tracemalloc.get_traced_memory()[1] - before
        out2 = run(Pipeline([PassThroughNode()]).run((a, 16000)))
        peak_pipeline = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert out[0] is a and out2[0] is a
    assert peak < 10_000_000, peak
    assert peak_pipeline < 10_000_000, peak_pipeline


def test_rss_does_not_grow_by_the_input_size() -> None:
    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096

    a = np.ones(25_000_000, dtype=np.float32)  # 100 MB, touched
    before = rss()
    out = run(Pipeline([PassThroughNode(), VADNode(mode="energy")]).run((a, 16000)))
    assert out[0] is a
    assert rss() - before < 30_000_000


def test_gil_is_released_while_rust_works() -> None:
    a = np.random.default_rng(0).standard_normal(20_000_000).astype(np.float32)
    node = FormatConverterNode(target_format="i16")
    ticks = 0
    stop = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0)

    node.process((a[:1000], 48000))
    worker = threading.Thread(target=count)
    started = time.perf_counter()
    worker.start()
    time.sleep(0.01)
    baseline = ticks
    for _ in range(3):
        node.process((a, 48000))
    elapsed = time.perf_counter() - started
    during = ticks - baseline
    stop.set()
    worker.join()
    assert elapsed > 0.02
    assert during > 100, (during, elapsed)


def test_gil_released_during_pipeline_run() -> None:
    a = np.random.default_rng(1).standard_normal(20_000_000).astype(np.float32)
    p = Pipeline([MultiplyNode(factor=0.5), FormatConverterNode(target_format="i16")])
    ticks = 0
    stop = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0)

    native = p._native_pipeline()
    worker = threading.Thread(target=count)
    worker.start()
    time.sleep(0.01)
    baseline = ticks
    native.run([(a, 48000)] * 3)
    during = ticks - baseline
    stop.set()
    worker.join()
    assert during > 100, during


# -- Issue 14.1: zero-copy never means silent corruption ------------------------


class Slow(Node):
    """A Python node that holds each chunk a while before passing it on."""

    def process(self, data: Any) -> Any:
        time.sleep(0.02)
        return data


def test_arrays_reused_after_send_keep_their_values_in_a_session() -> None:
    """Ten chunks holding 0..9, each overwritten with -1 right after `send`
    (a capture callback reusing its buffer): the engine sees 0..9, and every
    write the engine could have seen is refused by numpy while it holds the
    array."""
    p = Pipeline([Slow(), MultiplyNode(factor=1)])
    refused = 0

    async def main() -> list[float]:
        nonlocal refused
        chunks = [np.full(480, float(i), dtype=np.float32) for i in range(10)]
        outs = []
        async with p.open_session() as session:
            for chunk in chunks:
                await session.send((chunk, 16000))
                try:
                    chunk[:] = -1
                except ValueError as exc:
                    assert "read-only" in str(exc)
                    refused += 1
            await session.close()
            async for samples, _rate in session:
                outs.append(float(samples[0]))
        return outs

    assert run(main()) == [float(i) for i in range(10)]
    assert refused > 0


def test_a_reused_foreign_buffer_is_copied_not_corrupted() -> None:
    """A capture buffer in memory numpy does not own (here a `bytearray`, as
    capture libraries hand out their own buffers) cannot be locked: it is
    copied, so rewriting it after `send` does not change what is resampled."""
    raw = bytearray(960 * 4)
    buf = np.frombuffer(raw, dtype=np.float32)
    signal = tone(440.0, 0.2, 48000, amplitude=0.3)
    pieces = [signal[i : i + 960] for i in range(0, len(signal), 960)]
    p = Pipeline([AudioResampleNode(target_sample_rate=16000)], enable_metrics=True)

    async def stream(reuse: bool) -> np.ndarray:
        outs = []
        async with p.open_session() as session:
            for piece in pieces:
                buf[:] = piece
                await session.send((buf if reuse else piece.copy(), 48000))
                buf[:] = np.float32(9.0)  # the next callback overwrites it
            await session.close()
            async for samples, _rate in session:
                outs.append(samples)
        return np.concatenate(outs)

    expected = run(stream(reuse=False))
    got = run(stream(reuse=True))
    np.testing.assert_array_equal(got, expected)
    metrics = p.get_metrics()
    assert metrics is not None and metrics["pipeline"]["copied_inputs"] == len(pieces)


def test_a_slice_of_a_ring_buffer_locks_the_ring_while_in_flight() -> None:
    ring = np.zeros(4 * 480, dtype=np.float32)
    p = Pipeline([Slow(), MultiplyNode(factor=1)], enable_metrics=True)

    async def main() -> list[float]:
        async with p.open_session() as session:
            ring[:480] = 1.0
            await session.send((ring[:480], 16000))
            with pytest.raises(ValueError, match="read-only"):
                ring[480:960] = 2.0  # another part of the same memory
            await session.close()
            return [float(x[0][0]) async for x in session]

    assert run(main()) == [1.0]
    metrics = p.get_metrics()
    assert metrics is not None and metrics["pipeline"]["copied_inputs"] == 0


def test_writing_during_a_run_is_refused_and_the_output_is_intact() -> None:
    """A thread writing NaNs into the input while `run` works on it (the GIL is
    released) gets numpy's read-only error; the output has no NaN; the array
    is writeable again afterwards. A pass-through Python node at the head of the
    chain holds the run, with the input still borrowed, until the writer has been
    refused once (or 10 s have passed), so the outcome does not depend on how the
    threads are scheduled. (Behind the resampler it would not: the input is
    released once the resampler has read it.)"""
    a = tone(1000.0, 30.0, 48000, amplitude=0.3)
    expected = run(
        Pipeline([AudioResampleNode(target_sample_rate=16000), MultiplyNode(factor=2.0)]).run((a.copy(), 48000))
    )[0]
    first_refusal = threading.Event()

    class UntilRefused(Node):
        def process(self, data: Any) -> Any:
            first_refusal.wait(10.0)
            return data

    p = Pipeline([UntilRefused(), AudioResampleNode(target_sample_rate=16000), MultiplyNode(factor=2.0)])
    refused = 0
    started = threading.Event()
    stop = threading.Event()

    def vandal() -> None:
        nonlocal refused
        started.set()
        while a.flags.writeable and not stop.is_set():
            time.sleep(0.0001)  # until the run has borrowed it
        while not stop.is_set():
            try:
                a[::1000] = np.nan
            except ValueError:
                refused += 1
                first_refusal.set()
            time.sleep(0.0005)

    async def main() -> Any:
        worker = threading.Thread(target=vandal)
        worker.start()
        started.wait()
        try:
            return await p.run((a, 48000))
        finally:
            stop.set()
            worker.join()

    out, rate = run(main())
    assert rate == 16000 and refused > 0
    assert not np.isnan(out).any()
    np.testing.assert_array_equal(out, expected)
    a[0] = 0.0  # writeable again


def test_fan_out_outputs_are_read_only() -> None:
    """Two sinks fed the same buffer: neither output may write into the other."""
    manifest = {
        "version": "v1",
        "nodes": [
            {"id": "src", "node_type": "MultiplyNode", "params": {"factor": 2.0}},
            {"id": "a", "node_type": "PassThroughNode"},
            {"id": "b", "node_type": "PassThroughNode"},
        ],
        "connections": [{"from": "src", "to": "a"}, {"from": "src", "to": "b"}],
    }
    x = np.ones(480, dtype=np.float32)
    (first, _), (second, _) = run(Pipeline.from_manifest(manifest).run((x, 16000)))
    assert np.shares_memory(first, second)
    for out in (first, second):
        assert not out.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            out[0] = 5.0
    # An output nobody else holds is the caller's to write.
    (only, _) = run(Pipeline([MultiplyNode(factor=2.0)]).run((x, 16000)))
    only[0] = 5.0


def test_read_only_and_immutable_inputs_are_borrowed_without_copies() -> None:
    p = Pipeline([PassThroughNode()], enable_metrics=True)
    frozen = np.ones(480, dtype=np.float32)
    frozen.flags.writeable = False
    from_bytes = np.frombuffer(np.ones(480, dtype=np.float32).tobytes(), dtype=np.float32)
    for a in (frozen, from_bytes):
        out, _ = run(p.run((a, 16000)))
        assert out is a
        metrics = p.get_metrics()
        assert metrics is not None and metrics["pipeline"]["copied_inputs"] == 0
    # A read-only view of writeable memory is not immutable: its base is
    # locked while the engine reads it.
    base = np.ones(960, dtype=np.float32)
    view = base[:480]
    view.flags.writeable = False
    seen: list[bool] = []

    class Peek(Node):
        def process(self, data: Any) -> Any:
            seen.append(base.flags.writeable)
            return data

    out, _ = run(Pipeline([Peek(), PassThroughNode()]).run((view, 16000)))
    assert seen == [False] and np.shares_memory(out, base)
    assert base.flags.writeable


def test_a_view_is_borrowed_and_its_base_locked_with_it() -> None:
    """A reshape is a view of its base: it is lent (no copy), and the base is
    locked too, so nothing can write the samples meanwhile."""
    base = np.arange(960, dtype=np.float32)
    view = base.reshape(2, 480)
    p = Pipeline([Slow(), MultiplyNode(factor=1)], enable_metrics=True)

    async def main() -> None:
        async with p.open_session() as session:
            await session.send((view, 16000))
            with pytest.raises(ValueError, match="read-only"):
                base[0] = -1.0
            await session.close()
            [(out, _)] = [x async for x in session]
            np.testing.assert_array_equal(out, np.arange(960, dtype=np.float32).reshape(2, 480))

    run(main())
    metrics = p.get_metrics()
    assert metrics is not None and metrics["pipeline"]["copied_inputs"] == 0
    run(Pipeline([PassThroughNode()]).run(1))  # releases locks dropped elsewhere
    base[0] = -1.0
    view[0, 1] = -1.0


def test_an_array_lent_twice_unlocks_after_the_last_borrower() -> None:
    a = np.ones(480, dtype=np.float32)
    node = MultiplyNode(factor=3.0)
    p = Pipeline([Slow(), node])

    async def main() -> None:
        async with p.open_session() as s1, p.open_session() as s2:
            await s1.send((a, 16000))
            await s2.send((a, 16000))
            assert not a.flags.writeable
            await s1.close()
            assert [float(x[0][0]) async for x in s1] == [3.0]
            await s2.close()
            assert [float(x[0][0]) async for x in s2] == [3.0]

    run(main())
    # Both sessions are done with it: the caller may write again (locks held
    # by engine threads are released at the next call into the extension).
    run(Pipeline([PassThroughNode()]).run(1))
    a[0] = 2.0


def test_a_direct_call_that_releases_the_gil_locks_its_input() -> None:
    """A direct node call on a large array releases the GIL: the array is
    locked for the call (small calls keep the GIL and skip the lock)."""
    a = tone(1000.0, 120.0, 48000, amplitude=0.3)
    node = AudioResampleNode(target_sample_rate=16000, quality="high")
    expected = node.process((a.copy(), 48000))[0]
    refused = 0
    stop = threading.Event()

    def vandal() -> None:
        nonlocal refused
        while a.flags.writeable and not stop.is_set():
            time.sleep(0.0001)
        while not stop.is_set():
            try:
                a[::997] = 0.0
            except ValueError:
                refused += 1
            time.sleep(0.0002)

    worker = threading.Thread(target=vandal)
    worker.start()
    try:
        out = node.process((a, 48000))[0]
    finally:
        stop.set()
        worker.join()
    assert refused > 0
    np.testing.assert_array_equal(out, expected)
    assert a.flags.writeable
    small = np.ones(480, dtype=np.float32)
    assert node.process((small, 48000))[0].shape == (160,) and small.flags.writeable


def test_sweep_of_array_kinds_never_corrupts_and_counts_copies(tmp_path: Any) -> None:
    """Issue 14 sweep: foreign memory (a memory map, a ctypes buffer), Fortran
    order, strides and an empty array: each runs, the result equals the
    input, copies are counted, and the caller's array is writeable after."""
    import ctypes

    mapped = np.memmap(tmp_path / "m.f32", dtype=np.float32, mode="w+", shape=(480,))
    mapped[:] = 0.25
    raw = (ctypes.c_float * 480)(*([0.5] * 480))
    cases = {
        "memmap": (mapped, 1),
        "ctypes": (np.ctypeslib.as_array(raw), 1),
        "fortran": (np.asfortranarray(np.ones((2, 480), dtype=np.float32)), 1),
        "strided": (np.ones(960, dtype=np.float32)[::2], 1),
        "empty": (np.zeros(0, dtype=np.float32), 0),
        "owned": (np.full(480, 3.0, dtype=np.float32), 0),
    }
    p = Pipeline([MultiplyNode(factor=1.0)], enable_metrics=True)
    for name, (array, copies) in cases.items():
        before = np.array(array, copy=True)
        out, _ = run(p.run((array, 16000)))
        np.testing.assert_array_equal(out, before, err_msg=name)
        metrics = p.get_metrics()
        assert metrics is not None and metrics["pipeline"]["copied_inputs"] == copies, name
        del out
        run(Pipeline([PassThroughNode()]).run(1))  # releases locks dropped elsewhere
        assert array.flags.writeable, name


def test_a_slice_of_rows_is_copied_row_by_row_and_gives_the_same_audio() -> None:
    """`x[:, i:j]` of a longer recording (rows contiguous, not adjacent) is read without
    numpy's conversion: the same samples as a contiguous copy, counted as copied."""
    rng = np.random.default_rng(7)
    long = rng.standard_normal((2, 48000)).astype(np.float32)
    for view in (long[:, 960:1920], long[::-1, 960:1920], (long * 32767).astype(np.int16)[:, 960:1920]):
        assert not view.flags.c_contiguous
        node, again = AudioResampleNode(target_sample_rate=16000), AudioResampleNode(target_sample_rate=16000)
        got, rate = node.process((view, 48000))
        want, _ = again.process((np.ascontiguousarray(view), 48000))
        assert rate == 16000 and got.shape == want.shape == (2, 320)
        np.testing.assert_array_equal(got, want)
    p = Pipeline([MultiplyNode(factor=2)], enable_metrics=True)
    out, _ = run(p.run((long[:, 100:580], 16000)))
    np.testing.assert_array_equal(out, 2 * long[:, 100:580])
    metrics = p.get_metrics()
    assert metrics is not None and metrics["pipeline"]["copied_inputs"] == 1
    # Columns that are not contiguous still take numpy's conversion.
    np.testing.assert_array_equal(run(Pipeline([MultiplyNode(factor=1)]).run((long[:, ::2], 48000)))[0], long[:, ::2])
