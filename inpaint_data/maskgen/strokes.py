"""Brush strokes: DeepFill v2's free-form generator and LaMa's irregular strokes.

Both follow the released generators' random draws one for one (docs/references.md, section 2), drawn
with OpenCV on a uint8 buffer (255 = hole) instead of PIL or float32.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

DEEPFILL_VERTICES = (4, 12)  # numpy randint(4, 12): 4..11 direction changes per stroke
DEEPFILL_MEAN_ANGLE = 2 * math.pi / 5
DEEPFILL_ANGLE_RANGE = 2 * math.pi / 15
DEEPFILL_WIDTH = (12, 40)  # int(uniform(12, 40)): 12..39 px


def brush_angles(rng: np.random.Generator, n: int) -> np.ndarray:
    """The n turning angles of a DeepFill v2 (and CoModGAN) stroke: drawn around 2 pi / 5 within a
    range of up to 2 pi / 15 either side, mirrored on even vertices."""
    angle_min = DEEPFILL_MEAN_ANGLE - rng.uniform(0, DEEPFILL_ANGLE_RANGE)
    angle_max = DEEPFILL_MEAN_ANGLE + rng.uniform(0, DEEPFILL_ANGLE_RANGE)
    angles = rng.uniform(angle_min, angle_max, n)
    angles[::2] = 2 * math.pi - angles[::2]
    return angles


def deepfill_strokes(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """DeepFill v2's brush_stroke_mask: 1..3 strokes of 4..11 segments, 12..39 px wide.

    Step lengths scale with the canvas diagonal, so the style is the same at any size. Unlike
    the official code, x is clipped to the width and y to the height (it swaps them, which only
    matters for non-square canvases), and its random flips, discarded there, are drawn too.
    """
    mask = np.zeros((height, width), np.uint8)
    radius = math.sqrt(height * height + width * width) / 8
    for _ in range(int(rng.integers(1, 4))):
        n = int(rng.integers(*DEEPFILL_VERTICES))
        angles = brush_angles(rng, n)
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        steps = np.clip(rng.normal(radius, radius // 2, n), 0, 2 * radius)
        dxs, dys = (steps * np.cos(angles)).tolist(), (steps * np.sin(angles)).tolist()
        points = [(x, y)]
        for dx, dy in zip(dxs, dys):
            x = int(min(max(x + dx, 0), width))
            y = int(min(max(y + dy, 0), height))
            points.append((x, y))
        stroke = int(rng.uniform(*DEEPFILL_WIDTH))
        # OpenCV's thick lines come out about one pixel wider than PIL's at the same width
        cv2.polylines(mask, [np.array(points, np.int32)], False, 255, max(1, stroke - 1))
        for p in points:
            cv2.circle(mask, p, stroke // 2, 255, -1)
    if rng.normal() > 0:
        mask = cv2.flip(mask, 1)
    if rng.normal() > 0:
        mask = cv2.flip(mask, 0)
    return mask


def lama_irregular(
    height: int,
    width: int,
    rng: np.random.Generator,
    min_times: int = 0,
    max_times: int = 10,
    max_width: int = 20,
    max_angle: int = 4,
    max_len: int = 60,
) -> np.ndarray:
    """LaMa's irregular strokes (RandomIrregularMaskGenerator with its LINE draw method).

    As in LaMa, the generator passes max_times + 1 to the drawing function, so the number of
    strokes is uniform in min_times..max_times + 1. Each stroke has 1..5 segments; angles are
    whole radians plus 0.01, mirrored on even strokes.
    """
    mask = np.zeros((height, width), np.uint8)
    for i in range(int(rng.integers(min_times, max_times + 2))):
        x, y = int(rng.integers(width)), int(rng.integers(height))
        segments = 1 + int(rng.integers(5))
        angles = 0.01 + rng.integers(max_angle, size=segments)
        if i % 2 == 0:
            angles = 2 * 3.1415926 - angles
        lengths = 10 + rng.integers(max_len, size=segments)
        brushes = 5 + rng.integers(max_width, size=segments)
        for angle, length, brush in zip(angles.tolist(), lengths.tolist(), brushes.tolist()):
            end_x = min(max(int(x + length * math.sin(angle)), 0), width)
            end_y = min(max(int(y + length * math.cos(angle)), 0), height)
            cv2.line(mask, (x, y), (end_x, end_y), 255, brush)
            x, y = end_x, end_y
    return mask
