"""PConv-Keras's random masks (MathiasGruber/PConv-Keras, libs/util.py MaskGenerator).

Lines, filled circles and unfilled elliptical arcs, 1..20 of each, with Python's inclusive
randint bounds reproduced as rng.integers(lo, hi + 1).
"""

from __future__ import annotations

import cv2
import numpy as np


def _randint(rng: np.random.Generator, lo: int, hi: int) -> int:
    """Python's random.randint(lo, hi): both ends included."""
    return int(rng.integers(lo, hi + 1))


def pconv_keras_mask(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Lines, circles and elliptical arcs whose sizes scale with size = int((W + H) * 0.03)."""
    mask = np.zeros((height, width), np.uint8)
    size = max(3, int((width + height) * 0.03))
    for _ in range(_randint(rng, 1, 20)):
        x1, x2 = _randint(rng, 1, width), _randint(rng, 1, width)
        y1, y2 = _randint(rng, 1, height), _randint(rng, 1, height)
        cv2.line(mask, (x1, y1), (x2, y2), 255, _randint(rng, 3, size))
    for _ in range(_randint(rng, 1, 20)):
        centre = (_randint(rng, 1, width), _randint(rng, 1, height))
        cv2.circle(mask, centre, _randint(rng, 3, size), 255, -1)
    for _ in range(_randint(rng, 1, 20)):
        centre = (_randint(rng, 1, width), _randint(rng, 1, height))
        axes = (_randint(rng, 1, width), _randint(rng, 1, height))
        rotation, start, end = (_randint(rng, 3, 180) for _ in range(3))
        cv2.ellipse(mask, centre, axes, rotation, start, end, 255, _randint(rng, 3, size))
    return mask
