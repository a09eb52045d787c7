"""Every node class of the SDK."""

from remotemedia.nodes.audio import AudioResampleNode, FormatConverterNode, VADNode
from remotemedia.nodes.base import PassThroughNode
from remotemedia.nodes.simple_math import AddNode, MultiplyNode

__all__ = [
    "AddNode",
    "AudioResampleNode",
    "FormatConverterNode",
    "MultiplyNode",
    "PassThroughNode",
    "VADNode",
]
