"""The engine's log events arrive in Python's ``logging`` under the
``remotemedia`` logger, with their fields."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from conftest import run
from remotemedia import Node, Pipeline, RetryableError


class FailsOnce(Node):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls = 0

    def process(self, data: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            raise RetryableError("warming up")
        return data


def test_a_retry_is_logged_with_its_attempt_and_delay(caplog: pytest.LogCaptureFixture) -> None:
    node = FailsOnce(retry={"max_retries": 2, "initial_delay_ms": 2, "multiplier": 1.0})
    with caplog.at_level(logging.WARNING, logger="remotemedia"):
        assert run(Pipeline([node]).run(7)) == 7
    retries = [r for r in caplog.records if r.getMessage().startswith("retrying after a transient error")]
    assert len(retries) == 1, caplog.records
    record = retries[0]
    assert record.name == "remotemedia" and record.levelno == logging.WARNING
    fields = record.remotemedia  # type: ignore[attr-defined]
    assert fields["attempt"] == "2" and fields["delay_ms"] == "2"
    assert "warming up" in fields["error"]
    assert "attempt=2 delay_ms=2" in record.getMessage()


def test_session_open_and_close_at_info(caplog: pytest.LogCaptureFixture) -> None:
    async def stream() -> list[Any]:
        async with Pipeline([FailsOnce(retry={"max_retries": 1, "initial_delay_ms": 1})]).open_session() as s:
            await s.send(1)
            await s.send(2)
            await s.close()
            return [out async for out in s]

    with caplog.at_level(logging.INFO, logger="remotemedia"):
        assert run(stream()) == [1, 2]
    messages = [r.getMessage() for r in caplog.records if r.name == "remotemedia"]
    assert any(m.startswith("session opened") for m in messages), messages
    closed = [m for m in messages if m.startswith("session closed")]
    assert closed and "chunks_in=2" in closed[0] and "chunks_out=2" in closed[0], messages


def test_nothing_is_handed_to_a_logger_disabled_for_the_level(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="remotemedia"):
        assert run(Pipeline([FailsOnce(retry={"max_retries": 1, "initial_delay_ms": 1})]).run(3)) == 3
    assert [r for r in caplog.records if r.name == "remotemedia"] == []
