"""Manifest text is read by the engine's own strict reader, as the CLI reads
it: the same YAML means the same thing in Rust and Python, and hostile or
careless documents are refused with the path of what was wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run
from remotemedia import Pipeline, PipelineError
from remotemedia._runtime import native

DATA = Path(__file__).parent / "data"


def test_yaml_1_1_spellings_read_as_in_rust() -> None:
    # crates/remotemedia-core/tests/document.rs reads the same pair.
    expected = json.loads((DATA / "yaml_traps.json").read_text())
    assert native is not None
    assert json.loads(native.parse_manifest_text((DATA / "yaml_traps.yaml").read_text(), "yaml")) == expected
    p = Pipeline.from_yaml(DATA / "yaml_traps.yaml")
    m = p.to_manifest()
    assert m["metadata"]["name"] == "on"
    assert [n["id"] for n in m["nodes"]] == ["yes", "off"]
    assert run(p.run(2)) == 2 * 1000.0 + 777.0


def test_billion_laughs_is_refused(tmp_path: Path) -> None:
    lines = ["version: v1", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    lines += ["nodes: [{id: x, node_type: PassThroughNode, params: {p: *a9}}]"]
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(PipelineError, match="alias"):
        Pipeline.from_yaml(path)


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("version: v1\nnodes: " + "{a: " * 60_000)
    with pytest.raises(PipelineError, match="nested deeper than 64 levels") as info:
        Pipeline.from_yaml(path)
    assert info.value.problems[0]["path"].startswith("nodes.a.a")


@pytest.mark.parametrize("spelling", [".nan", ".inf", "-.inf", "1e999"])
def test_non_finite_numbers_are_refused_with_the_path(tmp_path: Path, spelling: str) -> None:
    path = tmp_path / "nan.yaml"
    path.write_text(f"version: v1\nnodes:\n  - id: m\n    node_type: AddNode\n    timeout_ms: {spelling}\n")
    with pytest.raises(PipelineError, match="not a finite number") as info:
        Pipeline.from_yaml(path)
    assert info.value.problems[0]["path"] == "nodes[0].timeout_ms"


def test_duplicate_keys_are_refused_in_json_and_yaml(tmp_path: Path) -> None:
    text = '{"version": "v1", "nodes": [{"id": "m", "node_type": "AddNode", "params": {"addend": 1, "addend": 2}}]}'
    with pytest.raises(PipelineError) as info:
        Pipeline.from_manifest(text)
    assert info.value.problems[0]["path"] == "nodes[0].params.addend"
    path = tmp_path / "dup.yaml"
    path.write_text("version: v1\nnodes:\n  - id: m\n    node_type: AddNode\n    params: {addend: 1, addend: 2}\n")
    with pytest.raises(PipelineError, match="duplicate key") as info:
        Pipeline.from_yaml(path)
    assert info.value.problems[0]["path"] == "nodes[0].params.addend"
