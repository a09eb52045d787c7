"""``Node``: the base class of every pipeline step."""

from __future__ import annotations

import inspect
import warnings
from typing import Any, ClassVar

# Re-exported: its older home.
from remotemedia.core.remote_config import RemoteExecutorConfig as RemoteExecutorConfig

_RESILIENCE_FIELDS = ("retry", "timeout_ms", "on_failure", "circuit_breaker")
_ON_FAILURE = ("fail", "skip", "passthrough")
_RUNTIME_HINTS = ("auto", "rust", "python", "rust_native", "rust_python", "cpython")

#: Every ``Node`` subclass by class name, so a manifest can name user nodes.
NODE_CLASSES: dict[str, type[Node]] = {}

#: Keyword arguments every node takes besides its params.
_NODE_KWARGS = frozenset((*_RESILIENCE_FIELDS, "runtime_hint", "name"))

_warned_inert: set[tuple[str, str]] = set()


def split_inert(node_type: str, kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Splits a built-in node's extra constructor kwargs into the node fields
    (``retry``, ``timeout_ms``...) and the *inert* ones: kwargs the older SDK
    accepted and ignored (``VADNode(aggressiveness=3)``). Inert kwargs are
    kept in ``config`` but have no effect and stay out of manifests (which are
    strict); each name is warned about once per node type."""
    fields = {k: v for k, v in kwargs.items() if k in _NODE_KWARGS}
    inert = {k: v for k, v in kwargs.items() if k not in _NODE_KWARGS}
    for key in inert:
        if (node_type, key) not in _warned_inert:
            _warned_inert.add((node_type, key))
            warnings.warn(
                f"{node_type}: {key}={inert[key]!r} has no effect on this node (kept in config, "
                "left out of the manifest)",
                UserWarning,
                stacklevel=4,
            )
    return fields, inert


class Node:
    """A processing step.

    ``Node(name=None, **kwargs)``: ``name`` defaults to the class name and the
    keyword arguments are the node's params (``self.config``), except the
    manifest fields ``retry`` (dict), ``timeout_ms``, ``on_failure``
    (``"fail"``, ``"skip"``, ``"passthrough"``), ``circuit_breaker`` (dict) and
    ``runtime_hint`` (``"auto"``, ``"rust"``, ``"python"``).

    Subclasses override ``process(data)`` (sync or async); ``initialize``,
    ``cleanup`` (sync or async) and ``flush`` (for streaming nodes: returns
    what the node still holds, or ``None``) are optional. Returning ``None``
    from ``process`` means "no output for this input".

    Inside the Rust engine a node runs through CPython: the engine calls this
    very instance, so attributes it sets are visible afterwards.
    """

    #: The native node type this class stands for (set by built-in nodes).
    native_type: ClassVar[str | None] = None
    #: False for a built-in node with no Python implementation (file
    #: readers and writers): it runs natively with ``use_rust=False`` too.
    has_python_implementation: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        NODE_CLASSES[cls.__name__] = cls

    def __init__(
        self,
        name: str | None = None,
        *,
        retry: dict[str, Any] | None = None,
        timeout_ms: int | None = None,
        on_failure: str | None = None,
        circuit_breaker: dict[str, Any] | None = None,
        runtime_hint: str = "auto",
        **kwargs: Any,
    ) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name: expected a string, got {type(name).__name__}")
        if on_failure is not None and on_failure not in _ON_FAILURE:
            raise ValueError(f"on_failure: expected one of {', '.join(_ON_FAILURE)}, got {on_failure!r}")
        if runtime_hint not in _RUNTIME_HINTS:
            raise ValueError(f"runtime_hint: expected 'auto', 'rust' or 'python', got {runtime_hint!r}")
        if timeout_ms is not None and (not isinstance(timeout_ms, int) or timeout_ms <= 0):
            raise ValueError(f"timeout_ms: expected a positive integer, got {timeout_ms!r}")
        self.name: str = name or type(self).__name__
        self.config: dict[str, Any] = dict(kwargs)
        self.retry = retry
        self.timeout_ms = timeout_ms
        self.on_failure = on_failure
        self.circuit_breaker = circuit_breaker
        self.runtime_hint = _canonical_hint(runtime_hint)
        self.is_initialized = False
        #: Constructor kwargs kept in ``config`` that have no effect (see
        #: :func:`split_inert`); left out of the manifest.
        self.inert_params: frozenset[str] = frozenset()

    def keep_inert(self, inert: dict[str, Any]) -> None:
        """Records ``inert`` kwargs (see :func:`split_inert`) in ``config``."""
        self.config.update(inert)
        self.inert_params = self.inert_params | frozenset(inert)

    def params(self) -> dict[str, Any]:
        """The node's params as the manifest holds them: ``config`` without
        the inert kwargs."""
        return {k: v for k, v in self.config.items() if k not in self.inert_params}

    def process(self, data: Any) -> Any:
        """Processes one input; returns the output (``None`` for none)."""
        raise NotImplementedError(f"{type(self).__name__} must implement process()")

    def initialize(self) -> Any:
        """Prepares the node (load models, open connections). Sync or async."""
        return None

    def cleanup(self) -> Any:
        """Releases what ``initialize`` took. Sync or async."""
        return None

    def flush(self) -> Any:
        """Ends a stream: returns what the node still holds, or ``None``."""
        return None

    def reset(self) -> None:
        """Forgets stream state (called before a retry, or on a discontinuity)."""

    @property
    def node_type(self) -> str:
        """The manifest ``node_type``: the class name."""
        return type(self).__name__

    def to_manifest(self, node_id: str | None = None) -> dict[str, Any]:
        """This node as a manifest entry: ``{"id", "node_type", "params", ...}``."""
        entry: dict[str, Any] = {
            "id": node_id or self.name,
            "node_type": self.node_type,
            "params": self.params(),
            "runtime_hint": self.runtime_hint,
        }
        for field in _RESILIENCE_FIELDS:
            value = getattr(self, field)
            if value is not None:
                entry[field] = value
        return entry

    def runs_natively(self) -> bool:
        """True when the engine should run this node as native code rather
        than call this Python instance."""
        return self.is_builtin() and self.runtime_hint != "python"

    def is_builtin(self) -> bool:
        """True for an instance of a built-in node class itself (not of a
        subclass of yours, which runs as Python)."""
        return type(self).__dict__.get("native_type") is not None

    def split_data_metadata(self, data: Any) -> tuple[Any, dict[str, Any] | None]:
        """``(payload, metadata)`` for data that carries metadata as
        ``(payload, metadata_dict)``; ``(data, None)`` for anything else."""
        if isinstance(data, tuple) and len(data) == 2 and isinstance(data[1], dict):
            return data[0], data[1]
        return data, None

    def merge_data_metadata(self, data: Any, metadata: dict[str, Any] | None) -> Any:
        """The inverse of :meth:`split_data_metadata`: ``(data, metadata)``,
        or ``data`` alone when there is no metadata."""
        return data if metadata is None else (data, metadata)

    def python_step(self, clips: bool) -> Node:
        """What the engine calls when this node runs as Python in one run
        (``clips``: each input a whole clip) or one session (a stream): this
        very instance, for nodes of your own. A built-in node returns a fresh
        instance running its Python implementation (``use_rust=False``,
        ``runtime_hint="python"``), as the engine builds native nodes anew
        per run."""
        return self

    def engine_outputs(self, value: Any) -> list[Any]:
        """The outputs of one ``process`` or ``flush`` call that returned
        ``value``: none for ``None``, else ``value`` itself."""
        return [] if value is None else [value]

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.config.items())
        return f"{type(self).__name__}(name={self.name!r}{', ' if params else ''}{params})"


def _canonical_hint(hint: str) -> str:
    return {"rust_native": "rust", "rust_python": "python", "cpython": "python"}.get(hint, hint)


async def maybe_await(value: Any) -> Any:
    """Awaits ``value`` when it is awaitable (sync and async hooks both work)."""
    if inspect.isawaitable(value):
        return await value
    return value
