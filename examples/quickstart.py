"""The smallest pipeline: numbers in, numbers out, on the Rust engine.

python examples/quickstart.py
"""

import asyncio

import remotemedia
from remotemedia import AddNode, MultiplyNode, Pipeline


async def main() -> None:
    print(f"remotemedia {remotemedia.__version__}, native runtime: {remotemedia.is_rust_runtime_available()}")
    pipeline = Pipeline([MultiplyNode(factor=2), AddNode(addend=10)], name="math")
    print("run([1, 2, 3])           ->", await pipeline.run([1, 2, 3]))
    print("run(5)                   ->", await pipeline.run(5))
    print("Python nodes, same input ->", await pipeline.run([1, 2, 3], use_rust=False))
    print("manifest:", pipeline.serialize())


if __name__ == "__main__":
    asyncio.run(main())
