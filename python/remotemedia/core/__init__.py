"""Core classes: ``Pipeline``, ``Node`` and ``StreamSession``."""

from remotemedia.core.node import Node
from remotemedia.core.pipeline import Pipeline
from remotemedia.core.session import StreamSession

__all__ = ["Node", "Pipeline", "StreamSession"]
