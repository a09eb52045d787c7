"""The exceptions of the RemoteMedia SDK.

``RemoteMediaError`` is the base of everything the SDK raises on purpose:

- ``PipelineError``: the pipeline or manifest is wrong (found before running);
  ``problems`` lists each problem with its JSON path and node id.
- ``NodeError``: a node failed while running; ``node_id`` names it and
  ``error_class`` is ``"transient"`` or ``"fatal"``. The node's own exception,
  if it was a Python node, is the ``__cause__``; ``exception_type`` is its
  type's name and ``traceback`` the text of its original traceback.
- ``RetryableError``: raise it from your own node to ask for a retry (it is a
  transient ``NodeError``, like ``TimeoutError`` and ``ConnectionError``).
- ``RemoteExecutionError``: a call to a ``remotemedia serve`` server failed
  (a ``NodeError``: ``error_class`` says whether another attempt may work;
  ``endpoint`` and ``code``, the gRPC status name, say where and how).
- ``ConfigurationError``: a remote execution setting is wrong (a bad port,
  timeout or protocol), found before anything is sent.
- ``Interrupted`` (a ``BaseException``): raised *inside* a Python node's code
  when the engine gave up on the call, so the abandoned work stops.

Bad arguments (a wrong dtype, a negative sample rate, an unknown quality)
raise the built-in ``ValueError`` or ``TypeError``, naming the argument.
"""

from __future__ import annotations

from typing import Any


class RemoteMediaError(Exception):
    """Base class of the SDK's exceptions."""


class PipelineError(RemoteMediaError):
    """The pipeline or its manifest was refused (before any node ran)."""

    def __init__(self, message: str, problems: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.problems: list[dict[str, Any]] = list(problems or [])


class NodeError(RemoteMediaError):
    """A node failed while running."""

    def __init__(
        self,
        message: str = "",
        node_id: str | None = None,
        error_class: str = "fatal",
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.node_id = node_id
        self.error_class = error_class
        self.attempts = attempts
        #: The type name of the Python node's own exception (``"ValueError"``),
        #: or ``None`` when no Python exception caused this.
        self.exception_type: str | None = None
        #: The original traceback of that exception, formatted.
        self.traceback: str | None = None

    @property
    def is_transient(self) -> bool:
        """True when the failure was worth retrying."""
        return self.error_class == "transient"


class RetryableError(NodeError):
    """Raised by a node to ask the engine to retry the call (transient)."""

    def __init__(self, message: str = "", node_id: str | None = None, attempts: int = 1) -> None:
        super().__init__(message, node_id=node_id, error_class="transient", attempts=attempts)


class RemoteExecutionError(NodeError):
    """A call to a remote server failed (see the module docs)."""

    def __init__(
        self,
        message: str = "",
        node_id: str | None = None,
        error_class: str = "fatal",
        attempts: int = 1,
    ) -> None:
        super().__init__(message, node_id=node_id, error_class=error_class, attempts=attempts)
        #: The server (``host:port``), when known.
        self.endpoint: str | None = None
        #: The gRPC status code's name (``"Unavailable"``), when the call
        #: ended with one.
        self.code: str | None = None


class ConfigurationError(RemoteMediaError):
    """A remote execution setting is wrong."""


class Interrupted(BaseException):
    """Raised inside a Python node's own code when the engine gave up on the
    call (its ``timeout_ms`` passed, or the run was cancelled), so abandoned
    work stops. It derives from ``BaseException`` so that a node's
    ``except Exception`` does not swallow it; let it propagate."""


class NativeRuntimeUnavailableError(RemoteMediaError):
    """Kept for scripts of the older SDK that catch it. The engine itself is
    never unavailable here (``import remotemedia`` fails without it); this is
    raised where something else native is missing, e.g. a node type this
    build does not have."""


__all__ = [
    "ConfigurationError",
    "Interrupted",
    "NativeRuntimeUnavailableError",
    "NodeError",
    "PipelineError",
    "RemoteExecutionError",
    "RemoteMediaError",
    "RetryableError",
]
