"""inpaint-data: masks, edges, shards and trainers for image inpainting."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("inpaint-data")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
