"""Canny edges, the lightweight alternative to HED (EdgeConnect: sigma 2, or random 1..4)."""

from __future__ import annotations

import cv2
import numpy as np
from skimage.feature import canny

EDGECONNECT_SIGMA = 2.0


def canny_edges(image: np.ndarray, sigma: float = EDGECONNECT_SIGMA) -> np.ndarray:
    """uint8 edge map (255 = edge) of an RGB or gray uint8 image, as EdgeConnect computes it."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return canny(gray.astype(np.float64) / 255.0, sigma=sigma).astype(np.uint8) * 255


def random_sigma(rng: np.random.Generator, low: float = 1.0, high: float = 4.0) -> float:
    """EdgeConnect's random sigma for training."""
    return float(rng.uniform(low, high))
