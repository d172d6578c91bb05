"""Deterministic random weights and inputs shared by the metric tests and the scripts under
tests/data that ran the reference implementations on them (numpy's generator: the same numbers
on every machine and torch version)."""

import numpy as np
import torch

from inpaint_data.models.lpips import LPIPS


def random_lpips(net: str, seed: int = 0) -> LPIPS:
    """LPIPS with He-scaled Gaussian backbone weights, small biases and non-negative heads."""
    rng = np.random.default_rng(seed)
    model = LPIPS(net)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.startswith("lins."):
                p.copy_(torch.from_numpy(np.abs(rng.normal(0, 0.1, tuple(p.shape))).astype(np.float32)))
            elif name.endswith("weight"):
                fan_in = int(np.prod(p.shape[1:]))
                p.copy_(torch.from_numpy(rng.normal(0, np.sqrt(2 / fan_in), tuple(p.shape)).astype(np.float32)))
            else:
                p.copy_(torch.from_numpy(rng.normal(0, 0.01, tuple(p.shape)).astype(np.float32)))
    return model


def image_pairs(seed: int = 1, n: int = 3, size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """Two batches in [-1, 1]: smooth random images and noisy copies of them."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(-1, 1, (n, 3, size // 8, size // 8))
    a = torch.nn.functional.interpolate(torch.from_numpy(base).float(), size=(size, size), mode="bilinear")
    b = (a + torch.from_numpy(rng.normal(0, 0.2, tuple(a.shape))).float()).clamp(-1, 1)
    return a, b
