from remotemedia._native import *  # noqa: F403
from remotemedia._native import __version__ as __version__
