"""Mask augmentations: growing holes to a target hole ratio (NVIDIA dilated its masks to fill
the high hole-ratio bins)."""

from __future__ import annotations

import math

import cv2
import numpy as np


def dilate_to_ratio(mask: np.ndarray, target: float, margin: int = 0) -> tuple[np.ndarray, float] | None:
    """Grow the holes by the smallest Euclidean radius that reaches `target` hole ratio.

    Pixels within `margin` of the border stay known. Returns (mask, radius), or None when the
    target cannot be reached (no hole to grow, or not enough room inside the margin).
    """
    h, w = mask.shape
    holes = mask > 0
    if not holes.any():
        return None
    dist = cv2.distanceTransform((~holes).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    if margin:
        dist[:margin], dist[h - margin :], dist[:, :margin], dist[:, w - margin :] = np.inf, np.inf, np.inf, np.inf
    needed = math.ceil(target * h * w)
    flat = dist.ravel()
    if needed <= 0 or needed > np.count_nonzero(np.isfinite(flat)):
        return None
    radius = float(np.partition(flat, needed - 1)[needed - 1])
    return np.where(dist <= radius, np.uint8(255), np.uint8(0)), radius
