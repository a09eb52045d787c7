"""Your own Node subclass runs inside the Rust engine, between native nodes.

    python examples/custom_node.py

The engine calls the very instance you built, so its counters are yours to
read afterwards; a failure comes back as a NodeError naming the node.
"""

import asyncio
from typing import Any

import numpy as np

from remotemedia import AudioResampleNode, Node, NodeError, Pipeline, VADNode


class Loudness(Node):
    """Adds the clip's peak level (dBFS) to the VAD results."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clips = 0

    def process(self, data: Any) -> Any:
        samples, rate, info = data
        self.clips += 1
        peak = float(np.max(np.abs(samples))) if samples.size else 0.0
        info["peak_dbfs"] = 20 * np.log10(max(peak, 1e-9))
        return samples, rate, info


class Picky(Node):
    def process(self, data: Any) -> Any:
        raise ValueError("I only take strings")


async def main() -> None:
    rate = 48000
    t = np.arange(rate * 2) / rate
    loud = (0.3 * np.sin(2 * np.pi * 220 * t) * (t > 0.5)).astype(np.float32)
    quiet = np.zeros(rate, dtype=np.float32)

    loudness = Loudness()
    pipeline = Pipeline([AudioResampleNode(target_sample_rate=16000), VADNode(energy_threshold=0.02), loudness])
    for samples, sr, info in await pipeline.run([(loud, rate), (quiet, rate)]):
        print(
            f"{samples.shape[-1] / sr:.1f} s at {sr} Hz: speech={info['is_speech']}, peak {info['peak_dbfs']:.1f} dBFS"
        )
    print(f"the engine called our instance {loudness.clips} times")

    try:
        await Pipeline([Picky(name="picky")]).run(1)
    except NodeError as err:
        print(f"NodeError from node {err.node_id!r}: {err} (caused by {type(err.__cause__).__name__})")


if __name__ == "__main__":
    asyncio.run(main())
