"""Sample-format conversion, with exactly the native arithmetic.

| from \\ to | f32 | i16 | i32 |
|---|---|---|---|
| i16 | x / 32768 | copy | x << 16 |
| i32 | x / 2^31 (nearest f32) | (x + 2^15) >> 16, saturated | copy |
| f32 | copy | round(x * 32768), ties to even, saturated | round(x * 2^31) in f64, saturated |

NaN becomes 0; 1.0 becomes 32767 (never wraps).
"""

from __future__ import annotations

import numpy as np

FORMATS = {"f32": np.dtype(np.float32), "i16": np.dtype(np.int16), "i32": np.dtype(np.int32)}


def format_of(samples: np.ndarray) -> str:
    """The format name of an array's dtype."""
    for name, dtype in FORMATS.items():
        if samples.dtype == dtype:
            return name
    raise TypeError(f"samples: dtype {samples.dtype} is not supported; use float32, int16 or int32")


def to_f32(samples: np.ndarray) -> np.ndarray:
    """Any supported format to float32 (the same array when already f32)."""
    fmt = format_of(samples)
    if fmt == "f32":
        return samples
    if fmt == "i16":
        return samples.astype(np.float32) * np.float32(1.0 / 32768.0)
    return samples.astype(np.float32) * np.float32(1.0 / 2147483648.0)


def convert(samples: np.ndarray, target: str) -> np.ndarray:
    """``samples`` in format ``target`` (the same array when already there)."""
    if target not in FORMATS:
        raise ValueError(f"target_format: expected 'f32', 'i16' or 'i32', got {target!r}")
    source = format_of(samples)
    if source == target:
        return samples
    if target == "f32":
        return to_f32(samples)
    if source == "f32":
        if target == "i16":
            v = samples * np.float32(32768.0)
            v = np.nan_to_num(v, nan=0.0, posinf=32767.0, neginf=-32768.0)
            return np.rint(np.clip(v, -32768.0, 32767.0)).astype(np.int16)
        w = samples.astype(np.float64) * 2147483648.0
        w = np.nan_to_num(w, nan=0.0, posinf=2147483647.0, neginf=-2147483648.0)
        return np.rint(np.clip(w, -2147483648.0, 2147483647.0)).astype(np.int32)
    if source == "i16":
        return samples.astype(np.int32) << 16
    wide = np.minimum(samples.astype(np.int64) + 0x8000, 2147483647)
    return (wide >> 16).astype(np.int16)
