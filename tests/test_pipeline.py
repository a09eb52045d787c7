"""Pipeline semantics, on the Rust engine and on the pure-Python path."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import run
from remotemedia import (
    AddNode,
    MultiplyNode,
    Node,
    NodeError,
    PassThroughNode,
    Pipeline,
)
from remotemedia.core.adapter import node_loop

BOTH = pytest.mark.parametrize("use_rust", [True, False], ids=["rust", "python"])


@BOTH
def test_multiply_then_add(use_rust: bool) -> None:
    p = Pipeline([MultiplyNode(factor=2), AddNode(addend=10)])
    assert run(p.run([1, 2, 3], use_rust=use_rust)) == [12, 14, 16]


@BOTH
def test_run_returns_single_list_or_none(use_rust: bool) -> None:
    p = Pipeline([MultiplyNode(factor=3)])
    assert run(p.run(5, use_rust=use_rust)) == 15
    assert run(p.run([5], use_rust=use_rust)) == 15
    assert run(p.run([[1, 2], [3]], use_rust=use_rust)) == [[3, 6], [9]]
    assert run(p.run(None, use_rust=use_rust)) is None
    assert run(p.run([], use_rust=use_rust)) is None


@BOTH
def test_simple_nodes_agree_on_numbers(use_rust: bool) -> None:
    p = Pipeline([PassThroughNode(), MultiplyNode(factor=0.5), AddNode(addend=-1.25)])
    out = run(p.run([[1, 2.5], 4, [[1], [2]]], use_rust=use_rust))
    assert out == [[-0.75, 0.0], 0.75, [[-0.75], [-0.25]]]


def test_integral_results_stay_int_on_both_paths() -> None:
    p = Pipeline([MultiplyNode(factor=2.0)])
    rust, py = run(p.run([3], use_rust=True)), run(p.run([3], use_rust=False))
    assert rust == py == 6 and type(rust) is type(py) is int


@BOTH
def test_passthrough_of_strings_bytes_and_objects(use_rust: bool) -> None:
    marker = object()
    p = Pipeline([PassThroughNode()])
    assert run(p.run(["text", b"raw", {"a": [1, None, True]}], use_rust=use_rust)) == [
        "text",
        b"raw",
        {"a": [1, None, True]},
    ]
    assert run(p.run(marker, use_rust=use_rust)) is marker


class Counter(Node):
    """Counts calls and multiplies by a param."""

    def __init__(self, factor: int = 1, **kwargs: Any) -> None:
        super().__init__(factor=factor, **kwargs)
        self.calls = 0

    def process(self, data: Any) -> Any:
        self.calls += 1
        return data * self.config["factor"]


class AsyncDouble(Node):
    """An async node with async hooks."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.events: list[str] = []

    async def initialize(self) -> None:
        self.events.append("init")

    async def cleanup(self) -> None:
        self.events.append("cleanup")

    async def process(self, data: Any) -> Any:
        await asyncio.sleep(0)
        return data * 2


class DropOdd(Node):
    """Returns None (no output) for odd numbers."""

    def process(self, data: Any) -> Any:
        return None if data % 2 else data


def test_user_node_runs_inside_the_engine_as_the_same_instance() -> None:
    counter = Counter(factor=3)
    p = Pipeline([counter, AddNode(addend=1)])
    assert run(p.run([1, 2, 3])) == [4, 7, 10]
    assert counter.calls == 3
    native = p._native_pipeline(True)
    assert native.runtimes() == {"Counter_0": "python", "AddNode_1": "rust"}


@BOTH
def test_async_node_and_none_outputs(use_rust: bool) -> None:
    p = Pipeline([DropOdd(), AsyncDouble()])
    assert run(p.run([1, 2, 3, 4], use_rust=use_rust)) == [4, 8]
    assert run(p.run([1, 3], use_rust=use_rust)) is None


def test_managed_execution_with_sync_and_async_hooks() -> None:
    class SyncHooks(Node):
        def __init__(self) -> None:
            super().__init__()
            self.events: list[str] = []

        def initialize(self) -> None:
            self.events.append("init")

        def cleanup(self) -> None:
            self.events.append("cleanup")

        def process(self, data: Any) -> Any:
            return data

    sync_node, async_node = SyncHooks(), AsyncDouble()
    p = Pipeline([sync_node, async_node])

    async def main() -> Any:
        async with p.managed_execution():
            assert p.is_initialized
            return await p.run(21)

    assert run(main()) == 42
    assert sync_node.events == ["init", "cleanup"]
    assert async_node.events == ["init", "cleanup"]
    assert not p.is_initialized


async def _agen(items: list[Any]) -> AsyncIterator[Any]:
    for i in items:
        yield i


@BOTH
def test_process_streams(use_rust: bool) -> None:
    p = Pipeline([MultiplyNode(factor=2), AddNode(addend=1)])

    async def collect() -> list[Any]:
        return [o async for o in p.process(_agen([1, 2, 3]), use_rust=use_rust)]

    assert run(collect()) == [3, 5, 7]


def test_node_list_operations() -> None:
    m, a = MultiplyNode(factor=2), AddNode(addend=1, name="plus")
    p = Pipeline(name="ops").add_node(m).add_node(a)
    assert len(p) == p.node_count == 2
    assert list(p) == [m, a]
    assert p.get_node("plus") is a and p.get_node("plus_1") is a
    assert p.remove_node("plus") and not p.remove_node("plus")
    assert run(p.run(4)) == 8
    with pytest.raises(TypeError, match="node"):
        p.add_node("not a node")  # type: ignore[arg-type]


def test_serialize_keeps_every_param_and_resilience_field() -> None:
    from remotemedia import AudioResampleNode, FormatConverterNode, VADNode

    p = Pipeline(
        [
            AudioResampleNode(target_sample_rate=8000, quality="low", retry={"max_retries": 2}),
            VADNode(energy_threshold=0.05, timeout_ms=500, on_failure="skip"),
            FormatConverterNode(target_format="i16", runtime_hint="python"),
        ],
        name="prep",
    )
    m = json.loads(p.serialize())
    assert m["version"] == "v1" and m["metadata"]["name"] == "prep"
    nodes = m["nodes"]
    assert [n["id"] for n in nodes] == ["AudioResampleNode_0", "VADNode_1", "FormatConverterNode_2"]
    assert nodes[0]["params"] == {"target_sample_rate": 8000, "quality": "low"}
    assert nodes[0]["retry"] == {"max_retries": 2}
    assert nodes[1]["params"] == {"frame_duration_ms": 30, "energy_threshold": 0.05, "mode": "energy"}
    assert nodes[1]["timeout_ms"] == 500 and nodes[1]["on_failure"] == "skip"
    assert nodes[2]["runtime_hint"] == "python"
    assert m["connections"] == [
        {"from": "AudioResampleNode_0", "to": "VADNode_1"},
        {"from": "VADNode_1", "to": "FormatConverterNode_2"},
    ]


def test_manifest_round_trip_json_dict_path_and_yaml(tmp_path: Path) -> None:
    p = Pipeline([MultiplyNode(factor=2), Counter(factor=5), AddNode(addend=10)], name="rt")
    text = p.serialize()
    path = tmp_path / "m.json"
    path.write_text(text)
    yaml_path = tmp_path / "m.yaml"
    import yaml

    yaml_path.write_text(yaml.safe_dump(json.loads(text)))
    for source in (text, json.loads(text), path, str(path)):
        q = Pipeline.from_manifest(source)
        assert q.serialize() == text
        assert run(q.run([1, 2])) == [20, 30]
    q = Pipeline.from_yaml(yaml_path)
    assert q.serialize() == text
    assert run(q.run(1)) == 20


def test_manifest_with_branching_graph_runs_on_the_engine() -> None:
    manifest = {
        "version": "v1",
        "nodes": [
            {"id": "src", "node_type": "PassThroughNode"},
            {"id": "double", "node_type": "MultiplyNode", "params": {"factor": 2}},
            {"id": "plus", "node_type": "AddNode", "params": {"addend": 100}},
        ],
        "connections": [{"from": "src", "to": "double"}, {"from": "src", "to": "plus"}],
    }
    p = Pipeline.from_manifest(manifest)
    assert run(p.run(1)) == [2, 101]
    # The Python implementations run in the same engine: fan-out included.
    assert run(p.run(1, use_rust=False)) == [2, 101]
    assert p._native_pipeline(False).runtimes() == {"src": "python", "double": "python", "plus": "python"}


def test_metrics() -> None:
    p = Pipeline([Counter(factor=2), MultiplyNode(factor=2)], enable_metrics=True, name="m")
    assert p.get_metrics() is None
    run(p.run([1, 2, 3]))
    for runtime in ("rust", "python"):
        m = p.get_metrics()
        assert m is not None and m["runtime"] == runtime
        assert m["pipeline"]["name"] == "m" and m["pipeline"]["inputs"] == 3
        assert m["pipeline"]["wall_time_us"] > 0
        counter, multiply = m["nodes"]
        assert counter["id"] == "Counter_0" and counter["node_type"] == "Counter"
        assert multiply["node_type"] == "MultiplyNode"
        assert counter["runtime"] == "python"
        assert multiply["runtime"] == runtime
        assert counter["calls"] >= 3 and counter["status"] == "ok"
        assert set(counter["time_us"]) == {"total", "min", "max", "mean", "p50", "p99"}
        run(p.run([1, 2, 3], use_rust=False))
    assert Pipeline([AddNode()]).get_metrics() is None


def test_metrics_record_a_failed_node() -> None:
    class Boom(Node):
        def process(self, data: Any) -> Any:
            raise RuntimeError("boom")

    p = Pipeline([AddNode(addend=1), Boom()], enable_metrics=True)
    with pytest.raises(NodeError):
        run(p.run([1, 2]))
    m = p.get_metrics()
    assert m is not None and m["nodes"][1]["errors"] >= 1


def test_overlapping_pure_python_runs_time_only_their_own_calls() -> None:
    class Sleep(Node):
        async def process(self, data: Any) -> Any:
            await asyncio.sleep(data / 1000)
            return data

    p = Pipeline([Sleep()], enable_metrics=True)

    async def both() -> None:
        # The one-item run ends at 10 ms, amid the five 4 ms items of the
        # other, which ends last and so holds the metrics.
        await asyncio.gather(p.run([10], use_rust=False), p.run([4, 4, 4, 4, 4], use_rust=False))

    run(both())
    m = p.get_metrics()
    assert m is not None and m["pipeline"]["inputs"] == 5
    # Five items: a process and a flush call each.
    assert m["nodes"][0]["calls"] == 10


def test_a_run_refused_before_it_starts_keeps_the_last_metrics() -> None:
    p = Pipeline([MultiplyNode(factor=2)], enable_metrics=True)
    run(p.run(1.0))
    before = p.get_metrics()
    with pytest.raises(TypeError, match="complex64"):
        run(p.run((np.zeros(4, dtype=np.complex64), 16000)))
    assert p.get_metrics() is before


def test_concurrent_runs_each_get_their_own_metrics() -> None:
    """Each run's metrics describe that run, while other runs of the same
    compiled pipeline finish in between (they once shared one slot)."""
    p = Pipeline([MultiplyNode(factor=2), AddNode(addend=1)], enable_metrics=True)
    native = p._native_pipeline()
    wrong: list[str] = []

    def worker(items: int) -> None:
        for _ in range(100):
            metrics: list[dict[str, Any]] = []
            out = native.run(list(range(items)), metrics)
            # Each item is one clip: a process and a flush call per node.
            seen = [metrics[0]["pipeline"]["inputs"], *(n["calls"] for n in metrics[0]["nodes"])] if metrics else None
            if len(out) != items or len(metrics) != 1 or seen != [items, 2 * items, 2 * items]:
                wrong.append(f"{items} items: {seen}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in (1, 2, 5, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


def test_audio_through_simple_nodes_on_both_paths() -> None:
    a = np.linspace(-1, 1, 960, dtype=np.float32).reshape(2, 480)
    p = Pipeline([MultiplyNode(factor=0.5)])
    rust = run(p.run((a, 48000)))
    py = run(p.run((a, 48000), use_rust=False))
    assert rust[1] == py[1] == 48000
    np.testing.assert_array_equal(rust[0], py[0])


def test_async_node_runs_on_its_engine_loop_across_runs() -> None:
    """Issue 6: async nodes run on an engine-managed loop (the node's own
    loop thread, the same for all runs), not on the caller's loop, which keeps
    running meanwhile."""

    class LoopSpy(Node):
        def __init__(self) -> None:
            super().__init__()
            self.loops: list[object] = []

        async def process(self, data: Any) -> Any:
            self.loops.append(asyncio.get_running_loop())
            return data

    spy = LoopSpy()
    p = Pipeline([spy, AddNode(addend=1)])

    async def once() -> tuple[Any, object]:
        return await p.run(1), asyncio.get_running_loop()

    for _ in range(2):
        out, loop = run(once())
        assert out == 2 and spy.loops[-1] is node_loop(spy).loop and spy.loops[-1] is not loop
    assert spy.loops[0] is spy.loops[1]


def test_manifest_without_connections_chains_nothing() -> None:
    manifest = {
        "version": "v1",
        "nodes": [
            {"id": "double", "node_type": "MultiplyNode", "params": {"factor": 2}},
            {"id": "plus", "node_type": "AddNode", "params": {"addend": 100}},
        ],
    }
    p = Pipeline.from_manifest(manifest)
    assert json.loads(p.serialize())["connections"] == []
    assert run(p.run(1)) == [2, 101]
