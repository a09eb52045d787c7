"""Finding the native extension, and saying once when it is not there.

Set ``REMOTEMEDIA_DISABLE_NATIVE=1`` to run everything in pure Python even when
the extension is installed (the tests use it to check the fallback).
"""

from __future__ import annotations

import atexit
import os
import threading
import warnings
from types import ModuleType

from remotemedia.exceptions import NativeRuntimeUnavailableError

native: ModuleType | None
import_error: str | None

if os.environ.get("REMOTEMEDIA_DISABLE_NATIVE", "") not in ("", "0"):
    native = None
    import_error = "disabled by REMOTEMEDIA_DISABLE_NATIVE"
else:
    try:
        from remotemedia import _native as native

        import_error = None
    except ImportError as exc:  # the wheel was built without the extension
        native = None
        import_error = str(exc)

_warned = False
_lock = threading.Lock()


def is_rust_runtime_available() -> bool:
    """True when the native extension ``remotemedia._native`` is loaded."""
    return native is not None


def native_module() -> ModuleType:
    """The native extension (only called where it is known to be loaded)."""
    if native is None:
        raise NativeRuntimeUnavailableError(f"the native runtime is not available: {import_error}")
    return native


def _shut_down() -> None:
    """At exit: stop Python node calls the engine still runs, so no engine
    thread is inside Python when the interpreter goes away."""
    if native is not None:
        native.shut_down(_EXIT_GRACE_S)


#: How long exit waits for interrupted Python node calls to return.
_EXIT_GRACE_S = 2.0

atexit.register(_shut_down)
if native is not None and hasattr(os, "register_at_fork"):
    # Engine threads do not survive fork: the child starts its own.
    os.register_at_fork(after_in_child=native.after_fork_in_child)


def has_native(node_type: str) -> bool:
    """True when the native registry can build ``node_type``."""
    return native is not None and native.has_native(node_type)


def warn_fallback(what: str) -> None:
    """Warns, once per process, that ``what`` runs in pure Python."""
    global _warned
    with _lock:
        if _warned:
            return
        _warned = True
    reason = import_error or "this build has no native implementation of it"
    warnings.warn(
        f"remotemedia: {what} runs in pure Python (numpy), slower than the native "
        f"runtime ({reason}). Further fallbacks are not reported.",
        RuntimeWarning,
        stacklevel=4,
    )


def require_native(node_type: str) -> None:
    """Raises when ``runtime_hint="rust"`` cannot be met for ``node_type``."""
    if native is None:
        raise NativeRuntimeUnavailableError(
            f"runtime_hint='rust' for {node_type} needs the native extension "
            f"remotemedia._native, which is not available: {import_error}"
        )
    if not native.has_native(node_type):
        raise NativeRuntimeUnavailableError(
            f"runtime_hint='rust': this build of remotemedia._native has no native implementation of {node_type}"
        )


def version() -> str:
    """The package version: the extension's (the Cargo workspace version,
    which maturin also gives the wheel), else the installed distribution's."""
    if native is not None:
        return str(native.__version__)
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("remotemedia")
    except PackageNotFoundError:
        return "unknown"


def set_worker_threads(n: int) -> None:
    """Sets how many worker threads the engine's runtime starts (default: the
    machine's available parallelism, or ``REMOTEMEDIA_WORKER_THREADS``).
    Call it before the first pipeline runs; later it raises ``ValueError``, as
    does a count outside 1..1024. Pure-Python runs use no engine workers, so
    without the extension it only checks ``n``."""
    if native is not None:
        native.set_worker_threads(n)
    elif not 1 <= n <= 1024:
        raise ValueError(f"worker threads: expected 1 to 1024, got {n}")


def worker_threads() -> int | None:
    """The engine runtime's worker count (``None`` without the extension)."""
    return None if native is None else int(native.worker_threads())
