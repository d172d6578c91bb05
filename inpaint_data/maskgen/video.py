"""Occlusion masks from two consecutive video frames, as NVIDIA built the partial-convolution
mask set: forward and backward optical flow, then the forward-backward consistency check and
motion-boundary test of Ruder et al. (docs/references.md, section 1). Pure numpy/OpenCV."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

DIS_PRESETS = {  # name -> (OpenCV preset, settings changed from it)
    "ultrafast": (cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, {}),
    "fast": (cv2.DISOPTICAL_FLOW_PRESET_FAST, {}),
    "medium": (cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, {}),  # at half resolution (finest scale 1)
    # medium at full resolution, ~4x the cost: thin strips kept, but on real footage its patch grid
    # shows as motion boundaries (README, "Which flow")
    "fine": (cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, {"FinestScale": 0}),
}
FLOW_METHODS = ("dis", "farneback", "deepflow")
DIRECTIONS = ("both", "forward")
IN_FRAME_RULES = ("ruder", "footprint")


@dataclass(frozen=True)
class OcclusionParams:
    """The constants of the check; defaults are Ruder et al.'s and NVIDIA's."""

    consistency_rel: float = 0.01  # |w + w'|^2 >= rel (|w|^2 + |w'|^2) + abs  -> occluded
    consistency_abs: float = 0.5
    motion_rel: float = 0.01  # |grad u|^2 + |grad v|^2 > rel |w|^2 + abs  -> motion boundary
    motion_abs: float = 0.002
    sigma: float = 0.8  # Gaussian smoothing of the reliability map (CSmooth(sigma, 2.0): 2 ceil(2 sigma) + 1 taps)
    threshold: float = 0.6  # hole where the smoothed reliability <= threshold * 255
    min_component: int = 16  # holes smaller than this many pixels are dropped
    off_frame: bool = True  # pixels the flow carries off the frame count as unreliable (Ruder: 0)
    # "ruder": a target needs floor(x') + 1 < W, so the last column and row are always off the
    # frame, and a still pixel on the first column with a flow of -1e-6 px too: lines along all
    # four borders. "footprint": the target pixel still overlaps the frame (-0.5 <= x' <= W - 0.5),
    # looked up with the edge repeated: no border lines where nothing moves.
    in_frame: str = "ruder"
    directions: str = "both"  # "both": forward holes OR backward holes; "forward": Ruder's single check

    def __post_init__(self):
        if self.directions not in DIRECTIONS:
            raise ValueError(f"directions must be one of {DIRECTIONS}, not {self.directions!r}")
        if self.in_frame not in IN_FRAME_RULES:
            raise ValueError(f"in_frame must be one of {IN_FRAME_RULES}, not {self.in_frame!r}")


def to_gray(frame: np.ndarray) -> np.ndarray:
    return frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


class FlowEstimator:
    """Dense optical flow between grayscale frames: OpenCV DIS (a preset), Farneback, or DeepFlow
    (Weinzaepfel et al., the flow Ruder et al. and NVIDIA used; OpenCV's contrib build)."""

    def __init__(self, method: str = "dis", preset: str = "medium"):
        if method not in FLOW_METHODS:
            raise ValueError(f"unknown flow method {method!r}; expected one of {FLOW_METHODS}")
        if method == "dis" and preset not in DIS_PRESETS:
            raise ValueError(f"unknown DIS preset {preset!r}; expected one of {sorted(DIS_PRESETS)}")
        self.method = method
        self._estimator = None
        if method == "dis":
            opencv_preset, settings = DIS_PRESETS[preset]
            self._estimator = cv2.DISOpticalFlow_create(opencv_preset)
            for name, value in settings.items():
                getattr(self._estimator, f"set{name}")(value)
        elif method == "deepflow":
            if not hasattr(cv2, "optflow"):
                raise RuntimeError(
                    "--flow deepflow needs OpenCV's contrib build: pip uninstall opencv-python-headless "
                    "opencv-python, then pip install opencv-contrib-python-headless")
            self._estimator = cv2.optflow.createOptFlow_DeepFlow()

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Flow from `a` to `b`, H x W x 2 float32 (dx, dy)."""
        if self._estimator is not None:
            return self._estimator.calc(a, b, None)
        return cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)


class _Workspace:
    """Buffers for one frame size, reused from pair to pair: allocating fresh full-frame arrays
    for every pair costs more (page faults) than the arithmetic itself."""

    def __init__(self, h: int, w: int):
        self.gx, self.gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        two = lambda: np.empty((h, w, 2), np.float32)  # noqa: E731
        one = lambda: np.empty((h, w), np.float32)  # noqa: E731
        self.square, self.pair, self.derivative, self.weight = two(), two(), two(), two()
        self.u, self.v, self.tx, self.ty, self.fx, self.fy, self.ax, self.ay = (one() for _ in range(8))
        self.flow_sq, self.back_sq, self.mismatch, self.limit, self.energy, self.grad, self.reliable = (
            one() for _ in range(7))
        self.corners = [np.empty((h, w), np.complex64) for _ in range(4)]  # u + iv at the 4 corners
        self.index = [np.empty(h * w, np.int32) for _ in range(4)]
        self.inside, self.inside_y, self.test = (np.empty((h, w), np.uint8) for _ in range(3))
        self.zeros, self.full = np.zeros((h, w), np.float32), np.full((h, w), 255.0, np.float32)
        self.negative = np.full((h, w), -255.0, np.float32)


@lru_cache(maxsize=4)
def _workspace(h: int, w: int) -> _Workspace:
    return _Workspace(h, w)


@lru_cache(maxsize=4)
def _smoothing_kernel(sigma: float) -> np.ndarray:
    """Ruder's CSmooth(sigma, 2.0): a normalised Gaussian of radius ceil(2 sigma)."""
    radius = int(np.ceil(2.0 * sigma))
    taps = np.exp(-np.arange(-radius, radius + 1, dtype=np.float64) ** 2 / (2.0 * sigma * sigma))
    return (taps / taps.sum()).astype(np.float32)


_CENTRAL_DIFFERENCE = np.array([[-0.5, 0.0, 0.5]], np.float32)  # Ruder's CDerivative(3)


def _sq_norm(vectors: np.ndarray, square: np.ndarray, out: np.ndarray) -> np.ndarray:
    """|v|^2 of an H x W x 2 array, into `out` (`square` is scratch space)."""
    cv2.multiply(vectors, vectors, dst=square)
    return np.add(square[..., 0], square[..., 1], out=out)


def _motion_edge_energy_into(flow: np.ndarray, ws: _Workspace) -> np.ndarray:
    cv2.filter2D(flow, -1, _CENTRAL_DIFFERENCE, dst=ws.derivative, borderType=cv2.BORDER_REFLECT)
    _sq_norm(ws.derivative, ws.square, ws.energy)
    cv2.filter2D(flow, -1, _CENTRAL_DIFFERENCE.T, dst=ws.derivative, borderType=cv2.BORDER_REFLECT)
    return cv2.add(ws.energy, _sq_norm(ws.derivative, ws.square, ws.grad), dst=ws.energy)


def motion_edge_energy(flow: np.ndarray) -> np.ndarray:
    """|grad u|^2 + |grad v|^2 by central differences, the border mirrored (x[-1] = x[0]) as
    Ruder's NFilter does: float32 H x W."""
    return _motion_edge_energy_into(np.ascontiguousarray(flow, np.float32), _workspace(*flow.shape[:2])).copy()


def _corners_into(ws: _Workspace, w: int, h: int, in_frame: str) -> None:
    """From the targets (ws.tx, ws.ty): ws.inside, the top-left corner of each target's 2 x 2
    neighbourhood (ws.fx, ws.fy, clamped to the frame) and the bilinear weights (ws.ax, ws.ay)."""
    axes = ((ws.tx, ws.fx, ws.ax, ws.inside, w), (ws.ty, ws.fy, ws.ay, ws.inside_y, h))
    for target, corner, weight, inside, size in axes:
        if in_frame == "ruder":  # floor(x') in 0 .. size - 2
            np.floor(target, out=corner)
            cv2.inRange(corner, 0.0, size - 2.0, dst=inside)
            np.clip(corner, 0.0, size - 2.0, out=corner)
            cv2.subtract(target, corner, dst=weight)  # only read where inside, where it is in [0, 1)
        else:  # -0.5 <= x' <= size - 0.5, looked up clamped: on the last pixel the corner is size - 2, weight 1
            cv2.inRange(target, -0.5, size - 0.5, dst=inside)
            np.clip(target, 0.0, size - 1.0, out=weight)
            np.floor(weight, out=corner)
            np.minimum(corner, size - 2.0, out=corner)
            cv2.subtract(weight, corner, dst=weight)
    cv2.bitwise_and(ws.inside, ws.inside_y, dst=ws.inside)


def _look_up_into(back: np.ndarray, ws: _Workspace, w: int) -> np.ndarray:
    """`back` sampled bilinearly at the corners and weights of `_corners_into`, in float32 as the
    reference does (OpenCV's remap quantises the weights to 1/32): H x W x 2, a view of ws.corners[0]."""
    table = back.view(np.complex64).ravel()  # u + iv: both components in one gather
    first = ws.index[0]
    np.copyto(first, (cv2.scaleAdd(ws.fy, float(w), ws.fx, dst=ws.grad)).ravel(), casting="unsafe")
    for index, offset in zip(ws.index[1:], (1, w, w + 1)):
        np.add(first, offset, out=index)
    for index, corner in zip(ws.index, ws.corners):
        np.take(table, index, out=corner.ravel(), mode="clip")  # mode="raise" would buffer `out`
    c00, c01, c10, c11 = (c.view(np.float32).reshape(*c.shape, 2) for c in ws.corners)  # (u, v) planes
    cv2.merge([ws.ax, ws.ax], dst=ws.weight)
    for near, far in ((c00, c01), (c10, c11)):  # along x: near + ax (far - near)
        cv2.subtract(far, near, dst=far)
        cv2.multiply(far, ws.weight, dst=far)
        cv2.add(near, far, dst=near)
    cv2.merge([ws.ay, ws.ay], dst=ws.weight)  # then along y
    cv2.subtract(c10, c00, dst=c10)
    cv2.multiply(c10, ws.weight, dst=c10)
    cv2.add(c00, c10, dst=c00)
    return c00


def reliability(flow: np.ndarray, back: np.ndarray, params: OcclusionParams = OcclusionParams()) -> np.ndarray:
    """How far each pixel of the first frame can be trusted to reappear in the second: Ruder et al.'s
    `checkConsistency` (manuelruder/artistic-videos, consistencyChecker.cpp; docs/references.md
    section 1), float32 H x W in 0..255. Flows must be finite.

    A pixel whose target x + w(x) has no bilinear 2 x 2 neighbourhood in the frame (floor(x') < 0
    or floor(x') + 1 >= W, likewise for y) is 0 (255 when `params.off_frame` is False; with
    `params.in_frame="footprint"`, only targets more than half a pixel outside the frame are); one
    that fails the forward-backward check against `back` sampled bilinearly there is -255, so that
    the smoothing spreads the hole outward; a motion boundary is 0; the rest 255. Then the separable
    Gaussian (sigma 0.8, 5 taps, mirrored border) and a clip to 0..255."""
    h, w = flow.shape[:2]
    if h < 2 or w < 2:
        raise ValueError(f"flows of {w}x{h} px are too small for the check (2x2 at least)")
    flow = np.ascontiguousarray(flow, np.float32)
    back = np.ascontiguousarray(back, np.float32)
    ws = _workspace(h, w)
    cv2.split(flow, [ws.u, ws.v])
    cv2.add(ws.u, ws.gx, dst=ws.tx)  # x' = x + w(x)
    cv2.add(ws.v, ws.gy, dst=ws.ty)
    _corners_into(ws, w, h, params.in_frame)
    looked_up = _look_up_into(back, ws, w)
    _sq_norm(flow, ws.square, ws.flow_sq)
    _sq_norm(looked_up, ws.square, ws.back_sq)
    _sq_norm(cv2.add(flow, looked_up, dst=ws.pair), ws.square, ws.mismatch)  # |w + w'|^2
    reliable = ws.reliable
    reliable[:] = 255.0
    cv2.addWeighted(ws.flow_sq, params.motion_rel, ws.flow_sq, 0.0, params.motion_abs, dst=ws.limit)
    cv2.compare(_motion_edge_energy_into(flow, ws), ws.limit, cv2.CMP_GT, dst=ws.test)
    cv2.copyTo(ws.zeros, ws.test, reliable)
    r = params.consistency_rel
    cv2.addWeighted(ws.flow_sq, r, ws.back_sq, r, params.consistency_abs, dst=ws.limit)
    cv2.compare(ws.mismatch, ws.limit, cv2.CMP_GE, dst=ws.test)
    cv2.copyTo(ws.negative, ws.test, reliable)
    cv2.bitwise_not(ws.inside, dst=ws.test)
    cv2.copyTo(ws.zeros if params.off_frame else ws.full, ws.test, reliable)
    if params.sigma > 0:
        kernel = _smoothing_kernel(params.sigma)
        reliable = cv2.sepFilter2D(reliable, -1, kernel, kernel, borderType=cv2.BORDER_REFLECT)
    else:
        reliable = reliable.copy()
    return np.clip(reliable, 0.0, 255.0, out=reliable)


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
    return np.take(lut, labels)


def occlusion_mask(
    flow: np.ndarray, back: np.ndarray, params: OcclusionParams = OcclusionParams()
) -> np.ndarray:
    """The holes between two frames given both flows, in the first frame's coordinates: pixels
    whose forward reliability is <= threshold * 255 (NVIDIA's binarisation), united by default
    with those of the backward check (the dis-occluded pixels of the second frame), small holes
    dropped. uint8, 255 = hole."""
    limit = params.threshold * 255.0
    hole = reliability(flow, back, params) <= limit
    if params.directions == "both":
        hole |= reliability(back, flow, params) <= limit
    return remove_small_holes(hole.view(np.uint8) * np.uint8(255), params.min_component)


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
