"""Synthetic videos with known motion, for the video tests."""

import cv2
import numpy as np


def texture(h, w, seed, cell):
    rng = np.random.default_rng(seed)
    t = cv2.resize(rng.random((h // cell + 2, w // cell + 2)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip((t - t.min()) / (t.max() - t.min()) * 255, 0, 255).astype(np.uint8)


class MovingSquare:
    """A textured 120 x 140 object moving by (dx, dy) px per frame over a static textured background."""

    def __init__(self, height=240, width=320, x0=60, y0=50, dx=7, dy=5, oh=120, ow=140):
        self.h, self.w, self.x0, self.y0, self.dx, self.dy, self.oh, self.ow = height, width, x0, y0, dx, dy, oh, ow
        self.bg = texture(height, width, 0, 6)
        self.obj = texture(oh, ow, 1, 4)

    def box(self, t):
        return self.x0 + t * self.dx, self.y0 + t * self.dy

    def gray(self, t):
        f = self.bg.copy()
        x, y = self.box(t)
        f[y : y + self.oh, x : x + self.ow] = self.obj
        return f

    def rect(self, t):
        m = np.zeros((self.h, self.w), bool)
        x, y = self.box(t)
        m[y : y + self.oh, x : x + self.ow] = True
        return m

    def occluded_and_disoccluded(self, t):
        """Background covered between t and t+1, and background uncovered: uint8, 255 = hole."""
        return ((self.rect(t) ^ self.rect(t + 1)) * 255).astype(np.uint8)

    def write(self, path, frames):
        """A lossless (FFV1) video of the first `frames` frames."""
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), 25, (self.w, self.h))
        assert writer.isOpened()
        for t in range(frames):
            writer.write(cv2.cvtColor(self.gray(t), cv2.COLOR_GRAY2BGR))
        writer.release()
        return path
