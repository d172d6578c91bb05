"""Masks of the large-hole papers: CoModGAN's RandomMask, MAT's small and large variants of it,
and LaMa's outpainting masks (docs/references.md, section 2).

CoModGAN (Zhao et al. 2021, co-mod-gan training/mask_generator.py) unites random rectangles and
brush strokes, then keeps the mask only when its hole ratio lies strictly inside `hole_range`;
the range also scales how many shapes are tried (coef = min(lo + hi, 1)), so its 0.2-wide
evaluation buckets (metric_defaults.py h0..h4) are drawn with fewer shapes at the small end.
MAT (Li et al. 2022, datasets/mask_generator_512.py and _512_small.py) is the same generator with
fewer tries: (rectangles of half size, full size, strokes) = (5, 3, 9) large, (3, 2, 4) small,
CoModGAN (10, 5, 20). Strokes are 12..47 px wide at any canvas size, as released (512 px).

Departures, all invisible on the square canvases the papers use: x is drawn and clipped along the
width and y along the height (the released code swaps them through PIL's (W, H) size), rectangle
sides are drawn per axis (W/2 or W wide, H/2 or H high), and lines are drawn with OpenCV.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .strokes import brush_angles

#: (rectangles up to half the side, rectangles up to the side, strokes): maximum tries at coef 1.
COMODGAN_TRIES = (10, 5, 20)
MAT_LARGE_TRIES = (5, 3, 9)
MAT_SMALL_TRIES = (3, 2, 4)
BRUSH_VERTICES = (4, 18)  # randint(4, 18): 4..17 vertices; angles as DeepFill v2's (strokes.brush_angles)
BRUSH_WIDTH = (12, 48)  # int(uniform(12, 48)): 12..47 px
#: Masks drawn before a hole range is declared out of reach (the released loop never gives up).
MAX_DRAWS = 1000


def _randint(rng: np.random.Generator, high: int) -> int:
    """numpy's randint(high): 0..high-1; the released code calls it with high >= 1 only."""
    return int(rng.integers(high)) if high > 0 else 0


def brush_strokes(height: int, width: int, rng: np.random.Generator, max_tries: int) -> np.ndarray:
    """RandomBrush: 0..max_tries-1 polylines of 4..17 vertices, 12..47 px wide, with round joints,
    then a random vertical and horizontal flip of the whole mask. uint8, 255 = stroke."""
    mask = np.zeros((height, width), np.uint8)
    radius = math.sqrt(height * height + width * width) / 8
    for _ in range(_randint(rng, max_tries)):
        angles = brush_angles(rng, int(rng.integers(*BRUSH_VERTICES)))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        points = [(x, y)]
        for angle in angles.tolist():
            r = float(np.clip(rng.normal(radius, radius // 2), 0, 2 * radius))
            x = int(np.clip(x + r * math.cos(angle), 0, width))
            y = int(np.clip(y + r * math.sin(angle), 0, height))
            points.append((x, y))
        stroke = int(rng.uniform(*BRUSH_WIDTH))
        # OpenCV's thick lines come out about one pixel wider than PIL's at the same width
        cv2.polylines(mask, [np.array(points, np.int32)], False, 255, max(1, stroke - 1))
        for p in points:
            cv2.circle(mask, p, stroke // 2, 255, -1)
        rng.random(2)  # the released code draws two flips per stroke and discards them (PIL transpose)
    if rng.random() > 0.5:
        mask = mask[::-1]
    if rng.random() > 0.5:
        mask = mask[:, ::-1]
    return np.ascontiguousarray(mask)


def _rectangles(hole: np.ndarray, rng: np.random.Generator, max_tries: int, fraction: int) -> None:
    """MultiFill: 0..max_tries-1 rectangles up to side / fraction, partly off-canvas allowed."""
    height, width = hole.shape
    for _ in range(_randint(rng, max_tries)):
        w, h = _randint(rng, width // fraction), _randint(rng, height // fraction)
        ww, hh = w // 2, h // 2
        x, y = int(rng.integers(-ww, width - w + ww)), int(rng.integers(-hh, height - h + hh))
        hole[max(y, 0): min(y + h, height), max(x, 0): min(x + w, width)] = 255


def random_mask(height: int, width: int, rng: np.random.Generator, tries: tuple[int, int, int] = COMODGAN_TRIES,
                hole_range: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """RandomMask(s, hole_range): redrawn until lo < hole ratio < hi. uint8, 255 = hole."""
    lo, hi = hole_range
    coef = min(lo + hi, 1.0)
    for _ in range(MAX_DRAWS):
        hole = np.zeros((height, width), np.uint8)
        _rectangles(hole, rng, int(tries[0] * coef), 2)
        _rectangles(hole, rng, int(tries[1] * coef), 1)
        hole = np.maximum(hole, brush_strokes(height, width, rng, int(tries[2] * coef)))
        ratio = np.count_nonzero(hole) / hole.size
        if lo < ratio < hi:
            return hole
    raise ValueError(f"no mask with hole ratio in ({lo:g}, {hi:g}) after {MAX_DRAWS} draws at {width}x{height}")


def comodgan_mask(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    return random_mask(height, width, rng, COMODGAN_TRIES)


def mat_large(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    return random_mask(height, width, rng, MAT_LARGE_TRIES)


def mat_small(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    return random_mask(height, width, rng, MAT_SMALL_TRIES)


#: LaMa's OutpaintingMaskGenerator defaults: padding 4..25 % of a side, each side with probability 0.5.
OUTPAINT_PADDING = (0.04, 0.25)
OUTPAINT_PROBS = (0.5, 0.5, 0.5, 0.5)  # left, top, right, bottom


def lama_outpainting(height: int, width: int, rng: np.random.Generator,
                     padding: tuple[float, float] = OUTPAINT_PADDING,
                     probs: tuple[float, float, float, float] = OUTPAINT_PROBS) -> np.ndarray:
    """LaMa's OutpaintingMaskGenerator: a strip along each side with its probability (one side
    chosen by the probabilities when none came up). Each strip's share is randint(int(0.04 n),
    int(0.25 n)) / n with n the height for the left and right strips and the width for the top
    and bottom ones, as released (the shares are then applied across the other axis)."""
    def share(size: int) -> float:
        return int(rng.integers(int(padding[0] * size), int(padding[1] * size))) / size

    left, top, right, bottom = share(height), share(width), 1 - share(height), 1 - share(width)
    boxes = [((0, 0), (1, left)), ((0, 0), (top, 1)), ((0, right), (1, 1)), ((bottom, 0), (1, 1))]
    hole = np.zeros((height, width), np.uint8)

    def apply(box):
        (r0, c0), (r1, c1) = box
        hole[int(r0 * height): int(r1 * height), int(c0 * width): int(c1 * width)] = 255

    applied = False
    for p, box in zip(probs, boxes):
        if rng.random() < p:
            apply(box)
            applied = True
    if not applied:
        apply(boxes[int(rng.choice(4, p=np.asarray(probs) / sum(probs)))])
    return hole
