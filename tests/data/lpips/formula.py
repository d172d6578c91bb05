"""Weights and images given by a formula (numpy, seeded), so that the lpips package's run in its
own environment (make_torchvision_reference.py) and our test build the same ones from names and
shapes alone: nothing of our code in the reference, no weight file stored."""

import numpy as np


def backbone_weights(keys_shapes: list[tuple[str, list[int]]], seed: int = 0) -> dict[str, np.ndarray]:
    """He-scaled Gaussian weights, small Gaussian biases, in the order given."""
    rng = np.random.default_rng(seed)
    out = {}
    for key, shape in keys_shapes:
        if key.endswith("weight"):
            fan_in = int(np.prod(shape[1:]))
            out[key] = rng.normal(0, np.sqrt(2 / fan_in), shape).astype(np.float32)
        else:
            out[key] = rng.normal(0, 0.01, shape).astype(np.float32)
    return out


def head_weights(shapes: list[list[int]], seed: int = 1) -> list[np.ndarray]:
    """Non-negative 1 x 1 heads, as trained LPIPS heads are."""
    rng = np.random.default_rng(seed)
    return [np.abs(rng.normal(0, 0.1, shape)).astype(np.float32) for shape in shapes]


def image_pairs(seed: int = 2, n: int = 3, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Two N x 3 x size x size batches in [-1, 1]: blocky random images and noisy copies."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(-1, 1, (n, 3, size // 8, size // 8)).repeat(8, axis=2).repeat(8, axis=3)
    noisy = np.clip(base + rng.normal(0, 0.2, base.shape), -1, 1)
    return base.astype(np.float32), noisy.astype(np.float32)
