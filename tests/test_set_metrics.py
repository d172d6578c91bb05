import json
from pathlib import Path

import numpy as np
import pytest

from inpaint_data.set_metrics import fid, frechet_distance, gaussian_stats, inception_discriminative_scores, linear_svm

IDS_REFERENCE = json.loads((Path(__file__).parent / "data" / "ids" / "reference.json").read_text())


def test_fid_of_a_set_with_itself_is_zero():
    features = np.random.default_rng(0).normal(size=(200, 16))
    assert fid(features, features) == pytest.approx(0, abs=1e-6)


def test_frechet_distance_of_gaussians_has_the_closed_form():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(8, 8))
    sigma = a @ a.T + np.eye(8)
    mu1, mu2 = rng.normal(size=8), rng.normal(size=8)
    # same covariance: only the means count
    assert frechet_distance(mu1, sigma, mu2, sigma) == pytest.approx(np.sum((mu1 - mu2) ** 2), rel=1e-6)
    # scaled covariance s^2 S: tr(S) (1 + s^2 - 2 s) = tr(S) (1 - s)^2
    assert frechet_distance(mu1, sigma, mu1, 9 * sigma) == pytest.approx(4 * np.trace(sigma), rel=1e-6)
    # diagonal covariances: sum (sqrt(a) - sqrt(b))^2
    d1, d2 = rng.uniform(0.5, 2, 8), rng.uniform(0.5, 2, 8)
    assert frechet_distance(mu1, np.diag(d1), mu1, np.diag(d2)) == pytest.approx(
        np.sum((np.sqrt(d1) - np.sqrt(d2)) ** 2), rel=1e-6)


def test_fid_of_shifted_samples_approaches_the_shift():
    rng = np.random.default_rng(2)
    real = rng.normal(size=(20000, 4))
    shifted = rng.normal(size=(20000, 4)) + np.array([3.0, 0, 0, 0])
    assert fid(real, shifted) == pytest.approx(9.0, abs=0.05)


def test_trace_term_matches_scipys_matrix_square_root():
    from scipy import linalg

    rng = np.random.default_rng(5)
    a, b = rng.random((500, 48)), rng.random((400, 48)) ** 1.5
    (mu1, s1), (mu2, s2) = gaussian_stats(a), gaussian_stats(b)
    reference = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(linalg.sqrtm(s1 @ s2).real)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(reference, rel=1e-9)


def test_low_rank_fid_equals_the_full_computation():
    rng = np.random.default_rng(6)
    a, b = rng.random((12, 64)), rng.random((9, 64)) ** 2  # fewer vectors than dimensions
    assert fid(a, b) == pytest.approx(frechet_distance(*gaussian_stats(a), *gaussian_stats(b)), rel=1e-6)


def test_fid_survives_a_singular_covariance():
    rng = np.random.default_rng(3)
    low_rank = rng.normal(size=(10, 2)) @ rng.normal(size=(2, 6))  # rank 2 in 6 dimensions
    assert np.isfinite(fid(low_rank, low_rank + 1.0))
    with pytest.raises(ValueError, match="at least 2"):
        gaussian_stats(low_rank[:1])


@pytest.mark.parametrize("name", sorted(IDS_REFERENCE))
def test_svm_and_ids_match_scikit_learn(name):
    ref = IDS_REFERENCE[name]
    real, filled = np.array(ref["real"]), np.array(ref["filled"])
    w, b = linear_svm(np.concatenate([real, filled]), np.array([1] * len(real) + [0] * len(filled)))
    np.testing.assert_allclose(w, ref["w"], atol=1e-5)
    assert b == pytest.approx(ref["b"], abs=1e-5)
    assert inception_discriminative_scores(real, filled) == (pytest.approx(ref["p_ids"]), pytest.approx(ref["u_ids"]))


def test_ids_on_separable_and_identical_sets():
    rng = np.random.default_rng(4)
    real = rng.normal(size=(100, 5))
    assert inception_discriminative_scores(real, real + 10.0) == (0.0, 0.0)  # told apart every time
    p_ids, u_ids = inception_discriminative_scores(real, real.copy())
    assert u_ids == 0.5 and p_ids == 0.0  # indistinguishable: half misclassified, no filled one above its real
    with pytest.raises(ValueError, match="pairs"):
        inception_discriminative_scores(real, real[:5])
