"""``Pipeline``: nodes in order, run on the Rust engine."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import math
import os
import queue
import threading
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from remotemedia import _runtime
from remotemedia.core.adapter import EngineAdapter, await_on_node_loop
from remotemedia.core.node import NODE_CLASSES, Node
from remotemedia.core.session import StreamSession
from remotemedia.exceptions import PipelineError

_NODE_FIELDS = ("id", "node_type", "params", "runtime_hint", "retry", "timeout_ms", "on_failure", "circuit_breaker")


class Pipeline:
    """An ordered list of nodes: each node's output is the next node's input.

    ``await run(...)``, ``process(...)`` and sessions run it on the Rust
    engine, the only executor. Built-in nodes run as native code (with
    ``use_rust=False``, as their Python implementations); any other node
    (your own subclasses) runs inside the engine through CPython, as the very
    instance you built.
    """

    def __init__(self, nodes: list[Node] | None = None, name: str | None = None, enable_metrics: bool = False) -> None:
        self.name: str = name or "pipeline"
        self.enable_metrics = enable_metrics
        self._nodes: list[Node] = []
        self._connections: list[dict[str, str]] | None = None
        self._ids: list[str] | None = None
        #: Compiled engine pipelines by ``use_rust``: (key, pipeline, adapters).
        self._compiled: dict[bool, tuple[str, Any, list[EngineAdapter]]] = {}
        self._metrics: dict[str, Any] | None = None
        self.is_initialized = False
        for node in nodes or []:
            self.add_node(node)

    # -- the node list ---------------------------------------------------

    def add_node(self, node: Node) -> Pipeline:
        """Appends ``node``; returns the pipeline (chainable)."""
        if not isinstance(node, Node):
            raise TypeError(f"node: expected a remotemedia Node, got {type(node).__name__}")
        self._nodes.append(node)
        self._changed()
        return self

    def get_node(self, name: str) -> Node | None:
        """The node with this name (or manifest id), if any."""
        for i, node in enumerate(self._nodes):
            if name in (node.name, self._node_id(i)):
                return node
        return None

    def remove_node(self, name: str) -> bool:
        """Removes the node with this name (or id); False if there is none."""
        for i, node in enumerate(self._nodes):
            if name in (node.name, self._node_id(i)):
                del self._nodes[i]
                self._changed()
                return True
        return False

    @property
    def nodes(self) -> list[Node]:
        """The nodes, in order (a copy)."""
        return list(self._nodes)

    @property
    def node_count(self) -> int:
        """Number of nodes."""
        return len(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(list(self._nodes))

    def __repr__(self) -> str:
        return f"Pipeline(name={self.name!r}, nodes={[n.name for n in self._nodes]!r})"

    def _changed(self) -> None:
        self._compiled = {}
        self._connections = None
        self._ids = None

    def _node_id(self, index: int) -> str:
        if self._ids is not None:
            return self._ids[index]
        return f"{self._nodes[index].name}_{index}"

    # -- manifests ---------------------------------------------------------

    def to_manifest(self) -> dict[str, Any]:
        """The v1 manifest, as a dict."""
        nodes = [node.to_manifest(self._node_id(i)) for i, node in enumerate(self._nodes)]
        if self._connections is not None:
            connections = list(self._connections)
        else:
            connections = [{"from": a["id"], "to": b["id"]} for a, b in itertools.pairwise(nodes)]
        return {"version": "v1", "metadata": {"name": self.name}, "nodes": nodes, "connections": connections}

    def serialize(self) -> str:
        """The v1 manifest JSON, with every node's params. A value JSON
        cannot hold (a NaN or infinity, an object of another type) is a
        ``PipelineError`` naming the node and the param."""
        return _manifest_json(self.to_manifest())

    @classmethod
    def from_manifest(cls, manifest: str | os.PathLike[str] | dict[str, Any]) -> Pipeline:
        """Builds a pipeline from a manifest: a dict, JSON text, or a path to
        a JSON or YAML file."""
        data = _load_manifest(manifest)
        return cls._from_dict(data)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> Pipeline:
        """Builds a pipeline from a YAML manifest file, read by the engine's own
        YAML 1.2 reader, as the CLI reads it (``on``/``no`` are strings;
        duplicate keys, ``.nan`` and alias bombs are refused)."""
        return cls._from_dict(_load_yaml(Path(path).read_text()))

    @classmethod
    def _from_dict(cls, data: Any) -> Pipeline:
        if not isinstance(data, dict):
            raise PipelineError("manifest: expected an object")
        if data.get("version") != "v1":
            raise PipelineError(f"version: unsupported manifest version {data.get('version')!r} (expected 'v1')")
        raw_nodes = data.get("nodes")
        if not isinstance(raw_nodes, list) or not raw_nodes:
            raise PipelineError("nodes: a manifest needs at least one node")
        name = (data.get("metadata") or {}).get("name")
        pipeline = cls(name=name)
        ids: list[str] = []
        for i, spec in enumerate(raw_nodes):
            pipeline._nodes.append(_node_from_spec(spec, i))
            ids.append(spec["id"])
        # As in the engine: a manifest without connections has unconnected
        # nodes; nothing is chained implicitly.
        connections = data.get("connections") or []
        # A loaded manifest keeps its own ids and connections (until a node is
        # added or removed).
        pipeline._ids = ids
        pipeline._connections = [dict(c) for c in connections]
        return pipeline

    # -- lifecycle ---------------------------------------------------------

    async def initialize(self) -> None:
        """Initializes every node (sync or async ``initialize``).

        With the native runtime, the async ``initialize`` of a node the
        engine runs through CPython is awaited on that node's own loop, where
        its ``process`` coroutines run: what it binds to a loop (sessions,
        queues) belongs to that loop."""
        for node in self._nodes:
            await self._hook(node, node.initialize())
            node.is_initialized = True
        self.is_initialized = True

    async def cleanup(self) -> None:
        """Cleans up every node (sync or async ``cleanup``), in reverse order
        (async ones of CPython-run nodes on their own loop, as ``initialize``)."""
        errors: list[BaseException] = []
        for node in reversed(self._nodes):
            try:
                await self._hook(node, node.cleanup())
            except Exception as exc:  # keep cleaning the others
                errors.append(exc)
            node.is_initialized = False
        self.is_initialized = False
        if errors:
            raise errors[0]

    @staticmethod
    async def _hook(node: Node, value: Any) -> Any:
        if not inspect.isawaitable(value):
            return value
        if not node.runs_natively():
            return await await_on_node_loop(node, _as_coroutine(value))
        return await value

    @asynccontextmanager
    async def managed_execution(self) -> AsyncIterator[Pipeline]:
        """``async with pipeline.managed_execution(): ...`` initializes the
        nodes on entry and cleans them up on exit."""
        await self.initialize()
        try:
            yield self
        finally:
            await self.cleanup()

    # -- running -----------------------------------------------------------

    async def run(self, input_data: Any = None, use_rust: bool = True) -> Any:
        """Runs ``input_data`` through the pipeline on the engine.

        A list is a sequence of items, each flowing through the pipeline on
        its own (a whole clip each); anything else is one item; ``None`` is
        no item. Returns the list of outputs when there are several, the
        single output when there is one, ``None`` when there is none.

        ``use_rust=False`` runs the built-in nodes' Python (numpy)
        implementations, inside the engine like any Python node (see
        ``remotemedia._numpy`` for how they compare).
        """
        if not self._nodes:
            raise PipelineError("the pipeline has no nodes")
        items = [] if input_data is None else list(input_data) if isinstance(input_data, list) else [input_data]
        native = self._native_pipeline(use_rust)
        # The engine appends this run's own metrics here once the run has
        # started (also when a node fails), so concurrent runs of this
        # pipeline never record each other's.
        metrics: list[dict[str, Any]] = []
        try:
            per_item = await _run_cancellable(native, items, metrics if self.enable_metrics else None)
        finally:
            if metrics:
                self._keep_metrics(metrics[0], use_rust)
        outputs = [o for item_outputs in per_item for o in item_outputs]
        if not outputs:
            return None
        return outputs[0] if len(outputs) == 1 else outputs

    async def process(self, stream: AsyncIterable[Any] | None = None, use_rust: bool = True) -> AsyncIterator[Any]:
        """Streams: every item of ``stream`` is the next chunk of one
        continuous stream (stateful nodes keep their state); outputs are
        yielded as they are produced, and the nodes are flushed at the end.

        Without ``stream``, the first node is the source: a native source
        (``MediaReaderNode``) yields its chunks through the whole pipeline on
        the engine; a Python node's ``process(None)`` returns an async
        iterator whose items stream through the rest of the pipeline.

        This is a :class:`StreamSession` (see :meth:`open_session`): a task
        reads ``stream`` into the session while the outputs are yielded. The
        session's queues are bounded, so a consumer that reads slowly slows
        the reading of ``stream`` (memory stays flat). Leaving the loop early
        cancels the stream. ``use_rust=False`` as in :meth:`run`."""
        if stream is None:
            async for out in self._process_from_source(use_rust):
                yield out
            return
        async with self._session(self._native_pipeline(use_rust), 16, 64, use_rust) as session:
            feeder = asyncio.ensure_future(_feed(session, stream))
            try:
                while (out := await session.recv()) is not None:
                    yield out
                await feeder
            finally:
                if not feeder.done():
                    feeder.cancel()
                    await asyncio.gather(feeder, return_exceptions=True)

    async def _process_from_source(self, use_rust: bool) -> AsyncIterator[Any]:
        if not self._nodes:
            raise PipelineError("the pipeline has no nodes")
        if self._connections is not None and self._first_node() != 0:
            raise PipelineError("pipeline.process() without a stream: the first node must be the source")
        first = self._nodes[0]
        if getattr(first, "is_source", False) and first.runs_natively():
            # A native source (MediaReaderNode) yields when the stream ends:
            # a session with no input, closed at once.
            async with self._session(self._native_pipeline(use_rust), 16, 64, use_rust) as session:
                await session.close()
                async for out in session:
                    yield out
            return
        wanted = (
            f"pipeline.process() without a stream: the first node ({first.name!r}) "
            "must return an async iterator from process(None)"
        )
        try:
            source = first.process(None)
            if inspect.isawaitable(source) and not hasattr(source, "__anext__"):
                source = await source
        except Exception as exc:
            raise PipelineError(f"{wanted}; it raised {type(exc).__name__}: {exc}") from exc
        if not hasattr(source, "__anext__"):
            raise PipelineError(f"{wanted}, got {type(source).__name__}")
        if len(self._nodes) == 1:
            async for item in source:
                yield item
            return
        rest = Pipeline(self._nodes[1:], name=self.name, enable_metrics=self.enable_metrics)
        async for out in rest.process(source, use_rust=use_rust):
            yield out
        self._metrics = rest._metrics

    def _first_node(self) -> int:
        """The index of the node no connection leads to (the first of a
        loaded manifest's chain)."""
        targets = {c.get("to") for c in self._connections or []}
        starts = [i for i in range(len(self._nodes)) if self._node_id(i) not in targets]
        return starts[0] if starts else 0

    def open_session(self, input_capacity: int = 16, output_capacity: int = 64) -> StreamSession:
        """A streaming session on the engine, for push/pull use from a
        coroutine: ``await session.send(chunk)``, ``await session.recv()``,
        ``await session.close()`` (see :class:`StreamSession`).

        At most ``input_capacity`` chunks wait to be processed and
        ``output_capacity`` outputs wait to be read; beyond that ``send``
        waits. Must be called with an event loop running."""
        if input_capacity < 1 or output_capacity < 1:
            raise ValueError("input_capacity and output_capacity: expected at least 1")
        return self._session(self._native_pipeline(True), input_capacity, output_capacity, True)

    def _session(self, native: Any, input_capacity: int, output_capacity: int, use_rust: bool) -> StreamSession:
        def keep(session: StreamSession) -> None:
            metrics = session.metrics()
            if metrics is not None:
                self._keep_metrics(metrics, use_rust)

        on_end = keep if self.enable_metrics else None
        return StreamSession(native.open_session(input_capacity, output_capacity), on_end)

    def get_metrics(self) -> dict[str, Any] | None:
        """Metrics of the last run (``enable_metrics=True``), else ``None``."""
        return self._metrics if self.enable_metrics else None

    def _native_pipeline(self, use_rust: bool = True) -> Any:
        """The compiled engine pipeline: built-in nodes natively
        (``use_rust``) or as their Python implementations; nodes of your own
        always as the very instances you built."""
        manifest = self.to_manifest()
        text = _manifest_json(manifest)
        key = f"{text}|" + ",".join(str(id(n)) for n in self._nodes)
        cached = self._compiled.get(use_rust)
        if cached is not None and cached[0] == key:
            return cached[1]
        python_nodes = {
            spec["id"]: EngineAdapter(node)
            for spec, node in zip(manifest["nodes"], self._nodes, strict=True)
            if not node.runs_natively() or (not use_rust and node.has_python_implementation)
        }
        compiled = _runtime.native.NativePipeline(text, python_nodes)
        self._compiled[use_rust] = (key, compiled, list(python_nodes.values()))
        return compiled

    # -- metrics -------------------------------------------------------------

    def _keep_metrics(self, metrics: dict[str, Any], use_rust: bool) -> None:
        """Keeps a run's or session's engine metrics as the last ones;
        ``runtime`` says which implementations of the built-in nodes ran."""
        self._metrics = {**metrics, "runtime": "rust" if use_rust else "python"}


def _manifest_json(manifest: dict[str, Any]) -> str:
    """``manifest`` as JSON text; a value JSON cannot hold is a
    ``PipelineError`` with its path and node id."""
    try:
        return json.dumps(manifest, allow_nan=False)
    except (TypeError, ValueError):
        pass
    for i, spec in enumerate(manifest["nodes"]):
        for field, value in spec.items():
            problem = _unwritable(value, f"nodes[{i}].{field}")
            if problem is not None:
                path, message = problem
                node_id = spec.get("id")
                raise PipelineError(
                    f"{path}: {message} (node {node_id!r})",
                    [{"path": path, "node_id": node_id, "message": message}],
                )
    raise PipelineError("the manifest cannot be written as JSON")


def _unwritable(value: Any, path: str) -> tuple[str, str] | None:
    """The path of the first value in ``value`` that JSON cannot hold, and
    why; ``None`` when everything can be written."""
    if value is None or isinstance(value, (bool, int, str)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, f"{value} is not a JSON number; give a finite value")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                return path, f"key {key!r} cannot be a JSON key"
            problem = _unwritable(item, f"{path}.{key}")
            if problem is not None:
                return problem
        return None
    if isinstance(value, (list, tuple)):
        for j, item in enumerate(value):
            problem = _unwritable(item, f"{path}[{j}]")
            if problem is not None:
                return problem
        return None
    return path, f"a {type(value).__name__} cannot be written to a manifest (use numbers, strings, lists and dicts)"


class _DaemonRunners:
    """Daemon threads that run engine runs, reused from run to run.

    Not the loop's default executor: its threads are joined at exit, and a
    run stuck in a Python node that cannot be interrupted (a long C call) must
    not keep ``asyncio.run`` or the interpreter from ending. A job waits for
    no other: when every thread is busy (or stuck), a new one starts; at most
    ``_IDLE_KEPT`` idle threads wait for work."""

    _IDLE_KEPT = 4

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._pid = os.getpid()

    def submit(self, job: Any) -> None:
        with self._lock:
            if self._pid != os.getpid():  # threads do not survive fork
                self._jobs, self._idle, self._pid = queue.SimpleQueue(), 0, os.getpid()
            start = self._idle == 0
            if not start:
                self._idle -= 1
        self._jobs.put(job)
        if start:
            threading.Thread(target=self._serve, name="remotemedia-run", daemon=True).start()

    def _serve(self) -> None:
        jobs = self._jobs
        while True:
            jobs.get()()
            with self._lock:
                if self._idle >= self._IDLE_KEPT or jobs is not self._jobs:
                    return
                self._idle += 1


_RUNNERS = _DaemonRunners()


async def _run_cancellable(native: Any, items: list[Any], metrics: list[dict[str, Any]] | None) -> Any:
    """``native.run(items, metrics)`` on a runner thread; cancelling the
    awaiting task cancels the run (its Python node calls are interrupted) and
    returns at once, without waiting for the thread."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()
    token = _runtime.native.RunToken()

    def settle(result: Any, error: BaseException | None) -> None:
        if done.done():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)

    def work() -> None:
        try:
            result, error = native.run(items, metrics, token), None
        except BaseException as exc:  # handed to the awaiting task
            result, error = None, exc
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:  # the caller's loop is closed: nobody waits
            pass

    _RUNNERS.submit(work)
    try:
        return await done
    except asyncio.CancelledError:
        token.cancel()
        raise


async def _feed(session: StreamSession, stream: AsyncIterable[Any]) -> None:
    """Sends every item of ``stream``, then ends the input."""
    try:
        async for item in stream:
            await session.send(item)
    finally:
        await session.close()


async def _as_coroutine(awaitable: Any) -> Any:
    return await awaitable


def _node_from_spec(spec: Any, index: int) -> Node:
    if not isinstance(spec, dict):
        raise PipelineError(f"nodes[{index}]: expected an object")
    unknown = set(spec) - set(_NODE_FIELDS)
    if unknown:
        raise PipelineError(f"nodes[{index}]: unknown field {sorted(unknown)[0]!r}")
    node_id = spec.get("id")
    node_type = spec.get("node_type")
    if not isinstance(node_id, str) or not node_id:
        raise PipelineError(f"nodes[{index}].id: expected a non-empty string")
    cls = NODE_CLASSES.get(node_type) if isinstance(node_type, str) else None
    if cls is None:
        cls = _ALIASES.get(node_type) if isinstance(node_type, str) else None
    if cls is None:
        raise PipelineError(
            f"nodes[{index}].node_type: unknown node type {node_type!r} (node {node_id!r}); "
            "define or import its Node subclass before loading the manifest"
        )
    params = spec.get("params") or {}
    if not isinstance(params, dict):
        raise PipelineError(f"nodes[{index}].params: expected an object (node {node_id!r})")
    extras = {f: spec[f] for f in _NODE_FIELDS[3:] if spec.get(f) is not None}
    try:
        return cls(**params, **extras)
    except (TypeError, ValueError) as exc:
        raise PipelineError(f"nodes[{index}].params: {exc} (node {node_id!r})") from exc


_ALIASES: dict[str, type[Node]] = {}


def register_alias(alias: str, cls: type[Node]) -> None:
    """Lets manifests name ``cls`` by ``alias`` (e.g. the Rust ``ResampleNode``)."""
    _ALIASES[alias] = cls


def _load_manifest(manifest: str | os.PathLike[str] | dict[str, Any]) -> Any:
    if isinstance(manifest, dict):
        return manifest
    if isinstance(manifest, os.PathLike) or (isinstance(manifest, str) and not manifest.lstrip().startswith("{")):
        path = Path(manifest)
        try:
            text = path.read_text()
        except OSError as exc:
            raise PipelineError(f"cannot read manifest {path}: {exc}") from exc
        if path.suffix in (".yaml", ".yml"):
            return _load_yaml(text)
        manifest = text
    return _load_json(manifest)


def _load_yaml(text: str) -> Any:
    """YAML through the engine's own reader (YAML 1.2, strict: see
    ``remotemedia_core::document``), as the CLI reads it."""
    return json.loads(_runtime.native.parse_manifest_text(text, "yaml"))


def _load_json(text: str) -> Any:
    """JSON through the engine's own reader (duplicate keys, NaN and
    infinities refused), as the CLI reads it."""
    return json.loads(_runtime.native.parse_manifest_text(text, "json"))
