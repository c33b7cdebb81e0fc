"""gpuval: valuation toolkit for China's AI-chip IPO wave."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gpuval")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
