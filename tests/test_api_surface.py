"""The package surface (the names the README's Python section documents), and the stubs."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import remotemedia
from remotemedia import _native

API = [
    "Pipeline",
    "Node",
    "RemoteMediaError",
    "PipelineError",
    "NodeError",
    "RetryableError",
    "is_rust_runtime_available",
    "__version__",
    "AudioResampleNode",
    "VADNode",
    "FormatConverterNode",
    "PassThroughNode",
    "MultiplyNode",
    "AddNode",
]


def test_top_level_exports() -> None:
    for name in API:
        assert hasattr(remotemedia, name), name
    assert remotemedia.is_rust_runtime_available() is True
    assert isinstance(remotemedia.__version__, str)


def test_module_paths() -> None:
    from remotemedia.core.node import Node
    from remotemedia.core.pipeline import Pipeline
    from remotemedia.core.session import StreamSession
    from remotemedia.nodes import AudioResampleNode as A1
    from remotemedia.nodes.audio import AudioResampleNode, FormatConverterNode, VADNode
    from remotemedia.nodes.base import PassThroughNode
    from remotemedia.nodes.simple_math import AddNode, MultiplyNode

    assert Pipeline is remotemedia.Pipeline and Node is remotemedia.Node
    assert StreamSession is remotemedia.StreamSession
    assert A1 is AudioResampleNode
    for cls in (AudioResampleNode, VADNode, FormatConverterNode, PassThroughNode, MultiplyNode, AddNode):
        assert issubclass(cls, Node)


def test_exception_hierarchy() -> None:
    assert issubclass(remotemedia.PipelineError, remotemedia.RemoteMediaError)
    assert issubclass(remotemedia.NodeError, remotemedia.RemoteMediaError)
    assert issubclass(remotemedia.RetryableError, remotemedia.NodeError)
    assert remotemedia.RetryableError("x").is_transient


def test_remotemedia_runtime_alias() -> None:
    runtime = importlib.import_module("remotemedia_runtime")
    assert runtime.__version__ == _native.__version__
    assert runtime.NativePipeline is _native.NativePipeline


def _stub_names(path: Path) -> dict[str, set[str]]:
    import ast

    tree = ast.parse(path.read_text())
    names: dict[str, set[str]] = {"": set()}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names[""].add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[""].add(node.target.id)
        if isinstance(node, ast.ClassDef):
            names[node.name] = {
                item.name for item in node.body if isinstance(item, ast.FunctionDef) and not item.name.startswith("__")
            }
    return names


def test_stub_names_match_the_module() -> None:
    stub = Path(remotemedia.__file__).parent / "_native.pyi"
    names = _stub_names(stub)
    public = {n for n in dir(_native) if not n.startswith("_")} | {"__version__"}
    assert names[""] == public
    for cls_name, methods in names.items():
        if not cls_name:
            continue
        cls = getattr(_native, cls_name)
        actual = {n for n, _ in inspect.getmembers(cls) if not n.startswith("__")}
        assert methods == actual, cls_name


def test_typed_marker_shipped() -> None:
    assert (Path(remotemedia.__file__).parent / "py.typed").exists()


def test_mypy_stubtest_accepts_the_stubs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "remotemedia._native", "--ignore-missing-stub"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
