"""gpuval: valuation toolkit for China's AI-chip IPO wave.

``gpuval.records()`` returns every sourced dataset figure as a pandas DataFrame.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gpuval")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

from gpuval.data.dataset import load_dataset, records

__all__ = ["__version__", "load_dataset", "records"]
