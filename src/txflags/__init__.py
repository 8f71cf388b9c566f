"""txflags: find the financial footprints of human trafficking in transaction exports."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("txflags")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

__all__ = ["__version__"]
