"""What timeouts and cancellation bound (issue 14, items 2, 5, 11 and 12):
abandoned Python work stops, one stuck node does not stall the others, a
cancelled run stops, and the process exits cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest

from conftest import run, run_python
from remotemedia import MultiplyNode, Node, NodeError, Pipeline


class Spinner(Node):
    """Busy-loops (counting) without ever returning."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spins = 0

    def process(self, data: Any) -> Any:
        while True:
            self.spins += 1


class AsyncSpinner(Spinner):
    """Busy-loops inside a coroutine: its event loop never gets control back."""

    async def process(self, data: Any) -> Any:  # type: ignore[override]
        while True:
            self.spins += 1


class AsyncBlocker(Node):
    """Blocks its event loop in a C call for a while."""

    async def process(self, data: Any) -> Any:
        time.sleep(3)
        return data


class AsyncAdd(Node):
    """A well-behaved async node."""

    async def process(self, data: Any) -> Any:
        await asyncio.sleep(0.001)
        return data + 1


def stops_spinning(node: Spinner, within_s: float = 5.0) -> bool:
    """True when ``node``'s busy loop stops counting within ``within_s``."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        before = node.spins
        time.sleep(0.1)
        if node.spins == before:
            return True
    return False


@pytest.mark.parametrize("cls", [Spinner, AsyncSpinner], ids=["sync", "async"])
def test_a_timed_out_busy_node_stops_running(cls: type[Spinner]) -> None:
    node = cls(timeout_ms=100, retry={"max_retries": 0})
    with pytest.raises(NodeError) as info:
        run(Pipeline([node]).run(1))
    assert info.value.is_transient
    assert node.spins > 0
    assert stops_spinning(node)


@pytest.mark.parametrize("stuck", [AsyncSpinner, AsyncBlocker], ids=["busy", "blocking"])
def test_a_stuck_async_node_does_not_stall_other_async_nodes(stuck: type[Node]) -> None:
    bad = Pipeline([stuck(timeout_ms=100, retry={"max_retries": 0})])
    good = Pipeline([AsyncAdd(), MultiplyNode(factor=2)])

    async def main() -> Any:
        with pytest.raises(NodeError):
            await bad.run(1)
        # Without a timeout of its own: a shared stuck loop would hang it.
        return await asyncio.wait_for(good.run(1), 2.0)

    assert run(main()) == 4


def test_a_stuck_async_node_works_again_after_its_timeout() -> None:
    class Flaky(Node):
        def __init__(self) -> None:
            super().__init__(timeout_ms=200, retry={"max_retries": 0})
            self.calls = 0

        async def process(self, data: Any) -> Any:
            self.calls += 1
            if self.calls == 1:
                while True:  # stuck the first time only
                    pass
            return data * 10

    node = Flaky()
    p = Pipeline([node])
    with pytest.raises(NodeError):
        run(p.run(1))
    assert run(asyncio.wait_for(p.run(2), 5.0)) == 20


def test_cancelling_run_stops_the_work() -> None:
    node = Spinner()  # no timeout: only the cancellation can stop it
    p = Pipeline([node])

    async def main() -> float:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(p.run(1), 0.3)
        return time.monotonic() - started

    assert run(main()) < 5.0
    assert stops_spinning(node)


def test_a_cancelled_session_stops_its_python_node() -> None:
    node = Spinner()
    p = Pipeline([node])

    async def main() -> None:
        async with p.open_session() as session:
            await session.send(1)
            while node.spins == 0:
                await asyncio.sleep(0.01)
            await session.cancel()
            assert await session.recv() is None

    run(main())
    assert stops_spinning(node)


def test_two_concurrent_receivers_are_refused() -> None:
    p = Pipeline([MultiplyNode(factor=2)])

    async def main() -> None:
        async with p.open_session() as session:
            first = asyncio.ensure_future(session.recv())
            await asyncio.sleep(0.01)
            with pytest.raises(RuntimeError, match="already waiting in recv"):
                await session.recv()
            await session.send(1)
            assert await first == 2

    run(main())


SCRIPT_HEADER = """
import asyncio, sys, time
from remotemedia import Node, Pipeline, NodeError
"""


def run_script(body: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT_HEADER + textwrap.dedent(body)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_exit_after_a_timed_out_busy_node_is_clean() -> None:
    result = run_script(
        """
        class Spin(Node):
            def process(self, data):
                while True:
                    pass
        p = Pipeline([Spin(timeout_ms=50, retry={"max_retries": 0})])
        for _ in range(3):
            try:
                asyncio.run(p.run(1))
            except NodeError:
                pass
        print("done")
        """
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "done" in result.stdout


def test_a_run_stuck_in_a_blocking_call_does_not_hold_the_exit() -> None:
    started = time.monotonic()
    result = run_script(
        """
        class Sleepy(Node):
            def process(self, data):
                time.sleep(60)
                return data
        async def main():
            try:
                await asyncio.wait_for(Pipeline([Sleepy()]).run(1), 0.5)
            except asyncio.TimeoutError:
                print("gave up")
        asyncio.run(main())
        """
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "gave up" in result.stdout
    assert time.monotonic() - started < 30


def test_ctrl_c_ends_a_script_stuck_in_a_python_node() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SCRIPT_HEADER
            + textwrap.dedent(
                """
                class Spin(Node):
                    def process(self, data):
                        while True:
                            pass
                print("running", flush=True)
                asyncio.run(Pipeline([Spin()]).run(1))
                """
            ),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "running"
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    try:
        _out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert "KeyboardInterrupt" in err
    # CPython ends a program stopped by an uncaught KeyboardInterrupt with
    # SIGINT itself, as the shell expects.
    assert proc.returncode == -signal.SIGINT, err[-2000:]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_session_in_a_forked_child_works() -> None:
    result = run_python(
        textwrap.dedent(
            """
            import asyncio, os, sys
            import numpy as np
            from remotemedia import MultiplyNode, Pipeline

            async def once():
                async with Pipeline([MultiplyNode(factor=2)]).open_session() as s:
                    await s.send((np.ones((1, 480), dtype=np.float32), 16000))
                    await s.close()
                    return [float(x[0][0][0]) async for x in s]

            assert asyncio.run(once()) == [2.0]  # the parent used a session
            pid = os.fork()
            if pid == 0:
                ok = asyncio.run(asyncio.wait_for(once(), 10)) == [2.0]
                os._exit(0 if ok else 3)
            _, status = os.waitpid(pid, 0)
            print("child", os.waitstatus_to_exitcode(status))
            """
        )
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "child 0" in result.stdout


def test_an_interrupted_call_leaves_no_exception_behind() -> None:
    """A call that ends just as it is interrupted must not leave the
    interruption pending in its thread, for the next call there to hit."""

    class Brief(Node):
        def process(self, data: Any) -> Any:
            deadline = time.perf_counter() + 0.049
            while time.perf_counter() < deadline:
                pass
            return data

    class Quick(Node):
        def process(self, data: Any) -> Any:
            total = 0
            for i in range(2000):  # bytecode, where a pending exception fires
                total += i
            return data + 1

    brief = Pipeline([Brief(timeout_ms=50, retry={"max_retries": 0})])
    for _ in range(10):
        try:
            run(brief.run(1))
        except NodeError:
            pass
    # The same kind of thread (a node with a timeout runs on the engine's
    # blocking pool) runs other Python nodes without a stray interruption.
    quick = Pipeline([Quick(timeout_ms=10_000)])
    assert run(quick.run(list(range(50)))) == list(range(1, 51))
