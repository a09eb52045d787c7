"""A session's metrics at any time while it is open, and its final figures
once it has ended."""

from __future__ import annotations

from typing import Any

from conftest import run
from remotemedia import MultiplyNode, Pipeline


def test_session_metrics_while_open_then_final() -> None:
    async def stream() -> tuple[Any, Any, Any]:
        async with Pipeline([MultiplyNode(factor=2)]).open_session() as s:
            for i in range(3):
                await s.send(i)
                assert await s.recv() == 2 * i
            live = s.metrics()
            await s.send(10)
            assert await s.recv() == 20
            later = s.metrics()
            await s.close()
            assert [out async for out in s] == []
            return live, later, s.metrics()

    live, later, final = run(stream())
    assert live is not None and live["nodes"][0]["calls"] == 3
    assert live["pipeline"]["inputs"] == 3
    assert later["nodes"][0]["calls"] == 4
    assert final["nodes"][0]["calls"] == 5  # and the flush
