"""Remote execution from Python against real ``remotemedia serve`` processes
on ephemeral loopback ports: ``remotemedia.remote.Client`` (unary and
streaming, numpy in and out), ``RemoteExecutorConfig`` /
``RemoteExecutionNode`` inside a local pipeline, and every refusal."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import numpy as np
import pytest

import remotemedia
from conftest import run, speechlike
from remotemedia import (
    AudioResampleNode,
    ConfigurationError,
    Node,
    Pipeline,
    RemoteExecutionError,
    RemoteExecutionNode,
    RemoteExecutorConfig,
    VADNode,
)
from remotemedia.remote import Client


class Server:
    """``python -m remotemedia serve`` on 127.0.0.1:0, stopped by ``stop``."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "remotemedia", "serve", "--bind", "127.0.0.1:0", *args],
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if line.startswith("listening on "):
                self.addr = line.removeprefix("listening on ").strip()
                break
        else:
            raise RuntimeError(f"serve exited with {self.process.wait()} before listening")
        self.host, port = self.addr.rsplit(":", 1)
        self.port = int(port)
        # Keep reading stderr so the server never blocks on a full pipe.
        threading.Thread(target=self.process.stderr.read, daemon=True).start()

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def token_server() -> Iterator[Server]:
    s = Server("--auth-token", "s3cret")
    yield s
    s.stop()


RESAMPLE_VAD = {
    "version": "v1",
    "nodes": [
        {"id": "resample", "node_type": "AudioResampleNode", "params": {"target_sample_rate": 16000}},
        {"id": "vad", "node_type": "VADNode", "params": {}},
    ],
    "connections": [{"from": "resample", "to": "vad"}],
}


def chunks_of(audio: np.ndarray, rate: int, frames: int) -> list[tuple[np.ndarray, int]]:
    return [(audio[i : i + frames], rate) for i in range(0, len(audio), frames)]


def test_execute_returns_numpy_audio_and_data_by_sink(server: Server) -> None:
    client = Client(server.addr)
    manifest = {
        "version": "v1",
        "nodes": [
            {"id": "double", "node_type": "MultiplyNode", "params": {"factor": 2}},
            # An older client's spelling: params as JSON text.
            {"id": "calc", "node_type": "CalculatorNode", "params": '{"operation": "add", "operand": 5}'},
        ],
    }
    stereo = np.array([[0.1, -0.2, 0.25], [0.5, 0.0, -0.5]], dtype=np.float32)
    out = run(client.execute(manifest, {"double": (stereo, 16000), "calc": 37}))
    samples, rate = out["audio"]["double"]
    assert rate == 16000
    assert samples.dtype == np.float32 and samples.shape == (2, 3)
    np.testing.assert_array_equal(samples, stereo * 2)
    assert out["data"]["calc"] == 42


def test_stream_yields_one_result_per_chunk_in_order(server: Server) -> None:
    audio = speechlike(48000)
    chunks = chunks_of(audio, 48000, 960)

    async def collect() -> list[dict]:
        async def source() -> AsyncIterator[tuple[np.ndarray, int]]:
            for c in chunks:
                yield c

        return [r async for r in Client(server.addr).stream(RESAMPLE_VAD, source())]

    results = run(collect())
    n = len(chunks)
    assert [r["sequence"] for r in results[:n]] == list(range(n))
    # The flushed tail, if any, comes last with the last chunk's sequence.
    assert [r["sequence"] for r in results[n:]] in ([], [n - 1])
    frames = sum(r["audio"]["vad"][0].shape[-1] for r in results)
    assert frames == len(audio) // 3, "48 kHz -> 16 kHz, every frame back"
    assert all(r["audio"]["vad"][1] == 16000 for r in results)
    speech = [r["data"]["vad"]["is_speech"] for r in results[:n]]
    # The burst is in the middle second: silence, speech, silence.
    assert not any(speech[:40]) and any(speech[50:100]) and not any(speech[-40:]), speech


def test_remote_vad_in_a_local_pipeline_matches_the_local_one(server: Server) -> None:
    audio = speechlike(48000)
    config = RemoteExecutorConfig(host=server.host, port=server.port, ssl_enabled=False)
    remote_vad = config("VADNode", node_config={"threshold_db": -30.0})
    assert isinstance(remote_vad, RemoteExecutionNode)
    remote = Pipeline([AudioResampleNode(target_sample_rate=16000), remote_vad])
    local = Pipeline([AudioResampleNode(target_sample_rate=16000), VADNode(threshold_db=-30.0)])
    r_samples, r_rate, r_info = run(remote.run((audio, 48000)))
    l_samples, l_rate, l_info = run(local.run((audio, 48000)))
    assert r_rate == l_rate == 16000
    np.testing.assert_allclose(r_samples, l_samples, atol=1e-6)
    assert r_info["is_speech"] is True
    assert r_info["segments"] == l_info["segments"]
    assert r_info["speech_frames"] == l_info["speech_frames"]
    # With use_rust=False the resampler runs its numpy implementation and the
    # remote call, which has none, still runs natively.
    assert sorted(remote._native_pipeline(False).runtimes().values()) == ["python", "rust"]
    _, p_rate, p_info = run(remote.run((audio, 48000), use_rust=False))
    assert p_rate == 16000 and p_info["is_speech"] is True
    # A built-in node object runs as its type and params.
    from_object = config(VADNode(threshold_db=-30.0))
    assert from_object.params()["node_type"] == "VADNode"
    assert from_object.params()["params"] == VADNode(threshold_db=-30.0).params()


def test_remote_node_streams_inside_a_local_session(server: Server) -> None:
    audio = speechlike(16000)
    config = RemoteExecutorConfig(server.host, server.port, ssl_enabled=False)
    pipeline = Pipeline([config("MultiplyNode", node_config={"factor": 0.5})])

    async def stream() -> list:
        async def source() -> AsyncIterator[tuple[np.ndarray, int]]:
            for c in chunks_of(audio, 16000, 320):
                yield c

        return [o async for o in pipeline.process(source())]

    outputs = run(stream())
    assert len(outputs) == len(audio) // 320
    np.testing.assert_allclose(np.concatenate([o[0].reshape(-1) for o in outputs]), audio * 0.5, atol=1e-7)


def test_configuration_errors_name_the_setting() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"host": "h", "port": 0}, "port"),
        ({"host": "h", "port": 70000}, "port"),
        ({"host": "h", "port": "50051"}, "port"),
        ({"host": "", "port": 1}, "host"),
        ({"host": "h", "port": 1, "timeout": -1}, "timeout"),
        ({"host": "h", "port": 1, "timeout": float("nan")}, "timeout"),
        ({"host": "h", "port": 1, "protocol": "http"}, "protocol"),
        ({"host": "h", "port": 1, "max_retries": -1}, "max_retries"),
    ]
    for kwargs, word in cases:
        with pytest.raises(ConfigurationError, match=word):
            RemoteExecutorConfig(**kwargs)
    assert issubclass(ConfigurationError, remotemedia.RemoteMediaError)
    assert issubclass(RemoteExecutionError, remotemedia.NodeError)
    from remotemedia.core.exceptions import ConfigurationError as Old
    from remotemedia.core.node import RemoteExecutorConfig as OldConfig

    assert Old is ConfigurationError and OldConfig is RemoteExecutorConfig
    for bad in ["localhost", "h:0", ":1", "h:x", 5]:
        with pytest.raises(ConfigurationError, match="endpoint"):
            Client(bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="timeout"):
        Client("h:1", timeout=0)


def test_pickled_code_is_refused() -> None:
    class Mine(Node):
        def process(self, data: object) -> object:
            return data

    config = RemoteExecutorConfig("127.0.0.1", 50051)
    with pytest.raises(ConfigurationError, match="pickled code"):
        config(Mine())


def test_server_refusals_are_fatal_remote_errors(server: Server, token_server: Server) -> None:
    with pytest.raises(RemoteExecutionError) as info:
        run(Client(token_server.addr).execute(RESAMPLE_VAD, {"resample": (np.zeros(480, np.float32), 48000)}))
    assert info.value.error_class == "fatal" and info.value.code == "Unauthenticated"
    assert info.value.endpoint == token_server.addr
    ok = run(
        Client(token_server.addr, auth_token="s3cret").execute(
            RESAMPLE_VAD, {"resample": (np.zeros(480, np.float32), 48000)}
        )
    )
    assert ok["audio"]["vad"][0].shape[-1] == 160

    unknown = {"version": "v1", "nodes": [{"id": "x", "node_type": "NoSuchNode"}]}
    with pytest.raises(RemoteExecutionError, match="NoSuchNode") as info:
        run(Client(server.addr).execute(unknown, {"x": 1}))
    assert not info.value.is_transient

    pipeline = Pipeline([RemoteExecutorConfig(server.host, server.port, ssl_enabled=False)("NoSuchNode")])
    with pytest.raises(remotemedia.NodeError, match="NoSuchNode"):
        run(pipeline.run((np.zeros(160, np.float32), 16000)))


def test_bad_chunks_and_manifests_are_named(server: Server) -> None:
    async def stream(chunks: object) -> list:
        return [r async for r in Client(server.addr).stream(RESAMPLE_VAD, chunks)]  # type: ignore[arg-type]

    ok = (np.zeros(960, np.float32), 48000)
    with pytest.raises(TypeError, match=r"chunks\[1\]: expected \(samples, sample_rate\)"):
        run(stream([ok, 5]))
    with pytest.raises(ValueError, match="sample_rate"):
        run(stream([(np.zeros(960, np.float32), 0)]))
    with pytest.raises(ValueError, match="not JSON"):
        run(Client(server.addr).execute("{nope", {"x": 1}))
    with pytest.raises(remotemedia.PipelineError):
        run(Client(server.addr).execute({"version": "v1", "nodes": "x"}, {"x": 1}))


def test_a_dead_server_is_a_transient_error() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(RemoteExecutionError, match="cannot connect") as info:
        run(Client(f"127.0.0.1:{port}", timeout=5).execute(RESAMPLE_VAD, {"resample": (np.zeros(960), 48000)}))
    assert info.value.is_transient
