"""The SDK's exceptions under their older module path
(``remotemedia.core.exceptions``); they are defined in
:mod:`remotemedia.exceptions`."""

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

__all__ = [
    "ConfigurationError",
    "Interrupted",
    "NativeRuntimeUnavailableError",
    "NodeError",
    "PipelineError",
    "RemoteExecutionError",
    "RemoteMediaError",
    "RetryableError",
]
