"""The older SDK's audio nodes (issue 15, item 4): AudioTransform,
AudioResampler, ExtractAudioDataNode, AudioBuffer and VoiceActivityDetector,
on native code where it exists, also in manifests by those names."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest

from conftest import run, speechlike, tone
from remotemedia import Pipeline, PipelineError
from remotemedia.nodes.audio import (
    AudioBuffer,
    AudioResampleNode,
    AudioResampler,
    AudioTransform,
    ExtractAudioDataNode,
    VoiceActivityDetector,
)


async def stream_through(p: Pipeline, items: list[Any]) -> list[Any]:
    async def source() -> AsyncIterator[Any]:
        for item in items:
            yield item

    return [out async for out in p.process(source())]


@pytest.mark.parametrize("use_rust", [True, False], ids=["rust", "python"])
def test_audio_transform_resamples_and_mixes(use_rust: bool) -> None:
    left, right = tone(440, 1.0, 48000, 0.4), tone(660, 1.0, 48000, 0.2)
    stereo = np.stack([left, right])
    mono, rate = run(Pipeline([AudioTransform(16000, 1)]).run((stereo, 48000), use_rust=use_rust))
    assert rate == 16000 and mono.shape == (1, 16000) and mono.dtype == np.float32
    expected = run(Pipeline([AudioResampleNode(16000)]).run(((left + right)[None, :] / 2, 48000)))[0]
    np.testing.assert_allclose(mono, expected, atol=1e-5 if use_rust else 2e-2)
    up, _ = run(Pipeline([AudioTransform(48000, 2)]).run((left, 48000), use_rust=use_rust))
    assert up.shape == (2, 48000)
    np.testing.assert_array_equal(up[0], up[1])


def test_audio_transform_streams_as_the_clip_does() -> None:
    x = np.stack([tone(300, 1.0, 44100), tone(500, 1.0, 44100)])
    clip, _ = run(Pipeline([AudioTransform(16000, 1)]).run((x, 44100)))
    outs = run(stream_through(Pipeline([AudioTransform(16000, 1)]), [(c, 44100) for c in np.array_split(x, 9, axis=1)]))
    np.testing.assert_allclose(np.concatenate([o[0] for o in outs], axis=1), clip, atol=1e-6)


def test_audio_resampler_defaults_to_44100() -> None:
    out, rate = AudioResampler().process((tone(440, 1.0, 48000), 48000))
    assert rate == 44100 and out.shape == (44100,)
    assert AudioResampler(target_sample_rate=16000).to_manifest()["node_type"] == "AudioResampler"


def test_extract_audio_data() -> None:
    a = np.ones(10, dtype=np.float32)
    node = ExtractAudioDataNode()
    assert node.process((a, 16000)) is a
    assert node.process(((a, 16000), {"is_speech": True})) is a
    with pytest.raises(TypeError):
        node.process("text")
    out = run(Pipeline([AudioResampler(16000), ExtractAudioDataNode()]).run((tone(440, 0.5, 48000), 48000)))
    assert isinstance(out, np.ndarray) and out.shape == (8000,)


@pytest.mark.parametrize("dtype", [np.float32, np.int16])
def test_audio_buffer_rechunks_a_stream(dtype: type) -> None:
    x: np.ndarray = (np.arange(10_000) % 1000).astype(dtype)
    chunks = [(c, 16000) for c in np.array_split(x, 7)]
    outs = run(stream_through(Pipeline([AudioBuffer(4000)]), chunks))
    assert [o[0].shape[-1] for o in outs] == [4000, 4000, 2000]
    assert all(o[0].dtype == dtype and o[1] == 16000 for o in outs)
    np.testing.assert_array_equal(np.concatenate([o[0] for o in outs]), x)
    # Called directly: the same blocks, as a stream.
    node = AudioBuffer(4000)
    direct = [b for c in chunks for b in node.process(c)] + [node.flush()]
    assert [b[0].shape[-1] for b in direct] == [4000, 4000, 2000]


def test_audio_buffer_flushes_first_on_a_change_of_rate() -> None:
    chunks = [(np.ones(300, dtype=np.float32), 16000), (np.ones(500, dtype=np.float32), 8000)]
    outs = run(stream_through(Pipeline([AudioBuffer(1000)]), chunks))
    assert [(o[0].shape[-1], o[1]) for o in outs] == [(300, 16000), (500, 8000)]


@pytest.mark.parametrize("use_rust", [True, False], ids=["rust", "python"])
def test_audio_buffer_rechunks_in_both_implementations(use_rust: bool) -> None:
    x = np.arange(25, dtype=np.float32)

    async def chunks() -> AsyncIterator[Any]:
        for part in (x[:7], x[7:19], x[19:]):
            yield part, 16000

    async def collect() -> list[Any]:
        return [o async for o in Pipeline([AudioBuffer(10)]).process(chunks(), use_rust=use_rust)]

    blocks = run(collect())
    assert [b[0].shape[-1] for b in blocks] == [10, 10, 5]
    np.testing.assert_array_equal(np.concatenate([b[0].reshape(-1) for b in blocks]), x)
    # A batch run's item is a whole clip: re-chunked and joined, it is itself.
    clip = run(Pipeline([AudioBuffer(10)]).run((x, 16000), use_rust=use_rust))
    np.testing.assert_array_equal(clip[0].reshape(-1), x)
    assert clip[1] == 16000


def test_audio_buffer_refuses_bad_sizes() -> None:
    with pytest.raises(ValueError, match="buffer_size_samples"):
        AudioBuffer(0)
    manifest = {
        "version": "v1",
        "nodes": [{"id": "b", "node_type": "AudioBuffer", "params": {"buffer_size_samples": 0}}],
    }
    with pytest.raises(PipelineError, match="buffer_size_samples"):
        run(Pipeline.from_manifest(manifest).run((np.ones(20, dtype=np.float32), 16000)))


def test_voice_activity_detector_filters_speech_chunks() -> None:
    x = speechlike(16000, seconds=3.0)
    chunks = [(c, 16000) for c in np.array_split(x, 100)]  # 30 ms each
    kept = run(stream_through(Pipeline([VoiceActivityDetector(filter_mode=True)]), chunks))
    assert 15 <= len(kept) <= 45  # the burst is 1 s of the 3 s
    starts = [next(i for i, c in enumerate(chunks) if np.shares_memory(c[0], k[0])) for k in kept]
    assert all(30 <= s <= 75 for s in starts), starts  # the burst: 1.0-2.0 s, chunks 33-66
    tagged = run(stream_through(Pipeline([VoiceActivityDetector()]), chunks))
    assert len(tagged) == len(chunks)
    assert all(np.shares_memory(t[0][0], c[0]) for t, c in zip(tagged, chunks, strict=True))
    meta = tagged[50][1]
    assert set(meta) == {"is_speech", "speech_ratio", "avg_energy", "frame_duration_ms"} and meta["is_speech"]
    assert not tagged[5][1]["is_speech"]
    plain = run(stream_through(Pipeline([VoiceActivityDetector(include_metadata=False)]), chunks))
    assert all(isinstance(p, tuple) and len(p) == 2 for p in plain)


def test_the_older_example_shape_runs() -> None:
    """`AudioTransform(16000, 1) -> AudioBuffer(8000)` over a 44.1 kHz stereo
    stream, as the older SDK's examples chain them."""
    x = np.stack([tone(440, 2.0, 44100), tone(880, 2.0, 44100)])
    chunks = [(c, 44100) for c in np.array_split(x, 20, axis=1)]
    outs = run(stream_through(Pipeline([AudioTransform(16000, 1), AudioBuffer(8000)]), chunks))
    sizes = [o[0].shape[-1] for o in outs]
    assert sizes[:-1] == [8000] * (len(sizes) - 1) and sum(sizes) == 32000
    assert all(o[1] == 16000 and o[0].shape[0] == 1 for o in outs)


def _write_wav(path: Any, samples: np.ndarray, rate: int) -> None:
    """A 16-bit PCM WAV of ``samples`` (float, ``(channels, frames)``)."""
    import wave

    pcm = np.clip(np.round(samples.T * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(samples.shape[0])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def test_media_reader_track_transform_buffer_driven_by_process(tmp_path: Any) -> None:
    """Issue 15: the older examples' `MediaReaderNode -> AudioTrackSource ->
    AudioTransform(16000, 1) -> AudioBuffer(8000)` driven by
    `pipeline.process()`, and the reader's own `process(None)` yielding
    `{"audio": ...}` dicts for `AudioTrackSource`."""
    from remotemedia import AudioTrackSource, MediaReaderNode

    stereo = np.stack([tone(440, 3.0, 44100, 0.5), tone(660, 3.0, 44100, 0.25)])
    path = tmp_path / "in.wav"
    _write_wav(path, stereo, 44100)

    async def main() -> list[Any]:
        p = Pipeline(
            [
                MediaReaderNode(path=str(path), chunk_size=4096),
                AudioTrackSource(),
                AudioTransform(output_sample_rate=16000, output_channels=1),
                AudioBuffer(buffer_size_samples=8000),
            ]
        )
        return [out async for out in p.process()]

    outs = run(main())
    sizes = [o[0].shape[-1] for o in outs]
    assert sizes[:-1] == [8000] * (len(sizes) - 1) and sum(sizes) == 48000
    assert all(o[1] == 16000 and o[0].dtype == np.float32 for o in outs)
    mono = np.concatenate([o[0].reshape(-1) for o in outs])
    expected = run(Pipeline([AudioTransform(16000, 1)]).run((stereo.astype(np.float32), 44100)))[0].reshape(-1)
    assert np.abs(mono - expected).max() < 1e-3  # 16-bit quantisation of the file

    async def direct() -> list[Any]:
        reader, track = MediaReaderNode(str(path), chunk_size=10000), AudioTrackSource()
        return [track.process(item) async for item in reader.process(None)]

    chunks = run(direct())
    assert [c[0].shape for c in chunks] == [(2, 10000)] * 13 + [(2, 2300)]
    assert all(c[1] == 44100 and c[0].dtype == np.float32 for c in chunks)


def test_media_writer_writes_what_it_passes_on(tmp_path: Any) -> None:
    from remotemedia import MediaReaderNode, MediaWriterNode

    out_path = tmp_path / "out.wav"
    x = tone(300, 1.0, 16000)
    chunks = [(c, 16000) for c in np.array_split(x, 5)]
    outs = run(stream_through(Pipeline([MediaWriterNode(output_path=str(out_path))]), chunks))
    assert sum(o[0].shape[-1] for o in outs) == 16000

    async def read_back() -> list[Any]:
        return [item["audio"] async for item in MediaReaderNode(str(out_path)).process(None)]

    back = run(read_back())
    assert all(rate == 16000 and a.shape[0] == 1 for a, rate in back)
    np.testing.assert_array_equal(np.concatenate([a[0] for a, _ in back]), x)
