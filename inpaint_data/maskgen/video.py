"""Occlusion masks from two consecutive video frames, as NVIDIA built the partial-convolution
mask set: forward and backward optical flow, then the forward-backward consistency check and
motion-boundary test of Ruder et al. (docs/references.md, section 1). Pure numpy/OpenCV."""

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
    off_frame: bool = True  # pixels the flow carries off the frame count as occluded


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


class _Workspace:
    """Buffers for one frame size, reused from pair to pair: allocating fresh full-frame arrays
    for every pair costs more (page faults) than the arithmetic itself."""

    def __init__(self, h: int, w: int):
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        self.grid = np.dstack([gx, gy])
        two = lambda: np.zeros((h, w, 2), np.float32)  # noqa: E731
        one = lambda: np.zeros((h, w), np.float32)  # noqa: E731
        byte = lambda: np.zeros((h, w), np.uint8)  # noqa: E731
        self.target, self.back_at, self.pair, self.square, self.diff = two(), two(), two(), two(), two()
        self.flow_sq, self.back_sq, self.mismatch = one(), one(), one()
        self.limit, self.grad, self.grad_y = one(), one(), one()
        self.inside, self.test, self.bad, self.smooth = byte(), byte(), byte(), byte()


@lru_cache(maxsize=4)
def _workspace(h: int, w: int) -> _Workspace:
    return _Workspace(h, w)


def _sq_norm(vectors: np.ndarray, square: np.ndarray, out: np.ndarray) -> np.ndarray:
    """|v|^2 of an H x W x 2 array, into `out` (`square` is scratch space)."""
    cv2.multiply(vectors, vectors, dst=square)
    return np.add(square[..., 0], square[..., 1], out=out)


def _unreliable_into(flow: np.ndarray, back: np.ndarray, params: OcclusionParams, ws: _Workspace) -> None:
    """ws.bad |= 255 where `flow` leaves the frame, fails the consistency check, or has a motion boundary."""
    h, w = flow.shape[:2]
    cv2.add(flow, ws.grid, dst=ws.target)
    cv2.remap(back, ws.target, None, cv2.INTER_LINEAR, dst=ws.back_at, borderMode=cv2.BORDER_REPLICATE)
    if params.off_frame:
        cv2.inRange(ws.target, (0.0, 0.0), (w - 1.0, h - 1.0), dst=ws.inside)
        cv2.bitwise_not(ws.inside, dst=ws.test)
        cv2.bitwise_or(ws.bad, ws.test, dst=ws.bad)
    _sq_norm(flow, ws.square, ws.flow_sq)
    _sq_norm(ws.back_at, ws.square, ws.back_sq)
    _sq_norm(cv2.add(flow, ws.back_at, dst=ws.pair), ws.square, ws.mismatch)
    r, a = params.consistency_rel, params.consistency_abs
    cv2.addWeighted(ws.flow_sq, r, ws.back_sq, r, a, dst=ws.limit)
    cv2.compare(ws.mismatch, ws.limit, cv2.CMP_GE, dst=ws.test)
    cv2.bitwise_or(ws.bad, ws.test, dst=ws.bad)
    # |grad u|^2 + |grad v|^2 by forward differences (zero on the last column / row)
    ws.diff[:, -1] = 0
    cv2.subtract(flow[:, 1:], flow[:, :-1], dst=ws.diff[:, :-1])
    _sq_norm(ws.diff, ws.square, ws.grad)
    ws.diff[-1] = 0
    cv2.subtract(flow[1:], flow[:-1], dst=ws.diff[:-1])
    cv2.add(ws.grad, _sq_norm(ws.diff, ws.square, ws.grad_y), dst=ws.grad)
    cv2.addWeighted(ws.flow_sq, params.motion_rel, ws.flow_sq, 0.0, params.motion_abs, dst=ws.limit)
    cv2.compare(ws.grad, ws.limit, cv2.CMP_GT, dst=ws.test)
    cv2.bitwise_or(ws.bad, ws.test, dst=ws.bad)


def unreliable(flow: np.ndarray, back: np.ndarray, params: OcclusionParams = OcclusionParams()) -> np.ndarray:
    """Boolean H x W: pixels of the first frame that `flow` carries off the frame, that fail the
    forward-backward consistency check against `back`, or that lie on a motion boundary."""
    ws = _workspace(*flow.shape[:2])
    ws.bad[:] = 0
    _unreliable_into(flow, back, params, ws)
    return ws.bad > 0


def reliability_to_mask(bad: np.ndarray, params: OcclusionParams = OcclusionParams()) -> np.ndarray:
    """Smooth the reliability map (255 reliable, 0 not), threshold it, drop tiny holes: uint8, 255 = hole.

    `bad` is boolean, or uint8 with 255 where unreliable and 0 elsewhere."""
    reliable = cv2.bitwise_not(bad.view(np.uint8) * np.uint8(255)) if bad.dtype == bool else cv2.bitwise_not(bad)
    if params.sigma > 0:
        reliable = cv2.GaussianBlur(reliable, (0, 0), params.sigma)
    # hole where reliable / 255 <= threshold
    _, mask = cv2.threshold(reliable, params.threshold * 255, 255, cv2.THRESH_BINARY_INV)
    return remove_small_holes(mask, params.min_component)


def remove_small_holes(mask: np.ndarray, min_area: int) -> np.ndarray:
    """Drop hole components (8-connected) of fewer than `min_area` pixels."""
    if min_area <= 1 or not mask.any():
        return mask
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    small = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] < min_area) + 1
    if len(small) == 0:
        return mask
    lut = np.full(n, 255, np.uint8)
    lut[0] = 0
    lut[small] = 0
    return lut[labels]


def occlusion_mask(
    flow: np.ndarray, back: np.ndarray, params: OcclusionParams = OcclusionParams()
) -> np.ndarray:
    """Occluded and dis-occluded pixels between two frames given both flows: the pixels of the
    first frame that vanish (forward check) united with those of the second that appear
    (backward check), in image coordinates. uint8, 255 = hole."""
    ws = _workspace(*flow.shape[:2])
    ws.bad[:] = 0
    _unreliable_into(flow, back, params, ws)
    _unreliable_into(back, flow, params, ws)
    return reliability_to_mask(ws.bad, params)


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
