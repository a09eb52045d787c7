"""Joining the pieces one clip produced into one value (as the bindings do
for native runs): audio along time, VAD results added up."""

from __future__ import annotations

from typing import Any

import numpy as np


def is_audio(value: Any) -> bool:
    """True for ``(ndarray, sample_rate)`` and ``(ndarray, sample_rate, info)``."""
    return (
        isinstance(value, tuple)
        and len(value) in (2, 3)
        and isinstance(value[0], np.ndarray)
        and isinstance(value[1], (int, np.integer))
    )


def merge_clip(values: list[Any]) -> list[Any]:
    """One value for a run of compatible audio pieces; others unchanged."""
    if len(values) < 2 or not all(is_audio(v) for v in values):
        return values
    first = values[0][0]
    rate = values[0][1]
    if any(
        v[1] != rate or v[0].dtype != first.dtype or v[0].ndim != first.ndim or v[0].shape[:-1] != first.shape[:-1]
        for v in values
    ):
        return values
    pieces = [v[0] for v in values if v[0].shape[-1] > 0]
    if not pieces:
        samples = first
    elif len(pieces) == 1:
        samples = pieces[0]
    else:
        samples = np.concatenate(pieces, axis=-1)
    infos = [v[2] for v in values if len(v) == 3]
    if not infos:
        return [(samples, rate)]
    info: dict[str, Any] = {
        "is_speech": any(i.get("is_speech", False) for i in infos),
        "speech_frames": sum(i.get("speech_frames", 0) for i in infos),
        "total_frames": sum(i.get("total_frames", 0) for i in infos),
        "segments": [s for i in infos for s in i.get("segments", [])],
        "frame_decisions": [d for i in infos for d in i.get("frame_decisions", [])],
    }
    return [(samples, rate, info)]
