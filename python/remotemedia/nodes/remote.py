"""``RemoteExecutionNode``: a node type run on a ``remotemedia serve`` server.

Built by :class:`~remotemedia.core.node.RemoteExecutorConfig`:
``RemoteExecutorConfig("gpu-box", 50051)("VADNode", node_config={...})``.
In a pipeline it is the native ``RemotePipelineNode``: each session (or
run) of the pipeline holds one stream on the server, every input goes there
as a chunk and the node's results come back in its place. Audio in; what
the remote node returns out (``VADNode``: ``(audio, rate, info)``).

A transient failure (the server unreachable, overloaded or gone) is retried
``max_retries`` times, on a new stream (the remote node's state starts
over); a refusal (unknown node type, bad params, a wrong token) fails at
once. It runs on the native engine only.
"""

from __future__ import annotations

from typing import Any, ClassVar

from remotemedia.core.node import Node, split_inert
from remotemedia.core.remote_config import RemoteExecutorConfig, set_node_factory
from remotemedia.exceptions import ConfigurationError


class RemoteExecutionNode(Node):
    """Runs ``node_to_execute`` with ``node_config`` on the server of ``remote_config``."""

    native_type: ClassVar[str | None] = "RemotePipelineNode"
    #: The remote call is native only (``use_rust=False`` runs it natively too).
    has_python_implementation: ClassVar[bool] = False

    def __init__(
        self,
        node_to_execute: str,
        remote_config: RemoteExecutorConfig,
        node_config: dict[str, Any] | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(node_to_execute, str) or not node_to_execute:
            raise ConfigurationError(f"node_to_execute: expected a node type name, got {node_to_execute!r}")
        if not isinstance(remote_config, RemoteExecutorConfig):
            raise ConfigurationError(
                f"remote_config: expected a RemoteExecutorConfig, got {type(remote_config).__name__}"
            )
        if node_config is not None and not isinstance(node_config, dict):
            raise ConfigurationError(f"node_config: expected a dict, got {type(node_config).__name__}")
        fields, inert = split_inert(type(self).__name__, kwargs)
        if "retry" not in fields:
            # A retry goes to a new stream at once; waiting would not bring
            # a dead server back.
            fields["retry"] = {
                "max_retries": remote_config.max_retries,
                "initial_delay_ms": 0,
                "multiplier": 2.0,
                "max_delay_ms": 50,
            }
        super().__init__(name or f"Remote{node_to_execute}", **fields)
        self.keep_inert(inert)
        self.node_to_execute = node_to_execute
        self.remote_config = remote_config
        self.node_config: dict[str, Any] = dict(node_config or {})

    @property
    def node_type(self) -> str:
        """The native node type that runs it."""
        return "RemotePipelineNode"

    def params(self) -> dict[str, Any]:
        """The ``RemotePipelineNode`` params."""
        cfg = self.remote_config
        params: dict[str, Any] = {
            "endpoints": [cfg.endpoint],
            "node_type": self.node_to_execute,
            "params": self.node_config,
            "timeout_ms": max(1, round(cfg.timeout * 1000)),
        }
        if cfg.auth_token is not None:
            params["auth_token"] = cfg.auth_token
        return params

    def process(self, data: Any) -> Any:
        """The remote call happens in the engine: run it in a pipeline."""
        raise TypeError("RemoteExecutionNode calls its server inside a pipeline: put it in one and run or stream it")

    def __repr__(self) -> str:
        target = f"{self.node_to_execute!r}, {self.remote_config!r}"
        return f"RemoteExecutionNode({target}, node_config={self.node_config!r})"


set_node_factory(RemoteExecutionNode)

__all__ = ["RemoteExecutionNode"]
