"""RemoteMedia: real-time audio pipelines on a Rust engine.

Every ``Pipeline`` runs on the native engine (``remotemedia._native``); the
built-in nodes run as native code, or with ``use_rust=False`` /
``runtime_hint="python"`` as their numpy implementations (inside the engine,
within the tolerances ``remotemedia._numpy`` states). Your own nodes run
through CPython, as the instances you built.
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
