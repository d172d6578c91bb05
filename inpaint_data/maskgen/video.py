"""Occlusion masks from two consecutive video frames, as NVIDIA built the partial-convolution
mask set: forward and backward optical flow, then the forward-backward consistency check and
motion-boundary test of Ruder et al. (REFERENCE.md section 1). Pure numpy/OpenCV."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}
FLOW_METHODS = ("dis", "farneback")


@dataclass(frozen=True)
class OcclusionParams:
    """The constants of the check; defaults are Ruder et al.'s and NVIDIA's."""

    consistency_rel: float = 0.01  # |w + w'|^2 >= rel (|w|^2 + |w'|^2) + abs  -> occluded
    consistency_abs: float = 0.5
    motion_rel: float = 0.01  # |grad u|^2 + |grad v|^2 > rel |w|^2 + abs  -> motion boundary
    motion_abs: float = 0.002
    sigma: float = 0.8  # Gaussian smoothing of the reliability map
    threshold: float = 0.6  # hole where the smoothed reliability <= threshold
    min_component: int = 16  # holes smaller than this many pixels are dropped


def to_gray(frame: np.ndarray) -> np.ndarray:
    return frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


class FlowEstimator:
    """Dense optical flow between grayscale frames: OpenCV DIS (a preset) or Farneback."""

    def __init__(self, method: str = "dis", preset: str = "fast"):
        if method not in FLOW_METHODS:
            raise ValueError(f"unknown flow method {method!r}; expected one of {FLOW_METHODS}")
        if method == "dis" and preset not in DIS_PRESETS:
            raise ValueError(f"unknown DIS preset {preset!r}; expected one of {sorted(DIS_PRESETS)}")
        self.method = method
        self._dis = cv2.DISOpticalFlow_create(DIS_PRESETS[preset]) if method == "dis" else None

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Flow from `a` to `b`, H x W x 2 float32 (dx, dy)."""
        if self._dis is not None:
            return self._dis.calc(a, b, None)
        return cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)


@lru_cache(maxsize=8)
def _pixel_grid(h: int, w: int) -> np.ndarray:
    """H x W x 2 float32 pixel coordinates (x, y), cached per frame size."""
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    grid = np.dstack([gx, gy])
    grid.setflags(write=False)
    return grid


def _sq_norm(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    out = cv2.multiply(u, u)
    return cv2.add(out, cv2.multiply(v, v), dst=out)


def unreliable(flow: np.ndarray, back: np.ndarray, params: OcclusionParams = OcclusionParams()) -> np.ndarray:
    """Boolean H x W: pixels of the first frame that `flow` carries off the frame, that fail the
    forward-backward consistency check against `back`, or that lie on a motion boundary."""
    h, w = flow.shape[:2]
    target = cv2.add(flow, _pixel_grid(h, w))
    back_at = cv2.remap(back, target, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    tx, ty = cv2.split(target)
    bad = (tx < 0) | (tx > w - 1) | (ty < 0) | (ty > h - 1)
    u, v = cv2.split(flow)
    bu, bv = cv2.split(back_at)
    flow_sq, back_sq = _sq_norm(u, v), _sq_norm(bu, bv)
    mismatch = _sq_norm(cv2.add(u, bu), cv2.add(v, bv))
    bad |= mismatch >= params.consistency_rel * (flow_sq + back_sq) + params.consistency_abs
    grad = np.zeros((h, w), np.float32)  # |grad u|^2 + |grad v|^2 by forward differences
    for c in (u, v):
        dx = c[:, 1:] - c[:, :-1]
        dy = c[1:, :] - c[:-1, :]
        grad[:, :-1] += dx * dx
        grad[:-1, :] += dy * dy
    bad |= grad > params.motion_rel * flow_sq + params.motion_abs
    return bad


def reliability_to_mask(bad: np.ndarray, params: OcclusionParams = OcclusionParams()) -> np.ndarray:
    """Smooth the reliability map (255 reliable, 0 not), threshold it, drop tiny holes: uint8, 255 = hole."""
    reliable = np.where(bad, np.float32(0), np.float32(1))
    if params.sigma > 0:
        reliable = cv2.GaussianBlur(reliable, (0, 0), params.sigma)
    mask = np.where(reliable <= params.threshold, np.uint8(255), np.uint8(0))
    return remove_small_holes(mask, params.min_component)


def remove_small_holes(mask: np.ndarray, min_area: int) -> np.ndarray:
    """Drop hole components (8-connected) of fewer than `min_area` pixels."""
    if min_area <= 1 or not mask.any():
        return mask
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False
    return np.where(keep[labels], np.uint8(255), np.uint8(0))


def occlusion_mask(
    flow: np.ndarray, back: np.ndarray, params: OcclusionParams = OcclusionParams()
) -> np.ndarray:
    """Occluded and dis-occluded pixels between two frames given both flows: the pixels of the
    first frame that vanish (forward check) united with those of the second that appear
    (backward check), in image coordinates. uint8, 255 = hole."""
    bad = unreliable(flow, back, params) | unreliable(back, flow, params)
    return reliability_to_mask(bad, params)


def frame_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two grayscale frames at 1/8 scale, 0..255 (cut detection)."""
    small = lambda f: cv2.resize(f, (max(1, f.shape[1] // 8), max(1, f.shape[0] // 8)), interpolation=cv2.INTER_AREA)  # noqa: E731
    return float(cv2.absdiff(small(a), small(b)).mean())


def near_duplicate(a: np.ndarray, b: np.ndarray, iou: float) -> bool:
    """True when two masks overlap with IoU >= `iou` at 1/8 scale (blind to 1-2 px jitter)."""
    if a.shape != b.shape:
        return False
    size = (max(1, a.shape[1] // 8), max(1, a.shape[0] // 8))
    sa = cv2.resize(a, size, interpolation=cv2.INTER_AREA) > 0
    sb = cv2.resize(b, size, interpolation=cv2.INTER_AREA) > 0
    union = np.count_nonzero(sa | sb)
    return union > 0 and np.count_nonzero(sa & sb) / union >= iou
