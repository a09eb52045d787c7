"""One compiled pipeline per Pipeline: batch runs (clip mode) and sessions
(stream mode) share its nodes' circuit breakers, and its metrics name the
manifest's own node types."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from conftest import run
from remotemedia import MultiplyNode, Node, NodeError, Pipeline, VADNode

BREAKER = {"failure_threshold": 1, "cooldown_ms": 600_000}


class Broken(Node):
    """Fails every call (fatally), counting the calls."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(circuit_breaker=BREAKER, **kwargs)
        self.calls = 0

    def process(self, data: Any) -> Any:
        self.calls += 1
        raise ValueError("the device is gone")


async def _session_error(p: Pipeline, item: Any) -> NodeError:
    async with p.open_session() as session:
        await session.send(item)
        with pytest.raises(NodeError) as info:
            await session.recv()
    return info.value


def test_a_python_node_failing_in_a_batch_run_opens_the_breaker_a_session_sees() -> None:
    node = Broken(name="dev")
    p = Pipeline([node])
    with pytest.raises(NodeError) as first:
        run(p.run(1))
    assert "the device is gone" in str(first.value)
    assert node.calls == 1
    err = run(_session_error(p, 2))
    assert err.node_id == "dev_0" and "circuit breaker is open" in str(err), err
    assert node.calls == 1, "the session never called the node"


def test_a_native_node_failing_in_a_batch_run_opens_the_breaker_a_session_sees() -> None:
    p = Pipeline([MultiplyNode(factor=2, circuit_breaker=BREAKER)])
    assert p._native_pipeline().runtimes() == {"MultiplyNode_0": "rust"}
    with pytest.raises(NodeError) as first:
        run(p.run("not a number"))
    assert "circuit breaker" not in str(first.value)
    err = run(_session_error(p, 2.0))
    assert err.node_id == "MultiplyNode_0" and "circuit breaker is open" in str(err), err


class Tag(Node):
    """Adds a key of its own to the VAD results it is handed."""

    def process(self, data: Any) -> Any:
        samples, rate, info = data
        return samples, rate, {**info, "tagged_by": self.name}


def test_clip_and_stream_runs_of_one_pipeline_name_the_manifest_types() -> None:
    p = Pipeline([VADNode(), Tag(name="tag")], enable_metrics=True)
    audio = np.zeros(16_000, dtype=np.float32)
    samples, rate, info = run(p.run((audio, 16_000)))
    assert rate == 16_000 and samples.shape == audio.shape
    assert info["tagged_by"] == "tag" and info["total_frames"] == len(audio) // 480
    metrics = p.get_metrics()
    assert metrics is not None
    assert [(n["id"], n["node_type"], n["runtime"]) for n in metrics["nodes"]] == [
        ("VADNode_0", "VADNode", "rust"),
        ("tag_1", "Tag", "python"),
    ]
