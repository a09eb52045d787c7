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
from remotemedia.nodes.remote import RemoteExecutionNode
from remotemedia.nodes.simple_math import AddNode, MultiplyNode
from remotemedia.nodes.sink import MediaWriterNode
from remotemedia.nodes.source import AudioTrackSource, MediaReaderNode

__all__ = [
    "AddNode",
    "AudioBuffer",
    "AudioResampleNode",
    "AudioResampler",
    "AudioTrackSource",
    "AudioTransform",
    "ExtractAudioDataNode",
    "FormatConverterNode",
    "MediaReaderNode",
    "MediaWriterNode",
    "MultiplyNode",
    "PassThroughNode",
    "RemoteExecutionNode",
    "VADNode",
    "VoiceActivityDetector",
]
