"""Corpora on a Ray cluster: a pipeline inside Ray Data, and ``process_files``.

Install with ``pip install "remotemedia[ray]"``. Two pieces:

- :class:`PipelineActor`, a callable class for ``ray.data.Dataset.map_batches``:
  each actor compiles the pipeline once, then processes batches of file paths
  (writing each file's outputs) or of in-memory audio arrays.
- :func:`process_files`, which runs a whole corpus through it and writes
  the same files as ``remotemedia batch``: each input's audio at its path
  relative to the inputs' common folder (as ``.wav``), and ``index.jsonl``
  with a row per input.

Files are processed by the same native code as ``remotemedia batch``
(``remotemedia._native.BatchPipeline``: one decoder, one chunking, one WAV
writer), so the audio is byte-identical to the command's. In-memory audio
arrays go through :meth:`remotemedia.Pipeline.run` (the whole array as one
clip), as a Python user would run them.

On a real cluster::

    ray.init(address="auto")  # or "ray://head:10001"
    process_files("speech_prep.json", "/shared/corpus", "/shared/prepared", concurrency=64)

and for a corpus in object storage, Ray Data reads the bytes (``bytes`` and
``path`` columns; each file is spilled to a local temporary file for the
decoder, and its outputs go under ``output_dir`` at its path without the
scheme, e.g. ``bucket/a/x.wav``)::

    ds = ray.data.read_binary_files("s3://bucket/corpus/", include_paths=True)
    ds.map_batches(PipelineActor, fn_constructor_kwargs={"manifest": m, "output_dir": "/shared/out"},
                   compute=ray.data.ActorPoolStrategy(size=60), batch_size=1).materialize()

(``compute=ActorPoolStrategy(size=N)`` is what ``concurrency=N`` was
before Ray 2.51; leave some of the cluster's CPUs to Ray Data's read tasks:
with every CPU held by an actor, nothing is ever read).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from remotemedia._runtime import native
from remotemedia.core.pipeline import Pipeline

ManifestLike = str | os.PathLike[str] | dict[str, Any]

INDEX_NAME = "index.jsonl"
"""The index's file name in the output folder (as ``remotemedia batch`` names it)."""


def manifest_json(manifest: ManifestLike) -> str:
    """The manifest as JSON text: a dict, JSON text, or the path of a JSON or
    YAML file (read strictly, as the CLI reads it)."""
    if isinstance(manifest, dict):
        return json.dumps(manifest)
    if isinstance(manifest, str) and manifest.lstrip().startswith("{"):
        return str(native.parse_manifest_text(manifest, "json"))
    path = Path(manifest)
    fmt = "yaml" if path.suffix in (".yaml", ".yml") else "json"
    return str(native.parse_manifest_text(path.read_text(), fmt))


class PipelineActor:
    """A pipeline for ``Dataset.map_batches``, compiled once per actor.

    A batch has one of these column sets:

    - ``path`` (and optionally ``relative``): local files. Each is processed
      like ``remotemedia batch`` does and its audio written under
      ``output_dir`` at ``relative`` (default: ``path`` relative to ``root``,
      else ``path`` without its scheme and leading ``/``), as ``.wav``.
    - ``bytes`` and ``path``: file contents (``ray.data.read_binary_files(...,
      include_paths=True)``), spilled to a temporary file and processed the same.
    - ``audio`` and ``sample_rate``: arrays (1-D mono, or ``(channels, frames)``),
      run through ``Pipeline.run``; nothing is written.

    Returned columns, one value per row: for files ``path``, ``relative``,
    ``status`` (``"ok"``/``"failed"``), ``error``, ``duration_s``,
    ``sample_rate`` (the input's), ``output`` (the audio written, relative to
    ``output_dir``, or ``""``), ``segments`` (JSON text: speech segments with
    ``start``, ``end`` in seconds and ``energy_db``), ``metrics`` (JSON text:
    ``elapsed_s``, ``real_time_factor``) and ``row`` (the index row, JSON
    text); for arrays ``audio``, ``sample_rate``, ``segments`` and ``metrics``.
    A file that fails is a row with ``status`` ``"failed"``, not an exception.
    """

    def __init__(
        self,
        manifest: ManifestLike,
        output_dir: str | os.PathLike[str] | None = None,
        root: str | os.PathLike[str] | None = None,
        chunk_ms: int = 1000,
        output_node: str | None = None,
    ) -> None:
        self._manifest = manifest_json(manifest)
        self._files = native.BatchPipeline(self._manifest, chunk_ms, output_node)
        self._output_dir = None if output_dir is None else Path(output_dir)
        self._root = None if root is None else Path(root)
        self._pipeline: Pipeline | None = None

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        if "audio" in batch:
            return self._arrays(batch)
        if "path" in batch:
            return self._paths(batch)
        raise ValueError(
            f"a batch needs a 'path' column (files), 'bytes' and 'path', or 'audio' and 'sample_rate'; "
            f"got {sorted(batch)}"
        )

    def _relative(self, path: str) -> str:
        if self._root is not None:
            return os.path.relpath(path, self._root)
        _, _, rest = path.rpartition("://")
        return rest.lstrip("/")

    def _paths(self, batch: dict[str, Any]) -> dict[str, Any]:
        if self._output_dir is None:
            raise ValueError("file paths need an output_dir to write their outputs to")
        paths = [str(p) for p in batch["path"]]
        relatives = [str(r) for r in batch["relative"]] if "relative" in batch else [self._relative(p) for p in paths]
        contents = batch.get("bytes")
        rows = []
        for i, (path, relative) in enumerate(zip(paths, relatives, strict=True)):
            if contents is None:
                rows.append(json.loads(self._files.process_file(path, relative, self._output_dir)))
                continue
            with tempfile.TemporaryDirectory(prefix="remotemedia-ray-") as spill:
                local = Path(spill) / Path(relative).name
                local.write_bytes(bytes(contents[i]))
                row = json.loads(self._files.process_file(local, relative, self._output_dir))
            row["input"] = path
            rows.append(row)
        return {
            "path": [r["input"] for r in rows],
            "relative": [r["relative"] for r in rows],
            "status": [r["status"] for r in rows],
            "error": [r["error"] or "" for r in rows],
            "duration_s": np.array([r["duration_s"] for r in rows], dtype=np.float64),
            "sample_rate": np.array([r["sample_rate"] for r in rows], dtype=np.int64),
            "output": [r["outputs"][0]["path"] if r["outputs"] else "" for r in rows],
            "segments": [json.dumps(r["segments"]) for r in rows],
            "metrics": [json.dumps(_metrics(r["elapsed_s"], r["duration_s"])) for r in rows],
            "row": [json.dumps(r) for r in rows],
        }

    def _arrays(self, batch: dict[str, Any]) -> dict[str, Any]:
        if self._pipeline is None:
            self._pipeline = Pipeline.from_manifest(json.loads(self._manifest))
        pipeline = self._pipeline
        audio, rates, segments, metrics = [], [], [], []
        for samples, rate in zip(batch["audio"], batch["sample_rate"], strict=True):
            samples = np.asarray(samples)
            started = time.perf_counter()
            result = asyncio.run(pipeline.run((samples, int(rate))))
            elapsed = time.perf_counter() - started
            if not (isinstance(result, tuple) and len(result) >= 2 and isinstance(result[0], np.ndarray)):
                raise ValueError(f"the pipeline's output is not audio: {type(result).__name__}")
            info = result[2] if len(result) > 2 and isinstance(result[2], dict) else {}
            audio.append(result[0])
            rates.append(int(result[1]))
            segments.append(json.dumps(info.get("segments", [])))
            metrics.append(json.dumps(_metrics(elapsed, samples.shape[-1] / int(rate))))
        return {
            "audio": audio,
            "sample_rate": np.array(rates, dtype=np.int64),
            "segments": segments,
            "metrics": metrics,
        }


def _metrics(elapsed_s: float, duration_s: float) -> dict[str, float]:
    return {"elapsed_s": elapsed_s, "real_time_factor": elapsed_s / duration_s if duration_s > 0 else 0.0}


def list_inputs(
    inputs: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    exclude: str | os.PathLike[str] | None = None,
) -> list[tuple[str, str]]:
    """``(path, relative)`` for every input, as ``remotemedia batch --input``
    lists them: ``inputs`` is a directory (its audio files, recursively), a
    glob pattern, ``@list.txt``, a file, or an iterable of file paths.
    Raises ``ValueError`` with the command's message (no files, a file listed
    twice, two inputs writing the same output, a symbolic link loop...)."""
    if isinstance(inputs, str | os.PathLike):
        return list(native.list_batch_inputs(os.fspath(inputs), exclude))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", prefix="remotemedia-inputs-") as listing:
        for p in inputs:
            listing.write(os.path.abspath(p) + "\n")
        listing.flush()
        return list(native.list_batch_inputs("@" + listing.name, exclude))


def process_files(
    manifest: ManifestLike,
    inputs: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    output_dir: str | os.PathLike[str],
    *,
    concurrency: int | None = None,
    batch_size: int = 1,
    chunk_ms: int = 1000,
    output_node: str | None = None,
) -> dict[str, Any]:
    """Runs every input through the pipeline on Ray (``concurrency`` actors,
    default: the cluster's CPUs; ``batch_size`` files handed to an actor at
    a time: more amortises Ray's cost per batch over short files, fewer
    balances long ones), writing what ``remotemedia batch`` writes:
    each input's audio under ``output_dir`` at its path relative to the
    inputs' common folder, and ``index.jsonl`` (rows sorted by that path,
    written under a temporary name then renamed). Returns the summary
    ``batch`` prints (``files``, ``ok``, ``failed``, ``audio_hours``,
    ``elapsed_s``...). Like ``batch`` without ``--resume``, refuses an
    output folder that already holds an index or any of the outputs. Uses
    the running Ray instance (``ray.init(...)`` first), or starts a local one.
    """
    import ray

    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    out = Path(output_dir)
    text = manifest_json(manifest)
    # Compiled here first, so a bad manifest is refused before Ray starts.
    native.BatchPipeline(text, chunk_ms, output_node)
    listed = list_inputs(inputs, exclude=out)
    if (out / INDEX_NAME).exists():
        raise FileExistsError(f"{out}: it holds an earlier batch ({INDEX_NAME}); choose another folder")
    for _, relative in listed:
        target = out / Path(relative).with_suffix(".wav")
        if target.exists():
            raise FileExistsError(f"{out}: {target} already exists; refusing to overwrite it")
    out.mkdir(parents=True, exist_ok=True)
    if not ray.is_initialized():
        ray.init()
    actors = concurrency or max(1, int(ray.cluster_resources().get("CPU", 1)))
    started = time.perf_counter()
    ds = ray.data.from_items([{"path": p, "relative": r} for p, r in listed])
    done = ds.map_batches(
        PipelineActor,
        fn_constructor_kwargs={
            "manifest": json.loads(text),
            "output_dir": str(out),
            "chunk_ms": chunk_ms,
            "output_node": output_node,
        },
        compute=ray.data.ActorPoolStrategy(size=min(actors, len(listed))),
        batch_size=batch_size,
    )
    rows = sorted((json.loads(r["row"]) for r in done.take_all()), key=lambda r: r["relative"])
    elapsed = time.perf_counter() - started
    with tempfile.NamedTemporaryFile("w", dir=out, prefix=".index-", suffix=".part", delete=False) as f:
        for row in rows:
            f.write(json.dumps(row, separators=(",", ":")) + "\n")
    os.replace(f.name, out / INDEX_NAME)
    audio_s = sum(r["duration_s"] for r in rows)
    failed = sum(r["status"] != "ok" for r in rows)
    return {
        "files": len(listed),
        "ok": len(rows) - failed,
        "failed": failed,
        "audio_hours": audio_s / 3600.0,
        "elapsed_s": elapsed,
        "audio_hours_per_second": audio_s / 3600.0 / elapsed if elapsed > 0 else 0.0,
        "actors": min(actors, len(listed)),
        "index": str(out / INDEX_NAME),
    }
