"""``MultiplyNode`` and ``AddNode``: arithmetic on numbers and lists of numbers."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from remotemedia import _runtime
from remotemedia.core.node import Node, split_inert


def _map_numbers(value: Any, node: str, fn: Callable[[float], float]) -> Any:
    """Applies ``fn`` to every number of a number or nested list; an integral
    result of integer input stays an ``int`` (as in the native node)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, list, tuple)):
        raise TypeError(f"{node} expects a number or a list of numbers, got {value!r}")
    if isinstance(value, (list, tuple)):
        return [_map_numbers(v, node, fn) for v in value]
    result = fn(float(value))
    if not math.isfinite(result):
        raise ValueError(f"{node}: result {result} is not a finite number")
    if isinstance(value, int) and result.is_integer() and abs(result) < 9.0e15:
        return int(result)
    return result


def _param(node_type: str, name: str, value: Any) -> Any:
    """``value`` (a numpy scalar as the number it holds), once the engine's
    definition of the param has accepted it."""
    if isinstance(value, np.generic):
        value = value.item()
    _runtime.resolve_params(node_type, {name: value})
    return value


class MultiplyNode(Node):
    """Multiplies numbers, (nested) lists of numbers, or float32 audio by ``factor``."""

    native_type: ClassVar[str | None] = "MultiplyNode"

    def __init__(self, factor: float = 2.0, name: str | None = None, **kwargs: Any) -> None:
        factor = _param("MultiplyNode", "factor", factor)
        fields, inert = split_inert(type(self).__name__, kwargs)
        super().__init__(name, factor=factor, **fields)
        self.keep_inert(inert)
        self.factor = factor

    def process(self, data: Any) -> Any:
        """``data`` times ``factor``, in the same shape."""
        factor = float(self.factor)
        if isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], np.ndarray):
            samples, rate = data
            if samples.dtype != np.float32:
                raise TypeError(f"MultiplyNode expects f32 audio, got {samples.dtype} audio")
            return (samples * np.float32(factor), rate)
        return _map_numbers(data, "MultiplyNode", lambda x: x * factor)


class AddNode(Node):
    """Adds ``addend`` to numbers or (nested) lists of numbers."""

    native_type: ClassVar[str | None] = "AddNode"

    def __init__(self, addend: float = 0.0, name: str | None = None, **kwargs: Any) -> None:
        addend = _param("AddNode", "addend", addend)
        fields, inert = split_inert(type(self).__name__, kwargs)
        super().__init__(name, addend=addend, **fields)
        self.keep_inert(inert)
        self.addend = addend

    def process(self, data: Any) -> Any:
        """``data`` plus ``addend``, in the same shape."""
        addend = float(self.addend)
        return _map_numbers(data, "AddNode", lambda x: x + addend)


__all__ = ["AddNode", "MultiplyNode"]
