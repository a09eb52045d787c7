"""Core classes: ``Pipeline`` and ``Node``."""

from remotemedia.core.node import Node
from remotemedia.core.pipeline import Pipeline

__all__ = ["Node", "Pipeline"]
