"""Stream 20 ms chunks through resample -> VAD, as a live capture would.

    python examples/streaming.py

State carries over between chunks (filter history, VAD hangover) and times
keep counting; segments are printed as soon as the engine closes them.
"""

import asyncio
from collections.abc import AsyncIterator

import numpy as np

from remotemedia import AudioResampleNode, Pipeline, VADNode

RATE = 48000
CHUNK = RATE // 50


async def microphone(seconds: float) -> AsyncIterator[tuple[np.ndarray, int]]:
    """A fake capture: a tone that comes and goes, in 20 ms chunks."""
    t = np.arange(int(seconds * RATE)) / RATE
    signal = (0.3 * np.sin(2 * np.pi * 200 * t) * (np.sin(2 * np.pi * t / 3) > 0.2)).astype(np.float32)
    for start in range(0, len(signal), CHUNK):
        yield signal[start : start + CHUNK], RATE
        await asyncio.sleep(0)


async def main() -> None:
    pipeline = Pipeline([AudioResampleNode(target_sample_rate=16000), VADNode(energy_threshold=0.02)])
    chunks = frames = 0
    async for _samples, _rate, info in pipeline.process(microphone(6.0)):
        chunks += 1
        frames += info["total_frames"]
        for seg in info["segments"]:
            print(f"segment closed: {seg['start']:.2f} s - {seg['end']:.2f} s")
    print(f"{chunks} outputs, {frames} VAD frames of 30 ms judged")


if __name__ == "__main__":
    asyncio.run(main())
