"""Zero-copy in and out, and the GIL released while Rust works."""

from __future__ import annotations

import threading
import time
import tracemalloc

import numpy as np

from conftest import run
from remotemedia import FormatConverterNode, MultiplyNode, PassThroughNode, Pipeline, VADNode, _native


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
