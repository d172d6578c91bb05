"""Make the reference outputs of Ruder et al.'s consistency checker for tests/maskgen/test_reliability.py.

The reference program is `consistencyChecker/consistencyChecker.cpp` of manuelruder/artistic-videos
(not vendored: its licence is not ours). Build it as its Makefile says, then run this script:

    git clone https://github.com/manuelruder/artistic-videos && cd artistic-videos/consistencyChecker
    g++ -O3 -fPIC consistencyChecker.cpp NMath.cpp -I. -o consistencyChecker
    python tests/data/ruder/make_reference.py /path/to/consistencyChecker

It writes `flows.npz` (each case's forward and backward flow, float32 H x W x 2) and, per case and
direction, the checker's `{case}_{forward|backward}.pgm` (its reliability map, 0..255, truncated to
integers as the program writes them). The flows are made here, deterministically: motions that
leave the frame, strong motion edges, large and sub-pixel motions, real DIS flows, no motion.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

H, W = 60, 80
HERE = Path(__file__).parent


def grid() -> tuple[np.ndarray, np.ndarray]:
    return np.meshgrid(np.arange(W, dtype=np.float32), np.arange(H, dtype=np.float32))


def smooth_noise(rng: np.random.Generator, amplitude: float, cell: int) -> np.ndarray:
    coarse = rng.uniform(-amplitude, amplitude, (H // cell + 2, W // cell + 2, 2)).astype(np.float32)
    return cv2.resize(coarse, (W, H), interpolation=cv2.INTER_CUBIC)


def moving_square() -> tuple[np.ndarray, np.ndarray]:
    """A 24 x 30 object moving (5, 3) px over a still background: sharp motion edges, occlusions."""
    fwd, bwd = np.zeros((H, W, 2), np.float32), np.zeros((H, W, 2), np.float32)
    fwd[15:39, 20:50] = (5.0, 3.0)
    bwd[18:42, 25:55] = (-5.0, -3.0)
    return fwd, bwd


def pan_and_zoom() -> tuple[np.ndarray, np.ndarray]:
    """A camera pan of (3.6, -2.3) px with a 4 % zoom: pixels leave the frame on two sides."""
    gx, gy = grid()
    cx, cy, zoom, pan = W / 2, H / 2, 1.04, (3.6, -2.3)
    fwd = np.dstack([(gx - cx) * (zoom - 1) + pan[0], (gy - cy) * (zoom - 1) + pan[1]])
    bwd = np.dstack([(gx - pan[0] - cx) * (1 / zoom - 1) - pan[0], (gy - pan[1] - cy) * (1 / zoom - 1) - pan[1]])
    return fwd.astype(np.float32), bwd.astype(np.float32)


def large_random() -> tuple[np.ndarray, np.ndarray]:
    """Smooth random motions of up to 12 px, the backward flow off by up to 1 px: many failures."""
    rng = np.random.default_rng(17)
    fwd = smooth_noise(rng, 12.0, 60)
    gx, gy = grid()
    inverse = -fwd
    for _ in range(5):  # back(y) = -fwd(y + back(y)), by fixed-point iteration
        inverse = -cv2.remap(fwd, gx + inverse[..., 0], gy + inverse[..., 1], cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)
    return fwd, (inverse + smooth_noise(rng, 1.0, 15)).astype(np.float32)


def subpixel_rotation() -> tuple[np.ndarray, np.ndarray]:
    """A 0.5 degree rotation about the centre (sub-pixel motions) and its exact inverse."""
    gx, gy = grid()
    x, y = gx - W / 2, gy - H / 2
    a = np.deg2rad(0.5)
    fwd = np.dstack([np.cos(a) * x - np.sin(a) * y - x, np.sin(a) * x + np.cos(a) * y - y])
    bwd = np.dstack([np.cos(-a) * x - np.sin(-a) * y - x, np.sin(-a) * x + np.cos(-a) * y - y])
    return fwd.astype(np.float32), bwd.astype(np.float32)


def dis_flows() -> tuple[np.ndarray, np.ndarray]:
    """OpenCV DIS (medium) on a textured object moving (4, 2) px over a textured background."""
    rng = np.random.default_rng(3)
    texture = lambda h, w: cv2.resize(rng.random((h // 4 + 2, w // 4 + 2)).astype(np.float32), (w, h))  # noqa: E731
    background, obj = (texture(H, W) * 255).astype(np.uint8), (texture(22, 28) * 255).astype(np.uint8)
    a, b = background.copy(), background.copy()
    a[18:40, 24:52] = obj
    b[20:42, 28:56] = obj
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(a, b, None), dis.calc(b, a, None)


def still() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((H, W, 2), np.float32), np.zeros((H, W, 2), np.float32)


CASES = {"moving_square": moving_square, "pan_and_zoom": pan_and_zoom, "large_random": large_random,
         "subpixel_rotation": subpixel_rotation, "dis": dis_flows, "still": still}


def write_middlebury(path: Path, flow: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.float32(202021.25).tofile(f)
        np.array([flow.shape[1], flow.shape[0]], np.int32).tofile(f)
        np.ascontiguousarray(flow, np.float32).tofile(f)


def main(checker: str) -> None:
    flows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in CASES.items():
            fwd, bwd = make()
            flows[f"{name}_forward"], flows[f"{name}_backward"] = fwd, bwd
            for direction, (a, b) in {"forward": (fwd, bwd), "backward": (bwd, fwd)}.items():
                fa, fb = Path(tmp, "a.flo"), Path(tmp, "b.flo")
                write_middlebury(fa, a)
                write_middlebury(fb, b)
                subprocess.run([checker, str(fa), str(fb), str(HERE / f"{name}_{direction}.pgm")], check=True)
    np.savez_compressed(HERE / "flows.npz", **flows)


if __name__ == "__main__":
    main(sys.argv[1])
