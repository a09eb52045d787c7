"""``RemoteExecutorConfig``: where remote nodes run.

``RemoteExecutorConfig(host, port, protocol="grpc", auth_token=None,
timeout=30.0, max_retries=3, ssl_enabled=True, pip_packages=None)`` names a
``remotemedia serve`` server. Calling it, ``config("VADNode",
node_config={...})``, returns a
:class:`~remotemedia.nodes.remote.RemoteExecutionNode` that runs that node
type on the server, as a stream, inside a local pipeline.

Decisions:

- ``config(node)`` with a built-in node (one with a native type, e.g.
  ``VADNode(threshold_db=-30)``) runs that node type with its params; with
  any other ``Node`` object it is refused: the older SDK pickled the object
  and ran it on the server, which lets any client run any code there. No
  server of ours runs pickled code.
- The connection is plain HTTP/2 (h2c), as ``remotemedia serve`` speaks; put
  TLS in front of the servers (a proxy or a mesh) where the network is not
  trusted. ``ssl_enabled`` is accepted for older scripts and warned about
  once when it asks for TLS to a host other than this machine.
- ``pip_packages`` installed packages for pickled code; without that
  feature it does nothing, and a non-empty list is warned about once.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

from remotemedia.exceptions import ConfigurationError

#: Builds the remote node; set by :mod:`remotemedia.nodes.remote` when it is
#: imported (the package imports it), so this module needs no node import.
_node_factory: Callable[..., Any] | None = None

_LOOPBACK = ("localhost", "127.0.0.1", "::1")
_warned: set[str] = set()


def set_node_factory(factory: Callable[..., Any]) -> None:
    """Registers what ``RemoteExecutorConfig.__call__`` builds."""
    global _node_factory
    _node_factory = factory


class RemoteExecutorConfig:
    """A ``remotemedia serve`` server to run nodes on (see the module docs)."""

    def __init__(
        self,
        host: str,
        port: int,
        protocol: str = "grpc",
        auth_token: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        ssl_enabled: bool = True,
        pip_packages: list[str] | None = None,
    ) -> None:
        if not isinstance(host, str) or not host or any(c.isspace() for c in host):
            raise ConfigurationError(f"host: expected a host name or address, got {host!r}")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ConfigurationError(f"port: expected an integer in 1..65535, got {port!r}")
        if protocol != "grpc":
            raise ConfigurationError(f"protocol: only 'grpc' is supported, got {protocol!r}")
        if auth_token is not None and not isinstance(auth_token, str):
            raise ConfigurationError(f"auth_token: expected a string, got {type(auth_token).__name__}")
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not math.isfinite(timeout)
            or not 0 < timeout <= 86_400
        ):
            raise ConfigurationError(f"timeout: expected seconds in (0, 86400], got {timeout!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or not 0 <= max_retries <= 100:
            raise ConfigurationError(f"max_retries: expected an integer in 0..100, got {max_retries!r}")
        self.host = host
        self.port = port
        self.protocol = protocol
        self.auth_token = auth_token
        self.timeout = float(timeout)
        self.max_retries = max_retries
        self.ssl_enabled = bool(ssl_enabled)
        self.pip_packages = list(pip_packages or [])
        if self.ssl_enabled and host not in _LOOPBACK:
            _warn_once(
                "ssl",
                "RemoteExecutorConfig: ssl_enabled=True, but the connection is plain HTTP/2 (h2c): "
                "terminate TLS in front of the servers where the network is not trusted",
            )
        if self.pip_packages:
            _warn_once("pip", "RemoteExecutorConfig: pip_packages has no effect (servers run no pickled code)")

    @property
    def endpoint(self) -> str:
        """``host:port`` (an IPv6 address in brackets)."""
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"{host}:{self.port}"

    def __call__(self, node: Any, node_config: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """A ``RemoteExecutionNode`` running ``node`` (a node type name, or a
        built-in node object) on this server."""
        # Importing any part of the package imports remotemedia.nodes.remote.
        assert _node_factory is not None, "remotemedia.nodes.remote registers the factory"
        if not isinstance(node, str):
            native_type = getattr(type(node), "native_type", None)
            if native_type is None or not hasattr(node, "params"):
                raise ConfigurationError(
                    f"remote execution of a {type(node).__name__} object is refused: it would mean running "
                    "pickled code sent by a client on the server. Name a node type the server has, e.g. "
                    "config('VADNode', node_config={...})"
                )
            if node_config is not None:
                raise ConfigurationError("node_config: give it with a node type name, not with a node object")
            kwargs.setdefault("name", node.name)
            node, node_config = native_type, node.params()
        return _node_factory(node, self, node_config=node_config, **kwargs)

    def __repr__(self) -> str:
        return f"RemoteExecutorConfig(host={self.host!r}, port={self.port}, protocol={self.protocol!r})"


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, UserWarning, stacklevel=3)


__all__ = ["RemoteExecutorConfig", "set_node_factory"]
