"""What a packager and an operator rely on: one version everywhere, and the
engine runtime's worker count taken from the machine and settable."""

from __future__ import annotations

import importlib.metadata
import os
import re
from pathlib import Path

import pytest

import remotemedia
from conftest import run_python
from remotemedia import _native

ROOT = Path(__file__).parent.parent


def test_version_is_single_sourced_from_the_cargo_workspace() -> None:
    cargo = (ROOT / "Cargo.toml").read_text()
    workspace = re.search(r'\[workspace\.package\][^\[]*?\nversion = "([^"]+)"', cargo)
    assert workspace is not None
    assert remotemedia.__version__ == _native.__version__ == workspace.group(1)
    assert importlib.metadata.version("remotemedia") == workspace.group(1)


def test_worker_threads_default_to_the_machine() -> None:
    out = run_python("import remotemedia; print(remotemedia.worker_threads())", REMOTEMEDIA_WORKER_THREADS="")
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == len(os.sched_getaffinity(0))


def test_worker_threads_from_the_environment() -> None:
    code = (
        "import asyncio, remotemedia\n"
        "asyncio.run(remotemedia.Pipeline([remotemedia.AddNode(addend=1)]).run(1))\n"
        "print(remotemedia.worker_threads())"
    )
    out = run_python(code, REMOTEMEDIA_WORKER_THREADS="3")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "3"


def test_a_bad_worker_count_in_the_environment_fails_the_import_clearly() -> None:
    out = run_python("import remotemedia", REMOTEMEDIA_WORKER_THREADS="lots")
    assert out.returncode != 0
    assert 'REMOTEMEDIA_WORKER_THREADS="lots": expected a whole number from 1 to 1024' in out.stderr


def test_set_worker_threads_before_first_use_only() -> None:
    code = (
        "import asyncio, remotemedia\n"
        "remotemedia.set_worker_threads(5)\n"
        "asyncio.run(remotemedia.Pipeline([remotemedia.AddNode(addend=1)]).run(1))\n"
        "print(remotemedia.worker_threads())\n"
        "try:\n"
        "    remotemedia.set_worker_threads(2)\n"
        "except ValueError as e:\n"
        "    print(e)\n"
    )
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "5"
    assert lines[1].startswith("worker threads: the runtime already runs with 5 workers")


def test_set_worker_threads_refuses_absurd_counts() -> None:
    with pytest.raises(ValueError, match="expected 1 to 1024, got 0"):
        remotemedia.set_worker_threads(0)
    with pytest.raises(ValueError, match="expected 1 to 1024"):
        remotemedia.set_worker_threads(100_000)
