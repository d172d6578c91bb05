"""Rectangular holes: DeepFill v2's training box, scaled to any canvas.

DeepFill v2 (inpaint_ops.random_bbox + bbox2mask) places a 128 x 128 box uniformly on a 256 x 256
canvas and shrinks it symmetrically by randint(0..16) px per side, so each side is 96..128 px.
Here the box is given as a fraction of each canvas side: `size=(0.375, 0.5)` is that box at 256
and the same proportions at any other size.
"""

from __future__ import annotations

import numpy as np

DEEPFILL_BOX_SIZE = (0.375, 0.5)


def box_mask(
    height: int,
    width: int,
    rng: np.random.Generator,
    size: tuple[float, float] = DEEPFILL_BOX_SIZE,
    count: tuple[int, int] = (1, 1),
) -> np.ndarray:
    """A uint8 mask (255 = hole) with `count` boxes, each side a `size` fraction of the canvas.

    Each box starts at the largest size, is placed uniformly so that it fits, then loses the
    same random amount on both ends of each axis, as DeepFill v2 does.
    """
    lo, hi = size
    if not 0 < lo <= hi <= 1:
        raise ValueError(f"box size must satisfy 0 < min <= max <= 1, got {size}")
    if not 1 <= count[0] <= count[1]:
        raise ValueError(f"box count must satisfy 1 <= min <= max, got {count}")
    mask = np.zeros((height, width), np.uint8)
    for _ in range(int(rng.integers(count[0], count[1] + 1))):
        bh, bw = max(1, round(hi * height)), max(1, round(hi * width))
        top = int(rng.integers(0, height - bh)) if height > bh else 0
        left = int(rng.integers(0, width - bw)) if width > bw else 0
        max_dh = int((hi - lo) * height / 2)
        max_dw = int((hi - lo) * width / 2)
        dh = int(rng.integers(0, max_dh + 1))
        dw = int(rng.integers(0, max_dw + 1))
        mask[top + dh : top + bh - dh, left + dw : left + bw - dw] = 255
    return mask


def lama_boxes(
    height: int,
    width: int,
    rng: np.random.Generator,
    margin: int = 10,
    min_size: int = 30,
    max_size: int = 100,
    min_times: int = 0,
    max_times: int = 3,
) -> np.ndarray:
    """LaMa's RandomRectangleMaskGenerator: min_times..max_times boxes, sides min..max px.

    As in LaMa, the side bound is capped so that a box fits inside the margin.
    """
    mask = np.zeros((height, width), np.uint8)
    hi = min(max_size + 1, height - 2 * margin, width - 2 * margin)
    if hi <= min_size:
        raise ValueError(f"a {height}x{width} canvas cannot hold {min_size} px boxes with a {margin} px margin")
    for _ in range(int(rng.integers(min_times, max_times + 1))):
        box_w = int(rng.integers(min_size, hi))
        box_h = int(rng.integers(min_size, hi))
        x = int(rng.integers(margin, width - margin - box_w + 1))
        y = int(rng.integers(margin, height - margin - box_h + 1))
        mask[y : y + box_h, x : x + box_w] = 255
    return mask
