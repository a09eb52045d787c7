"""RemoteMedia: real-time audio pipelines on a Rust engine.

``Pipeline`` and the nodes run on the native engine (``remotemedia._native``)
when it is installed, and in pure Python (numpy) otherwise; the API and the
results are the same.
"""

from remotemedia._runtime import is_rust_runtime_available
from remotemedia.convert import convert_samples
from remotemedia.core.node import Node
from remotemedia.core.pipeline import Pipeline
from remotemedia.core.session import StreamSession
from remotemedia.exceptions import (
    NativeRuntimeUnavailableError,
    NodeError,
    PipelineError,
    RemoteMediaError,
    RetryableError,
)
from remotemedia.nodes import (
    AddNode,
    AudioResampleNode,
    FormatConverterNode,
    MultiplyNode,
    PassThroughNode,
    VADNode,
)

__version__ = "0.1.0"

__all__ = [
    "AddNode",
    "AudioResampleNode",
    "FormatConverterNode",
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
    "__version__",
    "convert_samples",
    "is_rust_runtime_available",
]
