"""``Pipeline``: nodes in order, run on the Rust engine or in pure Python."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import math
import os
import queue
import threading
import time
import traceback
import tracemalloc
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from remotemedia import _runtime
from remotemedia.core.adapter import EngineAdapter, await_on_node_loop, is_streaming
from remotemedia.core.merge import merge_clip
from remotemedia.core.node import NODE_CLASSES, Node, maybe_await
from remotemedia.core.session import StreamSession
from remotemedia.exceptions import NativeRuntimeUnavailableError, NodeError, PipelineError, RemoteMediaError

_NODE_FIELDS = ("id", "node_type", "params", "runtime_hint", "retry", "timeout_ms", "on_failure", "circuit_breaker")


class Pipeline:
    """An ordered list of nodes: each node's output is the next node's input.

    ``await run(...)`` runs it on the Rust engine when the native runtime is
    available (``use_rust=True``, the default), else in pure Python. Built-in
    nodes run as native code; any other node (your own subclasses) runs
    inside the engine through CPython, as the very instance you built.
    """

    def __init__(self, nodes: list[Node] | None = None, name: str | None = None, enable_metrics: bool = False) -> None:
        self.name: str = name or "pipeline"
        self.enable_metrics = enable_metrics
        self._nodes: list[Node] = []
        self._connections: list[dict[str, str]] | None = None
        self._ids: list[str] | None = None
        self._compiled: tuple[str, Any, list[EngineAdapter]] | None = None
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
        self._compiled = None
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
        if _runtime.native is not None and not node.runs_natively():
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
        """Runs ``input_data`` through the pipeline.

        A list is a sequence of items, each flowing through the pipeline on
        its own (a whole clip each); anything else is one item; ``None`` is
        no item. Returns the list of outputs when there are several, the
        single output when there is one, ``None`` when there is none.
        """
        if not self._nodes:
            raise PipelineError("the pipeline has no nodes")
        items = [] if input_data is None else list(input_data) if isinstance(input_data, list) else [input_data]
        started = time.perf_counter()
        if not use_rust:
            self._refuse_streaming_nodes_in_python()
        native = self._native_pipeline() if use_rust else None
        if native is None and use_rust:
            _runtime.warn_fallback(f"pipeline {self.name!r}")
        # The engine appends this run's own metrics here once the run has
        # started (also when a node fails), so concurrent runs of this
        # pipeline never record each other's.
        # The pure-Python path times its node calls into a dict of its own
        # for the same reason.
        native_metrics: list[dict[str, Any]] = []
        times: dict[str, list[float]] | None = {} if self.enable_metrics else None
        try:
            if native is not None:
                wanted = native_metrics if self.enable_metrics else None
                per_item = await _run_cancellable(native, items, wanted)
            else:
                per_item = [await self._run_item_python(item, times) for item in items]
        finally:
            if native is None:
                self._record_metrics("python", started, len(items), None, times or {})
            elif native_metrics:
                self._record_metrics("rust", started, len(items), native_metrics[0], {})
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

        On the Rust engine this is a :class:`StreamSession` (see
        :meth:`open_session`): a task reads ``stream`` into the session while
        the outputs are yielded. The session's queues are bounded, so a
        consumer that reads slowly slows the reading of ``stream`` (memory
        stays flat). Leaving the loop early cancels the stream."""
        if stream is None:
            async for out in self._process_from_source(use_rust):
                yield out
            return
        if not use_rust:
            self._refuse_streaming_nodes_in_python()
        native = self._native_pipeline() if use_rust else None
        if native is None:
            if use_rust:
                _runtime.warn_fallback(f"pipeline {self.name!r}")
            async for out in self._process_python(stream):
                yield out
            return
        async with self._session(native, 16, 64) as session:
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
        if self._connections is not None and self._python_order()[0] != 0:
            raise PipelineError("pipeline.process() without a stream: the first node must be the source")
        first = self._nodes[0]
        if use_rust and getattr(first, "is_source", False) and first.runs_natively():
            # A native source (MediaReaderNode) yields when the stream ends:
            # a session with no input, closed at once.
            async with self._session(self._native_pipeline(), 16, 64) as session:
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

    def open_session(self, input_capacity: int = 16, output_capacity: int = 64) -> StreamSession:
        """A streaming session on the Rust engine, for push/pull use from a
        coroutine: ``await session.send(chunk)``, ``await session.recv()``,
        ``await session.close()`` (see :class:`StreamSession`).

        At most ``input_capacity`` chunks wait to be processed and
        ``output_capacity`` outputs wait to be read; beyond that ``send``
        waits. Needs the native runtime (``NativeRuntimeUnavailableError``
        otherwise); must be called with an event loop running."""
        if input_capacity < 1 or output_capacity < 1:
            raise ValueError("input_capacity and output_capacity: expected at least 1")
        native = self._native_pipeline()
        if native is None:
            raise NativeRuntimeUnavailableError("streaming sessions need the native runtime (remotemedia._native)")
        return self._session(native, input_capacity, output_capacity)

    def _session(self, native: Any, input_capacity: int, output_capacity: int) -> StreamSession:
        on_end = self._keep_session_metrics if self.enable_metrics else None
        return StreamSession(native.open_session(input_capacity, output_capacity), on_end)

    def _keep_session_metrics(self, session: StreamSession) -> None:
        metrics = session.metrics()
        if metrics is not None:
            specs = self.to_manifest()["nodes"]
            for entry, spec in zip(metrics["nodes"], specs, strict=True):
                entry["node_type"] = spec["node_type"]
            self._metrics = {**metrics, "runtime": "rust"}

    def get_metrics(self) -> dict[str, Any] | None:
        """Metrics of the last run (``enable_metrics=True``), else ``None``."""
        return self._metrics if self.enable_metrics else None

    # -- the Rust path -----------------------------------------------------

    def _native_pipeline(self) -> Any:
        """The compiled engine pipeline, or None without the native runtime."""
        native = _runtime.native
        if native is None:
            return None
        for node in self._nodes:
            if node.runtime_hint == "rust" and not node.runs_natively():
                _runtime.require_native(node.node_type)
        manifest = self.to_manifest()
        text = _manifest_json(manifest)
        key = f"{text}|" + ",".join(str(id(n)) for n in self._nodes)
        if self._compiled is not None and self._compiled[0] == key:
            return self._compiled[1]
        python_nodes = {
            spec["id"]: EngineAdapter(node)
            for spec, node in zip(manifest["nodes"], self._nodes, strict=True)
            if not node.runs_natively()
        }
        compiled = native.NativePipeline(text, python_nodes)
        self._compiled = (key, compiled, list(python_nodes.values()))
        return compiled

    # -- the pure-Python path ------------------------------------------------

    def _refuse_streaming_nodes_in_python(self) -> None:
        for node in self._nodes:
            if is_streaming(node) or getattr(node, "engine_only", False):
                raise PipelineError(
                    f"node {node.name!r} is a streaming node: streaming nodes run on the engine only (use_rust=True)"
                )

    def _python_order(self) -> list[int]:
        """Node indices in data-flow order; the pure-Python path runs chains."""
        if self._connections is None:
            return list(range(len(self._nodes)))
        ids = [self._node_id(i) for i in range(len(self._nodes))]
        index = {node_id: i for i, node_id in enumerate(ids)}
        nxt: dict[int, int] = {}
        has_pred: set[int] = set()
        for c in self._connections:
            a, b = index.get(c.get("from", "")), index.get(c.get("to", ""))
            if a is None or b is None or a in nxt or b in has_pred:
                raise PipelineError("the pure-Python path runs linear pipelines only; use the Rust engine")
            nxt[a] = b
            has_pred.add(b)
        starts = [i for i in range(len(ids)) if i not in has_pred]
        if len(starts) != 1:
            raise PipelineError("the pure-Python path runs linear pipelines only; use the Rust engine")
        order = [starts[0]]
        while order[-1] in nxt and len(order) <= len(ids):
            order.append(nxt[order[-1]])
        if len(order) != len(ids):
            raise PipelineError("the pure-Python path runs linear pipelines only; use the Rust engine")
        return order

    async def _run_item_python(self, item: Any, times: dict[str, list[float]] | None) -> list[Any]:
        """One item as a whole clip: process down the chain, then flush each
        node in order (what it releases flows on), as the engine does. Node
        call times (µs) go to ``times`` by node id when it is given."""
        order = [self._nodes[i] for i in self._python_order()]
        ids = self._ids_in(order)
        sink_outputs = await self._push_python(order, ids, 0, [item], clip=True, times=times)
        for start in range(len(order)):
            flushed = await self._call(order[start], ids[start], order[start].flush_python, times=times)
            released = [] if flushed is None else [flushed]
            sink_outputs += await self._push_python(order, ids, start + 1, released, clip=True, times=times)
        for node in order:
            node.reset()
        return merge_clip(sink_outputs)

    async def _process_python(self, stream: AsyncIterable[Any]) -> AsyncIterator[Any]:
        order = [self._nodes[i] for i in self._python_order()]
        ids = self._ids_in(order)
        async for item in stream:
            for out in await self._push_python(order, ids, 0, [item], clip=False):
                yield out
        for start in range(len(order)):
            flushed = await self._call(order[start], ids[start], order[start].flush_python)
            released = [] if flushed is None else [flushed]
            for out in await self._push_python(order, ids, start + 1, released, clip=False):
                yield out

    async def _push_python(
        self,
        order: list[Node],
        ids: list[str],
        start: int,
        values: list[Any],
        clip: bool,
        times: dict[str, list[float]] | None = None,
    ) -> list[Any]:
        for i in range(start, len(order)):
            node = order[i]
            step = node.process_python if clip else getattr(node, "process_stream_python", node.process_python)
            nxt: list[Any] = []
            for value in values:
                out = await self._call(node, ids[i], step, value, times=times)
                if out is not None:
                    nxt.append(out)
            values = nxt
            if not values:
                break
        return values

    def _ids_in(self, order: list[Node]) -> list[str]:
        by_node = {id(n): self._node_id(i) for i, n in enumerate(self._nodes)}
        return [by_node[id(n)] for n in order]

    async def _call(
        self, node: Node, node_id: str, fn: Any, *args: Any, times: dict[str, list[float]] | None = None
    ) -> Any:
        started = time.perf_counter_ns()
        try:
            result = await maybe_await(fn(*args))
        except (RemoteMediaError, ValueError, TypeError) as exc:
            if isinstance(exc, NodeError) and exc.node_id is None:
                exc.node_id = node_id
            if isinstance(exc, RemoteMediaError):
                raise
            raise _node_error(node_id, exc, "fatal") from exc
        except Exception as exc:
            transient = isinstance(exc, (TimeoutError, ConnectionError))
            raise _node_error(node_id, exc, "transient" if transient else "fatal") from exc
        finally:
            if times is not None:
                times.setdefault(node_id, []).append((time.perf_counter_ns() - started) / 1000.0)
        return result

    # -- metrics -------------------------------------------------------------

    def _record_metrics(
        self, runtime: str, started: float, items: int, native: dict[str, Any] | None, times: dict[str, list[float]]
    ) -> None:
        """Keeps the last run's metrics: the engine's own for native runs
        (``native``, that run's metrics), the same JSON shape measured here for
        the pure-Python path."""
        if not self.enable_metrics:
            return
        specs = self.to_manifest()["nodes"]
        if native is not None:
            metrics = native
        else:
            nodes = []
            for spec in specs:
                node_times = sorted(times.get(spec["id"], []))
                nodes.append(
                    {
                        "id": spec["id"],
                        "node_type": spec["node_type"],
                        "runtime": "python",
                        "status": "ok",
                        "calls": len(node_times),
                        "errors": 0,
                        "retries": 0,
                        "skipped": 0,
                        "time_us": _summary(node_times),
                        "peak_memory_bytes": 0,
                    }
                )
            tracing = tracemalloc.is_tracing()
            metrics = {
                "pipeline": {
                    "name": self.name,
                    "wall_time_us": (time.perf_counter() - started) * 1e6,
                    "peak_memory_bytes": tracemalloc.get_traced_memory()[1] if tracing else 0,
                    "inputs": items,
                    "dropped_inputs": 0,
                    "memory_tracking": tracing,
                },
                "nodes": nodes,
            }
        metrics["runtime"] = runtime
        self._metrics = metrics


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


def _node_error(node_id: str, exc: BaseException, error_class: str) -> NodeError:
    """The ``NodeError`` reporting a Python node's exception, as the engine
    builds it."""
    error = NodeError(f'node "{node_id}" failed: {type(exc).__name__}: {exc}', node_id=node_id, error_class=error_class)
    error.exception_type = type(exc).__qualname__
    error.traceback = "".join(traceback.format_exception(exc))
    return error


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
    token = _runtime.native_module().RunToken()

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


def _summary(times: list[float]) -> dict[str, float]:
    """total, min, max, mean, p50, p99 of sorted call times (µs)."""
    if not times:
        return {"total": 0.0, "min": 0.0, "max": 0.0, "mean": 0.0, "p50": 0.0, "p99": 0.0}
    total = sum(times)
    return {
        "total": total,
        "min": times[0],
        "max": times[-1],
        "mean": total / len(times),
        "p50": times[len(times) // 2],
        "p99": times[min(len(times) - 1, (len(times) * 99) // 100)],
    }


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
    native = _runtime.native
    if native is None:
        raise PipelineError(
            f"reading YAML manifests needs the native extension remotemedia._native ({_runtime.import_error})"
        )
    return json.loads(native.parse_manifest_text(text, "yaml"))


def _load_json(text: str) -> Any:
    """JSON through the engine's own reader when it is there; else Python's,
    with the same refusals (duplicate keys, NaN and infinities)."""
    native = _runtime.native
    if native is not None:
        return json.loads(native.parse_manifest_text(text, "json"))
    try:
        return json.loads(text, object_pairs_hook=_refuse_duplicate_keys, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise PipelineError(f"JSON syntax error: {exc}") from exc


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise PipelineError(f"{key}: duplicate key (each key may appear once)")
        out[key] = value
    return out


def _refuse_constant(name: str) -> Any:
    raise PipelineError(f"{name} is not a finite number; manifests take finite numbers only")
