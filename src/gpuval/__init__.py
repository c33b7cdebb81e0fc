"""gpuval: valuation toolkit for China's AI-chip IPO wave.

``gpuval.records()`` returns every sourced dataset figure as a pandas DataFrame.

Importing ``gpuval`` loads nothing else: ``__version__``, ``load_dataset`` and ``records`` are
looked up on first use (PEP 562), so a command or function that needs none of them starts quickly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gpuval.data.dataset import load_dataset, records

__all__ = ["__version__", "load_dataset", "records"]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gpuval")
    except PackageNotFoundError:  # running from a source tree without installation
        return "0.0.0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value: Any = _version()
    elif name in ("load_dataset", "records"):
        from gpuval.data import dataset

        value = getattr(dataset, name)
    else:
        raise AttributeError(f"module 'gpuval' has no attribute {name!r}")
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
