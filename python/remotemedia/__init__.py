"""RemoteMedia: real-time audio pipelines on a Rust engine.

``Pipeline`` and the nodes run on the native engine (``remotemedia._native``)
when it is installed, and in pure Python (numpy) otherwise; the API and the
results are the same.
"""

from remotemedia._runtime import is_rust_runtime_available, set_worker_threads, version, worker_threads
from remotemedia.convert import convert_samples
from remotemedia.core.node import Node
from remotemedia.core.pipeline import Pipeline
from remotemedia.core.session import StreamSession
from remotemedia.exceptions import (
    Interrupted,
    NativeRuntimeUnavailableError,
    NodeError,
    PipelineError,
    RemoteMediaError,
    RetryableError,
)
from remotemedia.nodes import (
    AddNode,
    AudioBuffer,
    AudioResampleNode,
    AudioResampler,
    AudioTransform,
    ExtractAudioDataNode,
    FormatConverterNode,
    MultiplyNode,
    PassThroughNode,
    VADNode,
    VoiceActivityDetector,
)

__version__ = version()

__all__ = [
    "AddNode",
    "AudioBuffer",
    "AudioResampleNode",
    "AudioResampler",
    "AudioTransform",
    "ExtractAudioDataNode",
    "FormatConverterNode",
    "Interrupted",
    "MultiplyNode",
    "NativeRuntimeUnavailableError",
    "Node",
    "NodeError",
    "PassThroughNode",
    "Pipeline",
    "PipelineError",
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
