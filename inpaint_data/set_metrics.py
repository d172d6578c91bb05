"""Metrics on sets of image features: FID and CoModGAN's P-IDS / U-IDS.

- FID (Heusel et al. 2017): the Frechet distance between Gaussians fitted to the Inception pool
  features of real and filled images, computed as pytorch-fid's `calculate_frechet_distance` does
  (scipy's matrix square root, an eps ridge when it is singular, the imaginary part dropped).
- P-IDS / U-IDS (Zhao et al. 2021, "Large Scale Image Completion via Co-Modulated GANs",
  co-mod-gan's metrics/inception_discriminative_score.py): a linear SVM (scikit-learn's
  `LinearSVC(dual=False)`: squared hinge loss, L2 penalty on the weights and the intercept,
  C = 1) separates real (label 1) from filled (label 0) features. U-IDS is its misclassification
  rate on those same features; P-IDS the share of pairs (real i, filled i) where the filled one
  scores higher. Both tend to 0.5 for indistinguishable sets and to 0 for separable ones. We solve
  the same convex problem (it has one minimum) with scipy's L-BFGS in the primal instead of
  liblinear, so scikit-learn is not a dependency.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg, optimize


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample covariance (N - 1) of N x D features, in float64."""
    features = np.asarray(features, dtype=np.float64)
    if features.shape[0] < 2:
        raise ValueError(f"FID needs at least 2 feature vectors, got {features.shape[0]}")
    return features.mean(0), np.cov(features, rowvar=False)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
    """|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))."""
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    diff = mu1 - mu2
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"imaginary component {np.max(np.abs(covmean.imag)):.3g} in the matrix square root")
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def fid(real: np.ndarray, filled: np.ndarray) -> float:
    """FID between two N x D feature sets (the sets may differ in size)."""
    return frechet_distance(*gaussian_stats(real), *gaussian_stats(filled))


def linear_svm(x: np.ndarray, y: np.ndarray, c: float = 1.0) -> tuple[np.ndarray, float]:
    """LinearSVC(dual=False)'s solution: weights and intercept minimising
    0.5 (|w|^2 + b^2) + C sum max(0, 1 - y_i (w.x_i + b))^2 with y in {-1, +1}."""
    xb = np.hstack([np.asarray(x, np.float64), np.ones((len(x), 1))])
    y = np.where(np.asarray(y) > 0, 1.0, -1.0)

    def loss(wb):
        margin = np.maximum(0.0, 1 - y * (xb @ wb))
        return 0.5 * wb @ wb + c * margin @ margin, wb - 2 * c * xb.T @ (margin * y)

    result = optimize.minimize(loss, np.zeros(xb.shape[1]), jac=True, method="L-BFGS-B",
                               options={"maxiter": 10_000, "gtol": 1e-8, "ftol": 1e-12})
    return result.x[:-1], float(result.x[-1])


def inception_discriminative_scores(real: np.ndarray, filled: np.ndarray) -> tuple[float, float]:
    """(P-IDS, U-IDS) of paired feature sets (row i of each comes from the same image)."""
    if len(real) != len(filled):
        raise ValueError(f"P-IDS pairs real and filled images: {len(real)} vs {len(filled)} feature rows")
    x = np.concatenate([real, filled])
    y = np.array([1] * len(real) + [0] * len(filled))
    w, b = linear_svm(x, y)
    scores = np.asarray(x, np.float64) @ w + b
    u_ids = float(np.mean((scores > 0) != (y == 1)))
    p_ids = float(np.mean(scores[len(real):] > scores[:len(real)]))
    return p_ids, u_ids
