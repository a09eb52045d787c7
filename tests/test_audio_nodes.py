"""The audio nodes: native and numpy implementations side by side.

Agreement measured (and asserted here):

- FormatConverterNode: bit-exact for every pair of formats.
- VADNode energy mode: identical decisions, segments and energies.
- VADNode speech mode: the numpy approximation finds the same speech burst
  in a clean clip (segment edges within 150 ms), and no speech in silence.
- AudioResampleNode: identical lengths; in-band signals agree within 1e-3
  (max abs) away from the first and last 10 % of the clip, 2e-2 overall.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import numpy as np
import pytest

from conftest import run, speechlike, tone
from remotemedia import AudioResampleNode, FormatConverterNode, MultiplyNode, Node, NodeError, Pipeline, VADNode
from remotemedia.exceptions import NativeRuntimeUnavailableError

PAIRS = [(48000, 16000), (16000, 48000), (44100, 48000), (48000, 44100), (8000, 16000), (22050, 16000)]


def _both(node_cls: type, **params: Any) -> tuple[Any, Any]:
    return node_cls(**params), node_cls(runtime_hint="python", **params)


def test_audio_nodes_run_natively() -> None:
    for node in (AudioResampleNode(), VADNode(), FormatConverterNode()):
        assert node.uses_native, type(node).__name__
        assert node.runs_natively()
    assert not AudioResampleNode(runtime_hint="python").uses_native


@pytest.mark.parametrize("quality", ["low", "medium", "high"])
@pytest.mark.parametrize(("src", "dst"), PAIRS)
def test_resample_agrees_with_numpy(quality: str, src: int, dst: int) -> None:
    x = tone(440, 1.0, src) + tone(0.3 * min(src, dst) / 2, 1.0, src, 0.3)
    native, python = _both(AudioResampleNode, target_sample_rate=dst, quality=quality)
    a, rate_a = native.process((x, src))
    b, rate_b = python.process((x, src))
    assert rate_a == rate_b == dst
    assert a.shape == b.shape == (round(len(x) * dst / src),)
    assert a.dtype == b.dtype == np.float32
    m = len(a) // 10
    assert np.abs(a - b)[m:-m].max() < 1e-3
    assert np.abs(a - b).max() < 2e-2


def test_resample_exact_length_and_alignment() -> None:
    node = AudioResampleNode(target_sample_rate=16000)
    for frames in (1, 2, 479, 480, 48001):
        x = np.zeros((2, frames), dtype=np.float32)
        out, _ = node.process((x, 48000))
        assert out.shape == (2, (2 * frames * 16000 + 48000) // 96000)
    impulse = np.zeros(4800, dtype=np.float32)
    impulse[2400] = 1.0
    out, _ = node.process((impulse, 48000))
    assert int(np.argmax(out)) == 800


def test_resample_empty_stereo_clip() -> None:
    out, _ = AudioResampleNode(target_sample_rate=16000).process((np.zeros((2, 0), dtype=np.float32), 48000))
    assert out.shape == (2, 0)


def test_resample_same_rate_returns_the_input() -> None:
    x = tone(440, 0.1, 16000)
    for node in _both(AudioResampleNode, target_sample_rate=16000):
        out, rate = node.process((x, 16000))
        assert rate == 16000 and np.shares_memory(out, x)
        np.testing.assert_array_equal(out, x)


def test_resample_int_input_gives_float() -> None:
    x = (tone(440, 0.1, 48000) * 32767).astype(np.int16)
    for node in _both(AudioResampleNode, target_sample_rate=16000):
        out, _ = node.process((x, 48000))
        assert out.dtype == np.float32 and out.shape == (1600,)


def test_resample_stream_equals_clip() -> None:
    x = tone(440, 1.0, 48000) + tone(3000, 1.0, 48000, 0.2)
    clip, _ = AudioResampleNode(target_sample_rate=16000).process((x, 48000))
    for node in (
        AudioResampleNode(target_sample_rate=16000, stream=True),
        AudioResampleNode(target_sample_rate=16000, stream=True, runtime_hint="python"),
    ):
        pieces = [node.process((chunk, 48000)) for chunk in np.array_split(x, 37)]
        pieces.append(node.flush())
        out = np.concatenate([p[0] for p in pieces if p is not None])
        assert out.shape == clip.shape
        reference = (
            clip if node.uses_native else AudioResampleNode(target_sample_rate=16000).process_python((x, 48000))[0]
        )
        assert np.abs(out - reference).max() <= 1e-6


def test_stream_reset_starts_over() -> None:
    node = AudioResampleNode(target_sample_rate=16000, stream=True)
    x = tone(440, 0.2, 48000)
    first = node.process((x, 48000))
    node.reset()
    again = node.process((x, 48000))
    np.testing.assert_array_equal(first[0], again[0])


FORMATS = {"f32": np.float32, "i16": np.int16, "i32": np.int32}


@pytest.mark.parametrize("src", list(FORMATS))
@pytest.mark.parametrize("dst", list(FORMATS))
def test_format_conversion_is_exact(src: str, dst: str) -> None:
    rng = np.random.default_rng(1)
    f = np.concatenate(
        [rng.uniform(-1.2, 1.2, 1000), [1.0, -1.0, 0.5 / 32768, 1.5 / 32768, -0.5 / 32768, np.nan, np.inf, -np.inf]]
    ).astype(np.float32)
    x: np.ndarray
    if src == "f32":
        x = f.reshape(2, -1)
    elif src == "i16":
        x = np.concatenate([rng.integers(-32768, 32768, 998), [32767, -32768]]).astype(np.int16).reshape(2, -1)
    else:
        x = np.concatenate([rng.integers(-(2**31), 2**31, 998), [2**31 - 1, -(2**31)]]).astype(np.int32).reshape(2, -1)
    native, python = _both(FormatConverterNode, target_format=dst)
    a, rate_a = native.process((x, 16000))
    b, rate_b = python.process((x, 16000))
    assert rate_a == rate_b == 16000
    assert a.dtype == b.dtype == FORMATS[dst] and a.shape == b.shape == x.shape
    np.testing.assert_array_equal(a, b)
    if src == dst:
        assert np.shares_memory(a, x) and np.shares_memory(b, x)


def test_format_conversion_rules() -> None:
    for node in _both(FormatConverterNode, target_format="i16"):
        out, _ = node.process((np.array([1.0, -1.0, 0.5, 2.0, -2.0], dtype=np.float32), 8000))
        assert out.tolist() == [32767, -32768, 16384, 32767, -32768]
    for node in _both(FormatConverterNode, target_format="f32"):
        out, _ = node.process((np.array([16384, -32768], dtype=np.int16), 8000))
        assert out.tolist() == [0.5, -1.0]


def _energy_clip() -> np.ndarray:
    x = np.zeros(16000 * 3, dtype=np.float32)
    x[8000:20000] = tone(300, 0.75, 16000, 0.3)
    x[30000:31000] = tone(900, 1000 / 16000, 16000, 0.05)
    return x


@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_vad_energy_mode_is_identical(frame_ms: int) -> None:
    x = _energy_clip()
    for params in ({"energy_threshold": 0.02}, {"mode": "energy", "threshold_db": -40.0}):
        native, python = _both(VADNode, frame_duration_ms=frame_ms, **params)
        a = native.process((x, 16000))
        b = python.process((x, 16000))
        assert a[0] is x and np.shares_memory(b[0], x)
        assert a[1] == b[1] == 16000
        assert a[2] == b[2]
        assert a[2]["is_speech"] and a[2]["segments"]


def test_vad_energy_mode_stereo_and_int16_are_identical() -> None:
    x = _energy_clip()
    stereo = np.stack([x, 0.5 * x]).astype(np.float32)
    pcm = (x * 32767).astype(np.int16)
    native, python = _both(VADNode, energy_threshold=0.02)
    assert native.process((stereo, 16000))[2] == python.process((stereo, 16000))[2]
    assert native.process((pcm, 16000))[2] == python.process((pcm, 16000))[2]


def test_vad_speech_mode_approximation_agrees_on_clean_speech() -> None:
    x = speechlike(16000)
    native, python = _both(VADNode, threshold_db=-40.0)
    a = native.process((x, 16000))[2]
    b = python.process((x, 16000))[2]
    assert a["is_speech"] and b["is_speech"]
    assert abs(a["segments"][0]["start"] - b["segments"][0]["start"]) < 0.15
    assert abs(a["segments"][-1]["end"] - b["segments"][-1]["end"]) < 0.15
    assert a["total_frames"] == b["total_frames"] == 100
    silence = np.zeros(16000, dtype=np.float32)
    assert not native.process((silence, 16000))[2]["is_speech"]
    assert not python.process((silence, 16000))[2]["is_speech"]


def test_vad_direct_calls_are_independent_clips() -> None:
    node = VADNode(energy_threshold=0.02)
    speech = _energy_clip()
    silence = np.zeros(16000, dtype=np.float32)
    first = node.process((speech, 16000))[2]
    assert node.process((silence, 16000))[2]["is_speech"] is False
    assert node.process((speech, 16000))[2] == first


def test_vad_stream_keeps_time_running() -> None:
    x = _energy_clip()
    clip = VADNode(energy_threshold=0.02).process((x, 16000))[2]
    node = VADNode(energy_threshold=0.02, stream=True)
    infos = [node.process((c, 16000))[2] for c in np.array_split(x, 7)]
    last = node.flush()
    if last is not None:
        infos.append(last[2])
    assert [s for i in infos for s in i["segments"]] == clip["segments"]
    assert sum(i["total_frames"] for i in infos) == clip["total_frames"]


def test_pipeline_resample_vad_convert_both_paths() -> None:
    x = (speechlike(48000) * 32767).astype(np.int16)
    p = Pipeline(
        [
            FormatConverterNode(target_format="f32"),
            AudioResampleNode(target_sample_rate=16000),
            VADNode(energy_threshold=0.02),
            FormatConverterNode(target_format="i16"),
        ]
    )
    a = run(p.run((x, 48000)))
    b = run(p.run((x, 48000), use_rust=False))
    assert a[0].dtype == b[0].dtype == np.int16 and a[0].shape == b[0].shape == (48000,)
    assert a[1] == b[1] == 16000
    assert np.abs(a[0].astype(np.int32) - b[0].astype(np.int32)).max() <= 700
    assert len(a[2]["segments"]) == len(b[2]["segments"]) >= 1
    for sa, sb in zip(a[2]["segments"], b[2]["segments"], strict=True):
        assert abs(sa["start"] - sb["start"]) <= 0.03 and abs(sa["end"] - sb["end"]) <= 0.03
    assert a[2]["is_speech"] and b[2]["is_speech"]


def test_pipeline_of_several_clips_treats_each_alone() -> None:
    speech, silence = _energy_clip(), np.zeros(8000, dtype=np.float32)
    p = Pipeline([VADNode(energy_threshold=0.02)])
    outs = run(p.run([(speech, 16000), (silence, 16000), (speech, 16000)]))
    assert [o[2]["is_speech"] for o in outs] == [True, False, True]
    assert outs[0][2] == outs[2][2]


def test_audio_node_inside_user_subclass_still_native() -> None:
    class Louder(FormatConverterNode):
        def process(self, data: Any) -> Any:
            samples, rate = super().process(data)
            return samples, rate

    node = Louder(target_format="i16")
    out, _ = node.process((np.array([0.5], dtype=np.float32), 8000))
    assert out.tolist() == [16384]
    assert not node.runs_natively()
    assert run(Pipeline([node]).run((np.array([0.25], dtype=np.float32), 8000)))[0].tolist() == [8192]


def test_runtime_hint_rust_is_native() -> None:
    assert VADNode(runtime_hint="rust").uses_native
    with pytest.raises(ValueError, match="runtime_hint"):
        VADNode(runtime_hint="gpu")
    assert issubclass(NativeRuntimeUnavailableError, Exception)


class Annotate(Node):
    """A Python node after the VAD: counts calls and adds a key to the info."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls = 0

    def process(self, data: Any) -> Any:
        samples, rate, info = data
        self.calls += 1
        info["peak"] = float(np.max(np.abs(samples))) if samples.size else 0.0
        return samples, rate, info


@pytest.mark.parametrize("use_rust", [True, False], ids=["rust", "python"])
def test_python_node_after_native_vad_sees_each_clip_once(use_rust: bool) -> None:
    note = Annotate()
    p = Pipeline([AudioResampleNode(target_sample_rate=16000), VADNode(energy_threshold=0.02), note])
    clips = [(_energy_clip(), 48000), (np.zeros(4800, dtype=np.float32), 48000)]
    outs = run(p.run(clips, use_rust=use_rust))
    assert note.calls == 2
    assert [o[2]["is_speech"] for o in outs] == [True, False]
    assert outs[0][2]["peak"] > 0.2 and outs[1][2]["peak"] == 0.0


def test_extra_info_keys_survive_native_nodes() -> None:
    note = Annotate()
    p = Pipeline([VADNode(energy_threshold=0.02), note, FormatConverterNode(target_format="i16")])
    out = run(p.run((_energy_clip(), 16000)))
    assert out[0].dtype == np.int16 and out[2]["peak"] > 0.2 and out[2]["is_speech"]


def test_extra_info_keys_survive_a_resampler_that_emits_a_tail() -> None:
    # The resampler hands its flush tail on as plain audio; the clip's pieces
    # are merged into one result, which keeps the annotation.
    p = Pipeline([VADNode(energy_threshold=0.02), Annotate(), AudioResampleNode(target_sample_rate=8000)])
    out = run(p.run((_energy_clip(), 16000)))
    assert out[1] == 8000 and out[2]["is_speech"] and out[2]["peak"] > 0.2


class Token:
    """A value a Python node hangs on a VAD info dict."""


class AttachToken(Node):
    """Adds a fresh ``Token`` to the info and keeps only a weak reference to it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tokens: list[weakref.ref[Token]] = []

    def process(self, data: Any) -> Any:
        samples, rate, info = data
        token = Token()
        self.tokens.append(weakref.ref(token))
        info["token"] = token
        return samples, rate, info


def test_extra_info_keys_are_freed_with_the_info() -> None:
    # The extra keys belong to the data: once the last output holding them is
    # gone, so are they (no table outside the data keeps them alive).
    attach = AttachToken()
    p = Pipeline([VADNode(energy_threshold=0.02), attach, FormatConverterNode(target_format="i16")])
    out = run(p.run((_energy_clip(), 16000)))
    assert isinstance(out[2]["token"], Token) and out[2]["token"] is attach.tokens[0]()
    del out
    gc.collect()
    assert attach.tokens[0]() is None


class TagBySession(Node):
    """Adds a key named after the session, read from the chunk's constant value."""

    def process(self, data: Any) -> Any:
        samples, rate, info = data
        if samples.size == 0:  # the detector's last results, at the end
            return data
        session = round(float(samples[0]) * 100)
        info[f"session_{session}"] = session
        return samples, rate, info


def test_concurrent_sessions_each_get_only_their_own_extra_info_keys() -> None:
    p = Pipeline([VADNode(energy_threshold=0.02), TagBySession(), FormatConverterNode(target_format="i16")])
    sessions, chunks = 8, 25
    standard = {"is_speech", "speech_frames", "total_frames", "segments", "frame_decisions"}

    async def one(session: int) -> list[str]:
        chunk = np.full(320, session / 100, dtype=np.float32)
        wrong = []
        async with p.open_session() as s:
            for _ in range(chunks):
                await s.send((chunk, 16000))
                _, _, info = await s.recv()
                extras = {k: v for k, v in info.items() if k not in standard}
                if extras != {f"session_{session}": session}:
                    wrong.append(f"session {session} got {extras}")
        return wrong

    async def main() -> list[str]:
        results = await asyncio.gather(*(one(i) for i in range(1, sessions + 1)))
        return [w for r in results for w in r]

    wrong = run(main())
    assert not wrong, f"{len(wrong)} of {sessions * chunks} outputs wrong, e.g. {wrong[:3]}"


@pytest.mark.parametrize("use_rust", [True, False], ids=["rust", "python"])
def test_pipeline_process_streams_audio(use_rust: bool) -> None:
    x = tone(440, 2.0, 48000) * (np.arange(96000) > 30000)

    async def chunks() -> Any:
        for c in np.array_split(x.astype(np.float32), 100):
            yield c, 48000

    async def collect() -> list[Any]:
        p = Pipeline([AudioResampleNode(target_sample_rate=16000), VADNode(energy_threshold=0.02)])
        return [o async for o in p.process(chunks(), use_rust=use_rust)]

    outs = run(collect())
    audio = np.concatenate([o[0] for o in outs])
    assert audio.shape == (32000,)
    segments = [s for o in outs for s in o[2]["segments"]]
    assert len(segments) == 1 and abs(segments[0]["start"] - 30000 / 48000) < 0.04
    clip = run(Pipeline([AudioResampleNode(target_sample_rate=16000)]).run((x.astype(np.float32), 48000)))
    assert np.abs(audio - clip[0]).max() < (1e-6 if use_rust else 2e-2)


@pytest.mark.parametrize("frames", [48000, 15000], ids=["ends-silent", "ends-in-speech"])
def test_vad_numpy_stream_matches_native_stream_in_energy_mode(frames: int) -> None:
    x = _energy_clip()[:frames]
    native, python = _both(VADNode, energy_threshold=0.02, stream=True)
    for chunk in np.array_split(x, 11):
        a, b = native.process((chunk, 16000)), python.process((chunk, 16000))
        assert a[0] is chunk and np.shares_memory(b[0], chunk)
        assert a[2] == b[2]
    a, b = native.flush(), python.flush()
    if a is None:
        assert b is None
    else:
        assert a[2] == b[2] and a[0].shape == b[0].shape == (0,) and a[0].dtype == b[0].dtype


def test_older_kwargs_are_kept_warned_once_and_left_out_of_the_manifest() -> None:
    """Issue 15.5: `VADNode(sample_rate=16000, frame_duration_ms=30,
    aggressiveness=3)`, as older scripts write it, constructs with one warning
    per unknown name, keeps it in `config`, and runs."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        node = VADNode(sample_rate=16000, frame_duration_ms=30, aggressiveness=3)
        again = VADNode(sample_rate=16000, aggressiveness=2)
    messages = [str(w.message) for w in caught if "aggressiveness" in str(w.message)]
    assert len(messages) == 1 and "no effect" in messages[0]
    assert node.config["aggressiveness"] == 3 and again.config["aggressiveness"] == 2
    entry = node.to_manifest("vad")
    assert "aggressiveness" not in entry["params"] and entry["params"]["sample_rate"] == 16000
    x = speechlike(16000)
    _samples, rate, info = node.process((x, 16000))
    assert rate == 16000 and info["is_speech"]
    for use_rust in (True, False):
        out = run(Pipeline([VADNode(sample_rate=16000, aggressiveness=3)]).run((x, 16000), use_rust=use_rust))
        assert out[2]["is_speech"]
    with pytest.warns(UserWarning, match="extra_knob"):
        MultiplyNode(factor=2, extra_knob=True)


@pytest.mark.parametrize("use_rust", [True, False], ids=["rust", "python"])
def test_vad_sample_rate_must_agree_with_the_audio(use_rust: bool) -> None:
    node = VADNode(sample_rate=16000)
    with pytest.raises((ValueError, NodeError), match="sample_rate=16000"):
        run(Pipeline([node]).run((speechlike(8000), 8000), use_rust=use_rust))
    if use_rust:
        with pytest.raises(NodeError, match="8000 Hz, but the node was built for sample_rate=16000"):
            node.process((speechlike(8000), 8000))
    with pytest.raises(ValueError, match="sample_rate"):
        VADNode(sample_rate=0)


def test_python_implementations_run_inside_the_engine_one_stream_per_session() -> None:
    """use_rust=False runs VADNode's numpy implementation as a Python node of
    the engine: every session gets a fresh instance (its own stream state),
    so concurrent sessions of one pipeline give what each gives alone, and
    energy mode gives exactly the native node's segments."""
    p = Pipeline([VADNode(energy_threshold=0.02)], enable_metrics=True)
    loud, quiet = _energy_clip(), _energy_clip() * np.float32(0.01)

    async def stream(x: np.ndarray, use_rust: bool) -> list[dict[str, Any]]:
        async def chunks() -> Any:
            for c in np.array_split(x, 37):
                yield c, 16000

        return [s for o in [o async for o in p.process(chunks(), use_rust=use_rust)] for s in o[2]["segments"]]

    async def both() -> tuple[Any, ...]:
        return await asyncio.gather(stream(loud, False), stream(quiet, False), stream(loud, True), stream(quiet, True))

    py_loud, py_quiet, rust_loud, rust_quiet = run(both())
    assert py_loud == rust_loud and len(py_loud) == 2
    assert py_quiet == rust_quiet == []
    assert p._native_pipeline(False).runtimes() == {"VADNode_0": "python"}
    run(p.run((loud, 16000), use_rust=False))
    metrics = p.get_metrics()
    assert metrics is not None and metrics["runtime"] == "python"
    assert metrics["nodes"][0]["runtime"] == "python" and metrics["nodes"][0]["node_type"] == "VADNode"
