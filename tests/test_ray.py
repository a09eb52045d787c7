"""remotemedia.ray on a real local Ray cluster (``ray.init(num_cpus=2)``),
compared byte for byte with ``remotemedia batch`` on the same files.

Needs Ray (``pip install "remotemedia[ray]"``); scripts/test_ray.sh installs
it and runs this file (the main suite skips it when Ray is missing).
"""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import run, speechlike
from remotemedia import Pipeline

ray = pytest.importorskip("ray")

from remotemedia.ray import PipelineActor, list_inputs, process_files  # noqa: E402

MANIFEST = Path(__file__).resolve().parent.parent / "examples" / "speech_prep.json"


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args], check=True)


def make_corpus(root: Path) -> None:
    """WAV, FLAC and MP3 files in nested folders (two named alike), an empty
    file and a corrupt one."""
    for i, name in enumerate(["a/x.wav", "b/x.wav", "b/c/long.wav"]):
        write_wav(root / name, speechlike(48_000, seconds=3.0 + i, seed=i), 48_000)
    write_wav(root / "src.tmp", speechlike(48_000, seconds=2.5, seed=9), 48_000)
    ffmpeg("-f", "wav", "-i", str(root / "src.tmp"), str(root / "a" / "y.flac"))
    ffmpeg("-f", "wav", "-i", str(root / "src.tmp"), "-b:a", "96k", str(root / "b" / "z.mp3"))
    (root / "src.tmp").unlink()
    (root / "empty.wav").write_bytes(b"")
    (root / "corrupt.mp3").write_bytes(b"ID3\x04\x00" + bytes(range(256)) * 4)


def batch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "remotemedia", "batch", *args], capture_output=True, text=True, timeout=300
    )


def rows(index: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for line in index.read_text().splitlines():
        row = json.loads(line)
        row.pop("elapsed_s")
        out[row["relative"]] = row
    return out


def audio_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.wav"))}


def test_process_files_writes_what_batch_writes(tmp_path: Path, cluster: None) -> None:
    corpus = tmp_path / "corpus"
    make_corpus(corpus)
    cli = batch(str(MANIFEST), "--input", str(corpus), "--output", str(tmp_path / "batch"), "--jobs", "2")
    assert cli.returncode == 1, cli.stderr  # the empty and corrupt files fail
    summary = process_files(MANIFEST, corpus, tmp_path / "ray", concurrency=2)
    assert (summary["files"], summary["ok"], summary["failed"]) == (7, 5, 2)
    assert summary["actors"] == 2

    by_batch, by_ray = audio_files(tmp_path / "batch"), audio_files(tmp_path / "ray")
    assert sorted(by_ray) == ["a/x.wav", "a/y.wav", "b/c/long.wav", "b/x.wav", "b/z.wav"]
    assert by_ray == by_batch  # byte for byte
    assert rows(tmp_path / "ray" / "index.jsonl") == rows(tmp_path / "batch" / "index.jsonl")
    speech = rows(tmp_path / "ray" / "index.jsonl")["b/c/long.wav"]["segments"]
    assert speech and 0.9 < speech[0]["start"] < 1.2

    # `batch --resume` takes the folder over: the five done are skipped, the
    # two failed are tried again (and fail again).
    resumed = batch(str(MANIFEST), "--input", str(corpus), "--output", str(tmp_path / "ray"), "--resume")
    assert resumed.returncode == 1, resumed.stderr
    done = json.loads(resumed.stdout.splitlines()[-1])
    assert (done["skipped"], done["failed"]) == (5, 2)
    assert audio_files(tmp_path / "ray") == by_batch

    # Three files to an actor at a time: the same files.
    process_files(MANIFEST, corpus, tmp_path / "ray3", concurrency=2, batch_size=3)
    assert audio_files(tmp_path / "ray3") == by_batch
    assert rows(tmp_path / "ray3" / "index.jsonl") == rows(tmp_path / "batch" / "index.jsonl")


def test_map_batches_over_binary_files_and_arrays(tmp_path: Path, cluster: None) -> None:
    corpus = tmp_path / "corpus"
    make_corpus(corpus)
    reference = batch(str(MANIFEST), "--input", str(corpus), "--output", str(tmp_path / "batch"))
    assert reference.returncode == 1, reference.stderr

    # File contents read by Ray Data (as from object storage), outputs at
    # their path relative to `root`. One actor: the read tasks need the
    # cluster's other CPU (with both CPUs held by actors, Ray Data waits
    # forever for one to read with).
    ds = ray.data.read_binary_files(str(corpus), include_paths=True)
    done = ds.map_batches(
        PipelineActor,
        fn_constructor_kwargs={"manifest": str(MANIFEST), "output_dir": str(tmp_path / "bin"), "root": str(corpus)},
        compute=ray.data.ActorPoolStrategy(size=1),
        batch_size=1,
    ).take_all()
    statuses = {r["relative"]: r["status"] for r in done}
    assert statuses["empty.wav"] == "failed" and statuses["a/y.flac"] == "ok"
    assert audio_files(tmp_path / "bin") == audio_files(tmp_path / "batch")

    # In-memory arrays: the same as Pipeline.run in this process.
    clips = [speechlike(48_000, seconds=2.0 + i, seed=i) for i in range(3)]
    ds = ray.data.from_items([{"audio": c, "sample_rate": 48_000} for c in clips])
    got = ds.map_batches(
        PipelineActor,
        fn_constructor_kwargs={"manifest": str(MANIFEST)},
        compute=ray.data.ActorPoolStrategy(size=2),
        batch_size=2,
    ).take_all()
    assert len(got) == 3
    local = Pipeline.from_manifest(MANIFEST)
    expected = {}
    for clip in clips:
        pcm, rate, info = run(local.run((clip, 48_000)))
        expected[pcm.shape[-1]] = (pcm, rate, info)
    assert len(expected) == 3
    for out in got:
        pcm, rate, info = expected[np.asarray(out["audio"]).shape[-1]]
        assert out["sample_rate"] == rate == 16_000
        np.testing.assert_array_equal(np.asarray(out["audio"]), pcm)
        assert json.loads(out["segments"]) == info["segments"]
        assert json.loads(out["metrics"])["elapsed_s"] > 0


def test_bad_inputs_are_refused_before_anything_runs(tmp_path: Path, cluster: None) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no input files"):
        process_files(MANIFEST, tmp_path / "empty", tmp_path / "out")
    write_wav(tmp_path / "in" / "x.wav", speechlike(48_000, seconds=1.0), 48_000)
    ffmpeg("-i", str(tmp_path / "in" / "x.wav"), str(tmp_path / "in" / "x.flac"))
    with pytest.raises(ValueError, match="would both write"):
        list_inputs(tmp_path / "in")
    (tmp_path / "in" / "x.flac").unlink()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x.wav").write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        process_files(MANIFEST, [tmp_path / "in" / "x.wav"], tmp_path / "out")
    assert (tmp_path / "out" / "x.wav").read_bytes() == b"precious"
    with pytest.raises(ValueError, match="needs a 'path' column"):
        PipelineActor(MANIFEST)({"samples": []})
