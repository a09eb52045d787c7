"""Without the native extension: one clear ImportError naming the fix."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import run_python

SOURCE_TREE = Path(__file__).resolve().parent.parent / "python"


def test_import_without_the_extension_names_the_fix() -> None:
    # The package's source tree has no compiled extension: importing it from
    # there is what an interpreter without the extension sees.
    assert not list((SOURCE_TREE / "remotemedia").glob("_native*.so"))
    result = run_python(
        "import remotemedia",
        PYTHONPATH=os.pathsep.join([str(SOURCE_TREE), os.environ.get("PYTHONPATH", "")]),
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: remotemedia needs its native engine"), result.stderr
    assert "pip install" in last, last


def test_remotemedia_runtime_needs_the_extension() -> None:
    ok = run_python("import remotemedia_runtime; print(remotemedia_runtime.__version__)")
    assert ok.returncode == 0 and ok.stdout.strip(), ok.stderr
