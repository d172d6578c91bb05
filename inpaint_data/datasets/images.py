"""Image input: finding images and reading any of them as RGB uint8."""

from __future__ import annotations

import glob
import re
from pathlib import Path

import cv2
import numpy as np

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


class ImageError(RuntimeError):
    """An image that cannot be read; the message says why."""


def find_images(inputs: list[str]) -> list[tuple[str, str]]:
    """(path, key) of every image named by `inputs` (files, folders searched recursively, globs),
    sorted; the key is the path relative to its folder without extension, made key-safe."""
    found: dict[str, str] = {}
    for item in inputs:
        p = Path(item)
        if p.is_file():
            found[str(p.resolve())] = p.stem
        elif p.is_dir():
            for f in p.rglob("*"):
                if f.is_file() and f.suffix.lower() in IMAGE_EXTS:
                    found[str(f.resolve())] = str(f.relative_to(p).with_suffix(""))
        else:
            matches = [m for m in glob.glob(item, recursive=True) if Path(m).is_file()]
            if not matches:
                raise FileNotFoundError(f"no image matches {item!r}")
            for m in matches:
                found[str(Path(m).resolve())] = Path(m).stem
    keys = {path: re.sub(r"[^A-Za-z0-9_-]+", "_", key) for path, key in found.items()}
    if len(set(keys.values())) != len(keys):
        seen: dict[str, int] = {}
        for path in sorted(keys):  # disambiguate equal keys deterministically
            k = keys[path]
            seen[k] = seen.get(k, 0) + 1
            if seen[k] > 1:
                keys[path] = f"{k}-{seen[k]}"
    return sorted(keys.items())


def to_rgb8(array: np.ndarray) -> np.ndarray:
    """Gray, gray+alpha, BGR, BGRA, 8- or 16-bit (as cv2 decodes them) to RGB uint8."""
    if array.dtype == np.uint16:
        array = (array >> 8).astype(np.uint8)
    elif array.dtype != np.uint8:
        raise ImageError(f"unsupported pixel type {array.dtype}")
    if array.ndim == 2:
        return cv2.cvtColor(array, cv2.COLOR_GRAY2RGB)
    channels = array.shape[2]
    if channels == 1:
        return cv2.cvtColor(array[..., 0], cv2.COLOR_GRAY2RGB)
    if channels == 2:
        return cv2.cvtColor(array[..., 0], cv2.COLOR_GRAY2RGB)
    if channels == 4:
        return cv2.cvtColor(array, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(array, cv2.COLOR_BGR2RGB)


def decode_rgb(data: bytes) -> np.ndarray:
    """Encoded image bytes to RGB uint8; raises ImageError when they do not decode."""
    if not data:
        raise ImageError("empty file")
    if data[:2] == b"\xff\xd8" and b"\xff\xd9" not in data[-64:]:
        raise ImageError("truncated JPEG (no end-of-image marker)")
    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None:
        raise ImageError("not an image OpenCV can decode")
    return to_rgb8(array)


def read_rgb(path: str | Path) -> np.ndarray:
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ImageError(f"cannot read: {e.strerror}") from None
    return decode_rgb(data)
