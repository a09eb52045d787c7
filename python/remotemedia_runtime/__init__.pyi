from remotemedia._native import *  # noqa: F403

__version__: str
