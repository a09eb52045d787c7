"""Shared helpers for the SDK tests."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Coroutine
from typing import Any

import numpy as np
import pytest

import remotemedia


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Runs a coroutine to completion."""
    return asyncio.run(coro)


def tone(freq: float, seconds: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    """A float32 sine."""
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def speechlike(rate: int, seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    """Silence, then a voiced, amplitude-modulated harmonic burst, then silence."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    f0 = 140 + 20 * np.sin(2 * np.pi * 3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.5 * (1 + np.sin(2 * np.pi * 4 * t)) * ((t > 1.0) & (t < 2.0))
    x = 0.2 * voiced * envelope + 0.001 * rng.standard_normal(n)
    return x.astype(np.float32)


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Runs ``code`` in a fresh interpreter with extra environment variables."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="session", autouse=True)
def native_is_built() -> None:
    """The test run installs the extension: every test expects it."""
    assert remotemedia.is_rust_runtime_available(), "remotemedia._native is not built"
