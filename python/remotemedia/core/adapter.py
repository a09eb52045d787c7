"""How the Rust engine calls a Python node instance.

The engine calls ``process(data) -> list``, ``flush() -> list`` and
``reset()`` on an adapter wrapping the user's very instance. A coroutine
returned by an ``async def process`` is run on the event loop that started the
run (the engine works in a worker thread meanwhile), or on a private loop when
there is none.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from remotemedia.core.node import Node


class EngineAdapter:
    """Adapts a ``Node`` to the engine's node contract."""

    __slots__ = ("loop", "node")

    def __init__(self, node: Node, loop: asyncio.AbstractEventLoop | None) -> None:
        self.node = node
        self.loop = loop

    def process(self, data: Any) -> list[Any]:
        """One input in, the list of outputs (empty for ``None``) out."""
        return self._outputs(self.node.process(data))

    def flush(self) -> list[Any]:
        """What the node still holds at the end of an item or stream."""
        return self._outputs(self.node.flush())

    def reset(self) -> None:
        """Forgets the node's stream state."""
        self.node.reset()

    def _outputs(self, value: Any) -> list[Any]:
        if inspect.isawaitable(value):
            value = self._wait(value)
        return [] if value is None else [value]

    def _wait(self, awaitable: Any) -> Any:
        loop = self.loop
        if loop is not None and loop.is_running():
            return asyncio.run_coroutine_threadsafe(_as_coroutine(awaitable), loop).result()
        return asyncio.run(_as_coroutine(awaitable))


async def _as_coroutine(awaitable: Any) -> Any:
    return await awaitable
