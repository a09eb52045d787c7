"""``PassThroughNode``: hands every input on unchanged."""

from __future__ import annotations

from typing import Any, ClassVar

from remotemedia.core.node import Node, split_inert


class PassThroughNode(Node):
    """Hands every input on unchanged (audio buffers are shared, not copied)."""

    native_type: ClassVar[str | None] = "PassThroughNode"

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        fields, inert = split_inert(type(self).__name__, kwargs)
        super().__init__(name, **fields)
        self.keep_inert(inert)

    def process(self, data: Any) -> Any:
        """Returns ``data``."""
        return data


__all__ = ["PassThroughNode"]
