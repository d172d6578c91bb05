"""Reading and writing `.pt` files without running code from them.

`torch.load` unpickles, and a pickle can call any function while it loads. Every `.pt` this
package reads (exported models, `best.pt`, training checkpoints, `--init`, VGG and HED weights)
goes through `load_pt`, which uses `weights_only=True`: only tensors, numbers, strings, None,
and lists, tuples and dicts of them load; anything else is refused before it is built.
`save_pt` writes only such plain objects (and refuses others), so whatever we save loads back
under the same rule.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from pathlib import Path
from typing import Any

import torch

from .. import storage
from ..errors import InputError, first_line
from ..fileio import atomic_file, redacted

PLAIN_TYPES = (str, int, float, bool, type(None), torch.Tensor, torch.dtype, torch.Size)


class UnsafeFileError(InputError):
    """A `.pt` file that holds more than plain data (it could run code when loaded)."""


def check_plain(obj: Any, where: str = "") -> None:
    """Raise TypeError when `obj` holds anything but tensors, numbers, strings, None, lists,
    tuples and dicts with string or number keys (what weights_only loading accepts)."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if not isinstance(key, (str, int)):
                raise TypeError(f"{where or 'object'}: key {key!r} is a {type(key).__name__}")
            check_plain(value, f"{where}.{key}" if where else str(key))
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            check_plain(value, f"{where}[{i}]")
    elif not isinstance(obj, PLAIN_TYPES):
        raise TypeError(f"{where or 'object'} is a {type(obj).__module__}.{type(obj).__name__}, not plain data")


def load_pt(path: str | Path, what: str = "file") -> Any:
    """The contents of a `.pt` file, loaded with weights_only=True on the CPU.

    Raises UnsafeFileError when the file holds objects other than plain data (nothing of it is
    built), InputError when it is not a PyTorch file, FileNotFoundError when it is missing.
    `path` may be a URL (see storage): the file is read into memory, not copied to disk.
    """
    if not storage.is_file(path):
        raise FileNotFoundError(f"{what} {path} not found")
    source = io.BytesIO(storage.read_bytes(path)) if storage.is_remote(path) else Path(path)
    with storage.open_input(path) as f:
        head = f.read(2)
    if head != b"PK" and head[:1] != b"\x80":  # torch.save writes a zip archive; old files are a pickle
        raise InputError(f"{what} {path} is not a weights file (neither a PyTorch zip archive nor a pickle)")
    try:
        return torch.load(source, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        raise UnsafeFileError(
            f"{what} {path} refused: it holds objects other than tensors, numbers, strings, lists and dicts, "
            f"which could run code when loaded ({first_line(e, 160)})"
        ) from None
    except Exception as e:  # torch raises many types for damaged files (RuntimeError, struct.error, EOFError)
        raise InputError(f"{what} {path} is not a PyTorch file we can read ({first_line(e, 160)})") from None


def save_pt(obj: Any, path: str | Path) -> str | Path:
    """Write plain data (see check_plain) to `path` atomically: a temporary sibling, then a
    rename (a temporary key, then a move, for a URL: see storage). Strings are written without
    URL secrets (fileio.redact): a checkpoint's recorded settings hold the run's locations."""
    check_plain(obj)
    obj = redacted(obj)
    if storage.is_remote(path):
        buffer = io.BytesIO()
        torch.save(obj, buffer)
        storage.write_bytes(path, buffer.getvalue())
        return path
    with atomic_file(path) as tmp:
        torch.save(obj, tmp)
    return Path(path)


def sha256_of(path: str | Path) -> str:
    """The sha256 of a file, hex, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_sha256(path: str | Path, expected: str, what: str) -> None:
    """Refuse a weights file whose sha256 is not `expected` (the whole 64-digit digest: the
    8-digit prefix in torch.hub-style release names is 32 bits, easily matched on purpose): a
    metric computed with other weights is not comparable with the papers'. InputError names both
    digests."""
    if len(expected) != 64:
        raise ValueError(f"{what}: a whole sha256 of 64 hex digits is needed, got {expected!r}")
    if not Path(path).is_file():
        raise FileNotFoundError(f"{what}: {path} not found")
    actual = sha256_of(path)
    if actual != expected.lower():
        raise InputError(f"{what}: {path} has sha256 {actual[:16]}..., expected {expected[:16]}...; "
                         "it is another file than the released one")
