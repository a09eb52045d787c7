"""Calling ``remotemedia serve`` servers from Python: :class:`Client`."""

from remotemedia.remote.client import Client

__all__ = ["Client"]
