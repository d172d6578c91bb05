"""Image-quality metrics on uint8-range or [-1, 1] images, as inpainting papers report them."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter


def l1(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float:
    """Mean absolute error as a fraction of the data range (papers print it x 100 as %)."""
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean() / data_range)


def l1_hole(a: np.ndarray, b: np.ndarray, hole: np.ndarray, data_range: float = 255.0) -> float:
    """Mean absolute error over the hole's pixels (every channel) as a fraction of the data
    range: mmagic's MAE with `mask_key` (mmagic/evaluation/metrics/mae.py), which its DeepFill v2
    and PConv tables print x 100 as "l1 error"."""
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64)) / data_range
    channels = diff.shape[-1] if diff.ndim == 3 else 1
    return float(diff[hole].sum() / (hole.sum() * channels + 1e-12))


def l2(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float:
    """Mean squared error as a fraction of the squared data range."""
    return float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean() / data_range**2)


def psnr(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB (inf for identical images)."""
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean()
    return float("inf") if mse == 0 else float(10 * np.log10(data_range**2 / mse))


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 255.0, win_size: int = 7) -> float:
    """Mean structural similarity, as scikit-image computes it by default (7 x 7 uniform window,
    K1 0.01, K2 0.03, sample covariance, borders excluded); colour images (H x W x C) averaged
    over channels."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    if a.ndim == 3:
        return float(np.mean([ssim(a[..., c], b[..., c], data_range, win_size) for c in range(a.shape[2])]))
    n = win_size**2
    cov_norm = n / (n - 1)
    ux, uy = uniform_filter(a, win_size), uniform_filter(b, win_size)
    uxx, uyy, uxy = uniform_filter(a * a, win_size), uniform_filter(b * b, win_size), uniform_filter(a * b, win_size)
    vx, vy, vxy = cov_norm * (uxx - ux * ux), cov_norm * (uyy - uy * uy), cov_norm * (uxy - ux * uy)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    pad = (win_size - 1) // 2
    return float(s[pad:-pad, pad:-pad].mean())
