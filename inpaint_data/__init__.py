"""inpaint-data: masks, edges, shards and trainers for image inpainting."""


def __getattr__(name: str) -> str:
    """`__version__`, read from the installed package's metadata when first asked for."""
    if name != "__version__":
        raise AttributeError(name)
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("inpaint-data")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+unknown"
