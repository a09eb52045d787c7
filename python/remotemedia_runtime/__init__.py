"""The native runtime under its older name: ``import remotemedia_runtime``
succeeds exactly when the extension ``remotemedia._native`` is built, and
exposes its ``__version__`` and functions."""

from remotemedia._native import *  # noqa: F403
from remotemedia._native import __version__

__all__ = ["__version__"]
