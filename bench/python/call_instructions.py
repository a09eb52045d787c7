"""Instructions per direct native node call from Python, counted by valgrind.

    python3 bench/python/call_instructions.py [PYTHON ...]

For each interpreter given (default: this one), runs a script making 0 and
N calls of ``FormatConverterNode(target_format="f32").process`` on a
480-sample frame (the call's fixed cost: the node does no work) under
``valgrind --tool=callgrind`` and prints the slope, instructions per call.
Counts do not depend on the machine's load, so two builds (e.g. with and
without the stable ABI, each installed in its own virtualenv) compare
exactly where wall-clock time on a shared machine cannot.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

CALLS = 36_000

SCRIPT = """
import sys
import numpy as np
from remotemedia import FormatConverterNode
data = (np.zeros(480, dtype=np.float32), 16000)
node = FormatConverterNode(target_format="f32")
for _ in range(int(sys.argv[1])):
    node.process(data)
"""


def instructions(python: str, calls: int, script: Path, out: Path) -> int:
    """Instructions valgrind counted for ``calls`` calls (startup included)."""
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", python, str(script), str(calls)],
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", result.stderr)
    if found is None:
        raise RuntimeError(f"valgrind printed no count: {result.stderr[-500:]}")
    return int(found.group(1))


def main() -> None:
    pythons = sys.argv[1:] or [sys.executable]
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "calls.py"
        script.write_text(SCRIPT)
        for python in pythons:
            base = instructions(python, 0, script, Path(tmp) / "base.out")
            full = instructions(python, CALLS, script, Path(tmp) / "full.out")
            abi = subprocess.run(
                [python, "-c", "import remotemedia._native as n; print(n.__file__.rsplit('/', 1)[-1])"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            print(f"{python}: {(full - base) / CALLS:.0f} instructions per call ({abi})")


if __name__ == "__main__":
    main()
