"""Edge maps and sketches: an edge probability stored as uint8 (`edge_to_png_array`), and from it a
sketch: threshold (DeepFill v2: 0.6), thinning to one-pixel lines, removal of small strokes. The
sketch is drawn at training time, so one stored edge map serves every setting."""

from __future__ import annotations

import cv2
import numpy as np
from skimage.morphology import thin

DEEPFILL_THRESHOLD = 0.6


def edge_to_png_array(edge: np.ndarray) -> np.ndarray:
    """Probability in [0, 1] to the stored uint8 (probability x 255, rounded)."""
    return np.round(np.clip(edge, 0, 1) * 255).astype(np.uint8)


def binarize(edge: np.ndarray, threshold: float = DEEPFILL_THRESHOLD) -> np.ndarray:
    """Edge map (uint8 0..255 or float 0..1) to bool: probability > threshold."""
    prob = edge.astype(np.float32) / 255.0 if edge.dtype == np.uint8 else edge
    return prob > threshold


def remove_small_strokes(lines: np.ndarray, min_pixels: int) -> np.ndarray:
    """Drop 8-connected strokes of fewer than `min_pixels` pixels (bool in, bool out)."""
    if min_pixels <= 1 or not lines.any():
        return lines
    n, labels, stats, _ = cv2.connectedComponentsWithStats(lines.astype(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_pixels
    keep[0] = False
    return keep[labels]


def sketch(edge: np.ndarray, threshold: float = DEEPFILL_THRESHOLD, thin_lines: bool = True,
           min_pixels: int = 10) -> np.ndarray:
    """A uint8 sketch (255 = line): thresholded, optionally thinned, small strokes removed."""
    lines = binarize(edge, threshold)
    if thin_lines:
        lines = thin(lines)
    lines = remove_small_strokes(lines, min_pixels)
    return lines.astype(np.uint8) * 255


def sketch_in_hole(sketch_map: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """DeepFill v2 feeds the sketch only inside the hole (mask 255 = hole)."""
    return np.where(hole > 0, sketch_map, 0).astype(np.uint8)
