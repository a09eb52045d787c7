"""The ``remotemedia`` command after ``pip install``: the console script and
``python -m remotemedia`` run the Rust CLI (one implementation)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import remotemedia

ROOT = Path(__file__).parent.parent
SCRIPT = Path(sys.executable).parent / "remotemedia"


def command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)


def test_python_m_remotemedia_validate() -> None:
    out = command(sys.executable, "-m", "remotemedia", "validate", "examples/speech_prep.json")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("examples/speech_prep.json: valid (")


def test_console_script_lists_the_nodes() -> None:
    assert SCRIPT.exists(), "pip install did not create the console script"
    out = command(str(SCRIPT), "nodes", "--json")
    assert out.returncode == 0, out.stderr
    names = {t["name"] for t in json.loads(out.stdout)}
    assert {"AudioResampleNode", "VADNode", "FormatConverterNode"} <= names


def test_refusals_and_usage_errors_keep_their_exit_status(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: v1\nnodes:\n  - id: m\n    node_type: AddNode\n    params: {addend: 1, addend: 2}\n")
    out = command(str(SCRIPT), "validate", str(bad))
    assert out.returncode == 1
    assert "nodes[0].params.addend: duplicate key" in out.stderr
    out = command(str(SCRIPT), "no-such-command")
    assert out.returncode == 2
    assert "unrecognized subcommand" in out.stderr


def test_version_is_the_package_version() -> None:
    out = command(sys.executable, "-m", "remotemedia", "--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"remotemedia {remotemedia.__version__}"
