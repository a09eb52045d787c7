"""Errors: PipelineError before running, NodeError with the node id while
running, ValueError/TypeError naming the bad argument."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import numpy as np
import pytest

from conftest import run
from remotemedia import (
    AddNode,
    AudioResampleNode,
    FormatConverterNode,
    MultiplyNode,
    Node,
    NodeError,
    Pipeline,
    PipelineError,
    RetryableError,
    VADNode,
    _native,
)

BOTH = pytest.mark.parametrize("use_rust", [True, False], ids=["rust", "python"])


class Boom(Node):
    def process(self, data: Any) -> Any:
        raise KeyError("no such thing")


class Flaky(Node):
    def process(self, data: Any) -> Any:
        raise RetryableError("try later")


class Slow(Node):
    def process(self, data: Any) -> Any:
        raise TimeoutError("too slow")


@BOTH
def test_python_node_failure_is_a_node_error_with_its_id(use_rust: bool) -> None:
    p = Pipeline([MultiplyNode(factor=2), Boom(name="boom")])
    with pytest.raises(NodeError) as info:
        run(p.run(1, use_rust=use_rust))
    err = info.value
    assert err.node_id == "boom_1"
    assert err.error_class == "fatal"
    assert isinstance(err.__cause__, KeyError)
    assert "no such thing" in str(err) and "boom_1" in str(err)


@BOTH
def test_transient_python_errors(use_rust: bool) -> None:
    for node in (Flaky(), Slow()):
        with pytest.raises(NodeError) as info:
            run(Pipeline([node]).run(1, use_rust=use_rust))
        assert info.value.is_transient, type(node).__name__


@BOTH
def test_native_node_failure_names_the_node(use_rust: bool) -> None:
    p = Pipeline([AddNode(addend=1)])
    with pytest.raises(NodeError) as info:
        run(p.run("text", use_rust=use_rust))
    assert info.value.node_id == "AddNode_0"
    assert "AddNode" in str(info.value)


def test_direct_native_call_failure_is_a_node_error() -> None:
    with pytest.raises(NodeError) as info:
        VADNode(name="vad").process((np.zeros(100, np.float32), 4000))
    assert info.value.node_id == "vad"
    assert "sample rate" in str(info.value)


def test_bad_manifests_raise_pipeline_error() -> None:
    base = {"version": "v1", "nodes": [{"id": "a", "node_type": "AddNode"}]}
    with pytest.raises(PipelineError, match="node_type"):
        Pipeline.from_manifest({**base, "nodes": [{"id": "a", "node_type": "Whisper"}]})
    with pytest.raises(PipelineError, match="version"):
        Pipeline.from_manifest({**base, "version": "v9"})
    with pytest.raises(PipelineError, match="syntax"):
        Pipeline.from_manifest("{not json")
    with pytest.raises(PipelineError, match="cannot read"):
        Pipeline.from_manifest("/no/such/manifest.json")


def test_engine_refusals_carry_the_engine_message_and_problems() -> None:
    cyclic = {
        "version": "v1",
        "nodes": [{"id": "a", "node_type": "AddNode"}, {"id": "b", "node_type": "AddNode"}],
        "connections": [{"from": "a", "to": "b"}, {"from": "b", "to": "a"}],
    }
    with pytest.raises(PipelineError, match=r"cycle: a -> b -> a"):
        run(Pipeline.from_manifest(cyclic).run(1))
    bad_param = '{"version": "v1", "nodes": [{"id": "m", "node_type": "MultiplyNode", "params": {"factor": "x"}}]}'
    with pytest.raises(PipelineError) as info:
        _native.NativePipeline(bad_param)
    assert info.value.problems[0]["path"] == "nodes[0].params.factor"
    assert info.value.problems[0]["node_id"] == "m"


def test_missing_connection_target() -> None:
    p = Pipeline([AddNode(), AddNode()])
    p._connections = [{"from": "AddNode_0", "to": "ghost"}]
    with pytest.raises(PipelineError, match="ghost"):
        run(p.run(1))


@pytest.mark.parametrize("hint", ["auto", "python"])
def test_bad_audio_arguments(hint: str) -> None:
    node = AudioResampleNode(target_sample_rate=16000, runtime_hint=hint)
    with pytest.raises(TypeError, match="samples"):
        node.process((np.zeros(10, dtype=np.int64), 48000))
    with pytest.raises(TypeError, match="samples"):
        node.process((np.array(["a", "b"]), 48000))
    with pytest.raises(ValueError, match="samples"):
        node.process((np.zeros((1, 2, 3), dtype=np.float32), 48000))
    with pytest.raises(ValueError, match="sample_rate"):
        node.process((np.zeros(10, dtype=np.float32), -48000))
    with pytest.raises(TypeError, match="sample_rate"):
        node.process((np.zeros(10, dtype=np.float32), "48k"))
    with pytest.raises(TypeError, match="data"):
        node.process(np.zeros(10, dtype=np.float32))


def test_bad_node_params() -> None:
    with pytest.raises(ValueError, match="quality"):
        AudioResampleNode(quality="ultra")
    with pytest.raises(ValueError, match="target_sample_rate"):
        AudioResampleNode(target_sample_rate=-1)
    with pytest.raises(ValueError, match="target_sample_rate"):
        AudioResampleNode(target_sample_rate=10)
    with pytest.raises(ValueError, match="target_format"):
        FormatConverterNode(target_format="f64")
    with pytest.raises(ValueError, match="frame_duration_ms"):
        VADNode(frame_duration_ms=25)
    with pytest.raises(ValueError, match="mode"):
        VADNode(mode="loud")
    with pytest.raises(ValueError, match="energy_threshold"):
        VADNode(energy_threshold=-1)
    with pytest.raises(ValueError, match="factor"):
        MultiplyNode(factor=float("nan"))
    with pytest.raises(ValueError, match="on_failure"):
        AddNode(on_failure="explode")


def test_other_dtypes_are_converted_once() -> None:
    node = FormatConverterNode(target_format="f32")
    x64 = np.linspace(-1, 1, 11)
    out, _ = node.process((x64, 8000))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, x64.astype(np.float32))
    strided = np.arange(20, dtype=np.float32)[::2]
    out, _ = node.process((strided, 8000))
    np.testing.assert_array_equal(out, strided)
    swapped = np.arange(4, dtype=">i2")
    out, _ = FormatConverterNode(target_format="i16").process((swapped, 8000))
    assert out.tolist() == [0, 1, 2, 3]


class FailsOnce(Node):
    """Raises a transient error on its first call, then doubles."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls = 0
        self.resets = 0

    def process(self, data: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            raise RetryableError("warming up")
        return data * 2

    def reset(self) -> None:
        self.resets += 1


def test_engine_retries_a_python_node_per_its_retry_field() -> None:
    node = FailsOnce(retry={"max_retries": 2, "initial_delay_ms": 1, "multiplier": 1.0})
    assert run(Pipeline([node]).run(21)) == 42
    assert node.calls == 2 and node.resets >= 1


def test_fatal_errors_are_not_retried() -> None:
    class Fatal(Node):
        def __init__(self) -> None:
            super().__init__(retry={"max_retries": 3, "initial_delay_ms": 1})
            self.calls = 0

        def process(self, data: Any) -> Any:
            self.calls += 1
            raise ValueError("bad input")

    fatal = Fatal()
    with pytest.raises(NodeError) as info:
        run(Pipeline([fatal]).run(1))
    assert fatal.calls == 1 and info.value.attempts == 1 and not info.value.is_transient


class FirstError(Exception):
    pass


class SecondError(Exception):
    pass


KINDS = {"first": FirstError, "second": SecondError}


class RaisesTogether(Node):
    """Waits for the other caller to be inside it too, then raises the
    exception its input names (``"first:7"`` raises ``FirstError("first:7")``):
    two failures of the same node at the same instant. Its breaker never
    opens, so every call raises."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(circuit_breaker={"failure_threshold": 1_000_000}, **kwargs)
        self.together = threading.Barrier(2)

    def process(self, data: Any) -> Any:
        self.together.wait(timeout=10)
        raise KINDS[data.split(":")[0]](data)


def _own_cause(err: NodeError, tag: str) -> str | None:
    """Why ``err`` is not the report of the exception raised for ``tag``
    (``None`` when it is)."""
    cause = err.__cause__
    kind = KINDS[tag.split(":")[0]]
    if type(cause) is not kind or str(cause) != tag:
        return f"{tag}: cause {cause!r}"
    if err.exception_type != kind.__qualname__ or f"{kind.__name__}: {tag}" not in (err.traceback or ""):
        return f"{tag}: exception_type {err.exception_type!r}, traceback {err.traceback!r}"
    return None


ROUNDS = 100


def test_concurrent_runs_each_get_their_own_python_exception() -> None:
    node = RaisesTogether(name="raiser")
    p = Pipeline([node])
    wrong: list[str] = []

    def caller(kind: str) -> None:
        for i in range(ROUNDS):
            tag = f"{kind}:{i}"
            try:
                run(p.run(tag))
                wrong.append(f"{tag}: no error")
            except NodeError as err:
                problem = _own_cause(err, tag)
                if problem:
                    wrong.append(problem)

    p._native_pipeline()  # compiled once, shared by both threads
    threads = [threading.Thread(target=caller, args=(kind,)) for kind in KINDS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not wrong, f"{len(wrong)} of {2 * ROUNDS} errors misattributed, e.g. {wrong[:3]}"


def test_concurrent_sessions_each_get_their_own_python_exception() -> None:
    p = Pipeline([RaisesTogether(name="raiser")])

    async def one(tag: str) -> str | None:
        async with p.open_session() as session:
            await session.send(tag)
            try:
                await session.recv()
            except NodeError as err:
                return _own_cause(err, tag)
        return f"{tag}: no error"

    async def main() -> list[str]:
        wrong: list[str] = []
        for i in range(ROUNDS):
            results = await asyncio.gather(*(one(f"{kind}:{i}") for kind in KINDS))
            wrong.extend(r for r in results if r)
        return wrong

    wrong = run(main())
    assert not wrong, f"{len(wrong)} of {2 * ROUNDS} errors misattributed, e.g. {wrong[:3]}"


class Custom(Node):
    def process(self, data: Any) -> Any:
        return data


@pytest.mark.parametrize(
    ("params", "path", "why"),
    [
        ({"gain": float("nan")}, "nodes[0].params.gain", "not a JSON number"),
        ({"levels": [1.0, float("inf")]}, "nodes[0].params.levels[1]", "not a JSON number"),
        ({"model": {"path": object()}}, "nodes[0].params.model.path", "cannot be written"),
        ({"when": {("a", 1): "x"}}, "nodes[0].params.when", "cannot be a JSON key"),
    ],
)
def test_unwritable_params_name_the_node_and_the_param(params: dict[str, Any], path: str, why: str) -> None:
    """Issue 14.15: a NaN or an object JSON cannot hold, in a Python node's
    params, is a PipelineError with its path and node id (it was a JSON syntax
    error at a column, or a bare TypeError)."""
    p = Pipeline([Custom(name="mine", **params)])
    for attempt in (p.serialize, lambda: run(p.run(1))):
        with pytest.raises(PipelineError) as info:
            attempt()
        assert str(info.value).startswith(f"{path}: ") and why in str(info.value)
        assert "'mine_0'" in str(info.value)
        [problem] = info.value.problems
        assert problem["path"] == path and problem["node_id"] == "mine_0" and why in problem["message"]
