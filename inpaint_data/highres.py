"""Filling images much larger than a model was trained on, as IOPaint does it (iopaint/model/
base.py, InpaintModel.__call__; its defaults in iopaint/schema.py).

- original: the whole image at once, padded to the model's multiple.
- crop: each hole's bounding box (one per connected hole) grown by a margin on every side,
  shifted inwards at the image's edges to keep its size, filled on its own and pasted back.
- resize: the image scaled down so its long side is the resize limit, filled, the fill scaled
  back up (bicubic) and only the hole's pixels pasted into the original.

IOPaint's constants (crop when the long side exceeds 800 px, margin 128 px, resize limit 1280
px) are for big-lama, trained at 256 px; here they scale with the model's training size
(`train_size / 256`). `auto`, our default, picks one: original when the long side is within the
crop trigger, else crop, unless the crops together would cover over half the image (many or
large holes), then resize.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

STRATEGIES = ("auto", "original", "crop", "resize")
#: iopaint/schema.py's InpaintRequest defaults, for a model trained at IOPAINT_TRAIN_SIZE.
IOPAINT_CROP_TRIGGER, IOPAINT_CROP_MARGIN, IOPAINT_RESIZE_LIMIT, IOPAINT_TRAIN_SIZE = 800, 128, 1280, 256
#: `auto` resizes instead of cropping when the crops would cover more than this share of the image.
CROP_COVER_LIMIT = 0.5

Fill = Callable[[np.ndarray, np.ndarray, np.ndarray | None], np.ndarray]


@dataclass(frozen=True)
class HighResPolicy:
    """How to fill one image: a strategy of STRATEGIES and the model's training size."""

    strategy: str = "auto"
    train_size: int = IOPAINT_TRAIN_SIZE

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown --hd strategy {self.strategy!r}; expected one of {STRATEGIES}")

    def scaled(self, constant: int) -> int:
        return max(1, round(constant * self.train_size / IOPAINT_TRAIN_SIZE))

    @property
    def crop_trigger(self) -> int:
        return self.scaled(IOPAINT_CROP_TRIGGER)

    @property
    def crop_margin(self) -> int:
        return self.scaled(IOPAINT_CROP_MARGIN)

    @property
    def resize_limit(self) -> int:
        return self.scaled(IOPAINT_RESIZE_LIMIT)


def hole_boxes(hole: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(left, top, right, bottom) of each connected hole (8-connected), right and bottom exclusive."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(hole.astype(np.uint8), connectivity=8)
    return [(int(x), int(y), int(x + w), int(y + h)) for x, y, w, h, _ in stats[1:count]]


def crop_box(box: tuple[int, int, int, int], shape: tuple[int, int], margin: int) -> tuple[int, int, int, int]:
    """IOPaint's _crop_box: the box grown by `margin` around its centre, moved inwards where it
    crosses an edge so it keeps its size (as far as the image allows)."""
    left, top, right, bottom = box
    height, width = shape
    cx, cy = (left + right) // 2, (top + bottom) // 2
    w, h = right - left + 2 * margin, bottom - top + 2 * margin
    l0, r0, t0, b0 = cx - w // 2, cx + w // 2, cy - h // 2, cy + h // 2
    l1, r1, t1, b1 = max(l0, 0), min(r0, width), max(t0, 0), min(b0, height)
    if l0 < 0:
        r1 += -l0
    if r0 > width:
        l1 -= r0 - width
    if t0 < 0:
        b1 += -t0
    if b0 > height:
        t1 -= b0 - height
    return max(l1, 0), max(t1, 0), min(r1, width), min(b1, height)


def crop_windows(policy: HighResPolicy, hole: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The crop strategy's windows: each connected hole's box with the policy's margin."""
    return [crop_box(box, hole.shape, policy.crop_margin) for box in hole_boxes(hole)]


def choose(policy: HighResPolicy, hole: np.ndarray, windows: list[tuple[int, int, int, int]] | None = None) -> str:
    """The strategy `policy` gives for an image with this hole (see the module's docstring);
    `windows`: its crop_windows, when the caller has them."""
    if policy.strategy != "auto":
        return policy.strategy
    height, width = hole.shape
    if max(height, width) <= policy.crop_trigger:
        return "original"
    covered = np.zeros(hole.shape, bool)
    for left, top, right, bottom in crop_windows(policy, hole) if windows is None else windows:
        covered[top:bottom, left:right] = True
    return "crop" if covered.mean() <= CROP_COVER_LIMIT else "resize"


def fill_high_res(fill: Fill, image: np.ndarray, hole: np.ndarray, sketch: np.ndarray | None,
                  policy: HighResPolicy) -> tuple[np.ndarray, str]:
    """`fill` (image, hole, sketch -> filled image of the same size) applied as `policy` says;
    returns the filled image and the strategy used: crop and resize fall back to original for an
    image within the crop trigger or the resize limit (as IOPaint's do)."""
    height, width = hole.shape
    large = max(height, width) > policy.crop_trigger
    windows = crop_windows(policy, hole) if large and policy.strategy in ("auto", "crop") else []
    strategy = choose(policy, hole, windows)
    if strategy == "crop" and large:
        out = image.copy()
        for left, top, right, bottom in windows:
            window = (slice(top, bottom), slice(left, right))
            part_hole = hole[window]
            filled = fill(image[window], part_hole, None if sketch is None else sketch[window])
            out[window][part_hole] = filled[part_hole]
        return out, strategy
    if strategy == "resize" and max(height, width) > policy.resize_limit:
        scale = policy.resize_limit / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small_image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        small_hole = cv2.resize(hole.astype(np.uint8), size, interpolation=cv2.INTER_AREA) > 0
        small_sketch = None if sketch is None else cv2.resize(sketch.astype(np.uint8), size,
                                                               interpolation=cv2.INTER_NEAREST) > 0
        filled = cv2.resize(fill(small_image, small_hole, small_sketch), (width, height),
                            interpolation=cv2.INTER_CUBIC)
        return np.where(hole[..., None], filled, image), strategy
    return fill(image, hole, sketch), "original"
