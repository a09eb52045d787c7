"""Push/pull streaming with a session, and an async Python node in the engine.

    python examples/session.py

``pipeline.open_session()`` is the engine's streaming session: ``send`` waits
while its input queue is full, ``recv`` returns outputs as they come, and
``close`` flushes the nodes. The async node's coroutine runs on the engine's
own event loop, so this script's loop stays free for the producer.
"""

import asyncio
from typing import Any

import numpy as np

from remotemedia import AudioResampleNode, Node, Pipeline, VADNode

RATE = 48000
CHUNK = RATE // 50  # 20 ms


class Annotate(Node):
    """An async node, e.g. a call to a model server (raising
    ``RetryableError``, ``TimeoutError`` or ``ConnectionError`` from it asks
    the engine for a retry)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.chunks = 0

    async def process(self, data: Any) -> Any:
        samples, _rate, info = data
        self.chunks += 1
        await asyncio.sleep(0)  # awaiting a real service would go here
        if samples.size == 0:  # the resampler's first output (filter delay)
            return None
        return {"chunk": self.chunks, "speech": info["is_speech"], "peak": float(np.max(np.abs(samples)))}


async def main() -> None:
    annotate = Annotate(retry={"max_retries": 2, "initial_delay_ms": 10})
    pipeline = Pipeline([AudioResampleNode(target_sample_rate=16000), VADNode(energy_threshold=0.02), annotate])
    t = np.arange(RATE * 2) / RATE
    signal = (0.3 * np.sin(2 * np.pi * 220 * t) * (t > 0.5)).astype(np.float32)

    async with pipeline.open_session() as session:

        async def produce() -> None:
            for start in range(0, len(signal), CHUNK):
                await session.send((signal[start : start + CHUNK], RATE))
            await session.close()

        producer = asyncio.ensure_future(produce())
        speech = 0
        async for result in session:
            speech += result["speech"]
        await producer
    print(f"{annotate.chunks} chunks annotated, {speech} with speech")


if __name__ == "__main__":
    asyncio.run(main())
