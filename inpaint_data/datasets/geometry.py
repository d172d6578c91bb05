"""Resizing and cropping shared by image ingestion and training-time augmentation, applied
identically to an image and its edge map."""

from __future__ import annotations

import cv2
import numpy as np


def resize_short_side(array: np.ndarray, size: int) -> np.ndarray:
    """Scale so the short side is `size` (area filter down, cubic up); unchanged if it already is."""
    h, w = array.shape[:2]
    if min(h, w) == size:
        return array
    scale = size / min(h, w)
    new = (max(size, round(w * scale)), max(size, round(h * scale)))
    return cv2.resize(array, new, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def crop_box(height: int, width: int, size: int, mode: str, rng: np.random.Generator | None = None) -> tuple[int, int]:
    """Top-left corner of a size x size crop: centred, or uniform (`rng` required)."""
    if mode == "center":
        return (height - size) // 2, (width - size) // 2
    if mode == "random":
        return int(rng.integers(0, height - size + 1)), int(rng.integers(0, width - size + 1))
    raise ValueError(f"unknown crop mode {mode!r}")


def crop(array: np.ndarray, top: int, left: int, size: int) -> np.ndarray:
    return array[top : top + size, left : left + size]
