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
    # OpenCV's exact transform differs from call to call in the last bits (~1e-6 px, seen with
    # OpenCV 5.0), which moves pixels at the threshold. Squared distances to the nearest hole
    # pixel are integers, so rounding them gives exact, repeatable values.
    squared = np.rint(np.square(dist, dtype=np.float64))
    if margin:
        squared[:margin], squared[h - margin :] = np.inf, np.inf
        squared[:, :margin], squared[:, w - margin :] = np.inf, np.inf
    needed = math.ceil(target * h * w)
    flat = squared.ravel()
    if needed <= 0 or needed > np.count_nonzero(np.isfinite(flat)):
        return None
    limit = float(np.partition(flat, needed - 1)[needed - 1])
    return np.where(squared <= limit, np.uint8(255), np.uint8(0)), math.sqrt(limit)


def augment_video_mask(
    raw: np.ndarray,
    height: int,
    width: int,
    rng: np.random.Generator,
    dilation: tuple[int, int] = (9, 49),
) -> np.ndarray:
    """NVIDIA's training-time augmentation of an occlusion mask, to a height x width mask.

    The raw mask is scaled so its short side covers the output's long side, rotated by a
    uniform angle about a uniform point of it (the translation), cropped to the output around
    that point, then its holes are dilated with a k x k ellipse, k uniform in `dilation`.
    """
    h, w = raw.shape
    scale = max(height, width) / min(h, w)
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    angle = rng.uniform(0, 360)
    m = cv2.getRotationMatrix2D((cx, cy), angle, scale)
    m[0, 2] += width / 2 - cx
    m[1, 2] += height / 2 - cy
    out = cv2.warpAffine(raw, m, (width, height), flags=cv2.INTER_NEAREST, borderValue=0)
    k = int(rng.integers(dilation[0], dilation[1] + 1))
    if k > 1:
        out = cv2.dilate(out, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return out
