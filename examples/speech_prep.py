"""Resample a 48 kHz WAV to 16 kHz, find the speech, convert to 16-bit PCM.

    python examples/speech_prep.py [path/to/file.wav]

Builds the pipeline in Python, runs it on the Rust engine, prints the speech
segments, then loads the same pipeline from examples/speech_prep.json.
"""

import asyncio
import sys
import time
import wave
from pathlib import Path

import numpy as np

from remotemedia import AudioResampleNode, FormatConverterNode, Pipeline, VADNode

HERE = Path(__file__).parent


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """A 16-bit PCM WAV as an int16 array shaped (channels, frames)."""
    with wave.open(str(path)) as w:
        if w.getsampwidth() != 2:
            raise SystemExit(f"{path}: only 16-bit PCM WAV files are supported")
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return frames.reshape(-1, w.getnchannels()).T.copy(), w.getframerate()


async def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "speech_48k.wav"
    samples, rate = read_wav(path)
    print(f"{path.name}: {samples.shape[0]} channel(s), {samples.shape[1] / rate:.2f} s at {rate} Hz")

    pipeline = Pipeline(
        [
            AudioResampleNode(target_sample_rate=16000, quality="high"),
            VADNode(threshold_db=-40.0),
            FormatConverterNode(target_format="i16"),
        ],
        name="speech-prep",
    )
    started = time.perf_counter()
    pcm, out_rate, info = await pipeline.run((samples, rate))
    elapsed = time.perf_counter() - started
    print(f"-> {pcm.dtype} {pcm.shape} at {out_rate} Hz in {elapsed * 1000:.1f} ms")
    print(f"speech: {info['is_speech']}, {info['speech_frames']} of {info['total_frames']} frames of 30 ms")
    for seg in info["segments"]:
        print(f"  {seg['start']:6.2f} s - {seg['end']:6.2f} s   {seg['energy_db']:6.1f} dBFS")

    from_json = Pipeline.from_manifest(HERE / "speech_prep.json")
    _, _, same = await from_json.run((samples, rate))
    print(f"same pipeline from speech_prep.json: {len(same['segments'])} segment(s)")


if __name__ == "__main__":
    asyncio.run(main())
