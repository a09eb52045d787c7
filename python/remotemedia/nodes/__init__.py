"""Every node class of the SDK."""

from remotemedia.nodes.audio import (
    AudioBuffer,
    AudioResampleNode,
    AudioResampler,
    AudioTransform,
    ExtractAudioDataNode,
    FormatConverterNode,
    VADNode,
    VoiceActivityDetector,
)
from remotemedia.nodes.base import PassThroughNode
from remotemedia.nodes.simple_math import AddNode, MultiplyNode

__all__ = [
    "AddNode",
    "AudioBuffer",
    "AudioResampleNode",
    "AudioResampler",
    "AudioTransform",
    "ExtractAudioDataNode",
    "FormatConverterNode",
    "MultiplyNode",
    "PassThroughNode",
    "VADNode",
    "VoiceActivityDetector",
]
