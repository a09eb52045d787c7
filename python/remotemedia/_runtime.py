"""The native extension every pipeline runs on, and what it tells Python.

``remotemedia._native`` is the engine: without it nothing runs, so importing
``remotemedia`` without it is one ``ImportError`` that says how to get it.
"""

from __future__ import annotations

import atexit
import json
import math
import os
from typing import Any

try:
    from remotemedia import _native as native
except ImportError as exc:  # a source tree or a wheel built without the extension
    raise ImportError(
        "remotemedia needs its native engine (remotemedia._native), which is not importable here "
        f"({exc}). Install a wheel (`pip install remotemedia`), or build it from the repository with "
        "`pip install .` (needs Rust: https://rustup.rs)."
    ) from exc


def is_rust_runtime_available() -> bool:
    """True: the engine is always there (``import remotemedia`` fails without
    it). Kept for scripts of the older SDK that ask."""
    return True


def has_native(node_type: str) -> bool:
    """True when the engine can build ``node_type`` as native code."""
    return bool(native.has_native(node_type))


def resolve_params(node_type: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` checked by the engine's own definition of ``node_type``'s
    params, with every unset value filled in as the native node uses it.
    A problem is a ``ValueError`` naming the param."""
    for name, value in params.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{name}: must be a finite number, got {value}")
    return dict(json.loads(native.resolve_params(node_type, json.dumps(params))))


def _shut_down() -> None:
    """At exit: stop Python node calls the engine still runs, so no engine
    thread is inside Python when the interpreter goes away."""
    native.shut_down(_EXIT_GRACE_S)


#: How long exit waits for interrupted Python node calls to return.
_EXIT_GRACE_S = 2.0

atexit.register(_shut_down)
if hasattr(os, "register_at_fork"):
    # Engine threads do not survive fork: the child starts its own.
    os.register_at_fork(after_in_child=native.after_fork_in_child)


def version() -> str:
    """The package version: the extension's (the Cargo workspace version,
    which maturin also gives the wheel)."""
    return str(native.__version__)


def set_worker_threads(n: int) -> None:
    """Sets how many worker threads the engine's runtime starts (default: the
    machine's available parallelism, or ``REMOTEMEDIA_WORKER_THREADS``).
    Call it before the first pipeline runs; later it raises ``ValueError``, as
    does a count outside 1..1024."""
    native.set_worker_threads(n)


def worker_threads() -> int:
    """The engine runtime's worker count."""
    return int(native.worker_threads())
