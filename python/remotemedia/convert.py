"""Sample-format conversion of numpy arrays, optionally into a caller's ``out=`` buffer.

``convert_samples(samples, "f32")`` is the arithmetic of ``FormatConverterNode``
(i16 -> f32 divides by 32768; f32 -> i16 scales by 32768, rounds to nearest even and
saturates, NaN becomes 0) as a plain function, on the native kernels.

``out=`` takes a writeable, C-contiguous array of the target dtype and of the shape of
``samples`` that shares no memory with it; the result is written there and ``out`` is
returned. Reusing one ``out`` across chunks avoids allocating (and faulting in) fresh
memory on every call.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from remotemedia import _runtime
from remotemedia._numpy import convert as _convert


def convert_samples(samples: Any, target_format: str, out: np.ndarray | None = None) -> np.ndarray:
    """``samples`` converted to ``target_format`` (``"f32"``, ``"i16"`` or ``"i32"``).

    Without ``out``, a new array (or ``samples`` itself when it already has that format);
    with ``out``, the result is written into it and ``out`` is returned.

    Raises ``TypeError`` for an unsupported dtype of ``samples`` or ``out`` (or an ``out``
    that is not an array) and ``ValueError`` for an unknown format, or an ``out`` of the
    wrong shape, non-contiguous, read-only or overlapping ``samples``.
    """
    if target_format not in _convert.FORMATS:
        raise ValueError(f"target_format: expected 'f32', 'i16' or 'i32', got {target_format!r}")
    array = np.ascontiguousarray(samples)
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    _convert.format_of(array)
    result: np.ndarray = _runtime.native.convert_samples(array, target_format, out)
    return result


__all__ = ["convert_samples"]
