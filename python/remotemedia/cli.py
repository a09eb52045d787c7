"""The ``remotemedia`` command after ``pip install``: the console script and
``python -m remotemedia`` run the Rust CLI itself (``remotemedia._native.cli_main``),
so the subcommands, options and messages are the ones of the Rust binary."""

from __future__ import annotations

import signal
import sys
import threading

from remotemedia import _runtime


def main(argv: list[str] | None = None) -> int:
    """Runs the command with ``argv`` (default: ``sys.argv[1:]``); returns the
    exit status. Ctrl-C ends the command as it ends the Rust binary."""
    native = _runtime.native
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.stdout.flush()
    return int(native.cli_main(sys.argv[1:] if argv is None else list(argv)))
