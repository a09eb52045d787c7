"""RemoteMedia: real-time audio pipelines on a Rust engine.

``Pipeline`` and the nodes run on the native engine (``remotemedia._native``)
when it is installed, and in pure Python (numpy) otherwise; the API and the
results are the same.
"""

from remotemedia._runtime import is_rust_runtime_available, set_worker_threads, version, worker_threads
from remotemedia.convert import convert_samples
from remotemedia.core.node import Node, RemoteExecutorConfig
from remotemedia.core.pipeline import Pipeline
from remotemedia.core.session import StreamSession
from remotemedia.exceptions import (
    ConfigurationError,
    Interrupted,
    NativeRuntimeUnavailableError,
    NodeError,
    PipelineError,
    RemoteExecutionError,
    RemoteMediaError,
    RetryableError,
)
from remotemedia.nodes import (
    AddNode,
    AudioBuffer,
    AudioResampleNode,
    AudioResampler,
    AudioTrackSource,
    AudioTransform,
    ExtractAudioDataNode,
    FormatConverterNode,
    MediaReaderNode,
    MediaWriterNode,
    MultiplyNode,
    PassThroughNode,
    RemoteExecutionNode,
    VADNode,
    VoiceActivityDetector,
)

__version__ = version()

__all__ = [
    "AddNode",
    "AudioBuffer",
    "AudioResampleNode",
    "AudioResampler",
    "AudioTrackSource",
    "AudioTransform",
    "ConfigurationError",
    "ExtractAudioDataNode",
    "FormatConverterNode",
    "Interrupted",
    "MediaReaderNode",
    "MediaWriterNode",
    "MultiplyNode",
    "NativeRuntimeUnavailableError",
    "Node",
    "NodeError",
    "PassThroughNode",
    "Pipeline",
    "PipelineError",
    "RemoteExecutionError",
    "RemoteExecutionNode",
    "RemoteExecutorConfig",
    "RemoteMediaError",
    "RetryableError",
    "StreamSession",
    "VADNode",
    "VoiceActivityDetector",
    "__version__",
    "convert_samples",
    "is_rust_runtime_available",
    "set_worker_threads",
    "worker_threads",
]
