"""The package version and the ``User-Agent`` built from it, in one place."""

from typing import Final

__version__ = "0.1.0"
USER_AGENT: Final = f"flattr-python/{__version__}"
