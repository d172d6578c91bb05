"""A video whose occlusions are known exactly: a textured rectangle translating over a textured,
still background. Ground truth for the occlusion check and the flows (tests, benchmarks)."""

from __future__ import annotations

import cv2
import numpy as np


def texture(h: int, w: int, seed: int, cell: int) -> np.ndarray:
    """Smooth random texture, uint8 H x W: bicubic upsampling of one random value per `cell` px."""
    rng = np.random.default_rng(seed)
    t = cv2.resize(rng.random((h // cell + 2, w // cell + 2)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip((t - t.min()) / (t.max() - t.min()) * 255, 0, 255).astype(np.uint8)


class MovingSquare:
    """A textured `oh` x `ow` object moving by (dx, dy) px per frame over a still textured background."""

    def __init__(self, height=240, width=320, x0=60, y0=50, dx=7, dy=5, oh=120, ow=140):
        self.h, self.w, self.x0, self.y0, self.dx, self.dy, self.oh, self.ow = height, width, x0, y0, dx, dy, oh, ow
        self.bg = texture(height, width, 0, 6)
        self.obj = texture(oh, ow, 1, 4)

    def box(self, t: int) -> tuple[int, int]:
        return self.x0 + t * self.dx, self.y0 + t * self.dy

    def gray(self, t: int) -> np.ndarray:
        f = self.bg.copy()
        x, y = self.box(t)
        f[y : y + self.oh, x : x + self.ow] = self.obj
        return f

    def rect(self, t: int) -> np.ndarray:
        m = np.zeros((self.h, self.w), bool)
        x, y = self.box(t)
        m[y : y + self.oh, x : x + self.ow] = True
        return m

    def occluded_and_disoccluded(self, t: int) -> np.ndarray:
        """Background covered between t and t+1, and background uncovered: uint8, 255 = hole."""
        return ((self.rect(t) ^ self.rect(t + 1)) * 255).astype(np.uint8)

    def motion_boundaries(self, t: int) -> np.ndarray:
        """The object's outline in frames t and t+1 (one pixel each side of it): uint8, 255 = edge."""
        edges = np.zeros((self.h, self.w), np.uint8)
        for k in (t, t + 1):
            rect = self.rect(k).astype(np.uint8)
            edges |= cv2.morphologyEx(rect, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
        return edges * 255

    def write(self, path, frames: int):
        """A lossless (FFV1) video of the first `frames` frames."""
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), 25, (self.w, self.h))
        assert writer.isOpened()
        for t in range(frames):
            writer.write(cv2.cvtColor(self.gray(t), cv2.COLOR_GRAY2BGR))
        writer.release()
        return path


def near(mask: np.ndarray, px: int) -> np.ndarray:
    """`mask` (uint8, 255 = on) grown by a disc of radius `px`."""
    return cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * px + 1, 2 * px + 1)))


def mask_fidelity(mask: np.ndarray, video: MovingSquare, t: int = 0, within: int = 4) -> dict[str, float]:
    """Recall of the true occluded and dis-occluded strips, and precision: the share of hole pixels
    within `within` px of those strips or of the object's outline."""
    truth = video.occluded_and_disoccluded(t)
    allowed = near(truth | video.motion_boundaries(t), within)
    holes = mask > 0
    return {"recall": float((holes[truth > 0]).mean()),
            "precision": float((allowed[holes] > 0).mean()) if holes.any() else 1.0}
