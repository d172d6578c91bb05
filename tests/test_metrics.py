import numpy as np
import pytest
from skimage.metrics import mean_squared_error, peak_signal_noise_ratio, structural_similarity

from inpaint_data.metrics import l1, l2, psnr, ssim


@pytest.mark.parametrize("shape", [(32, 48), (40, 40, 3), (17, 23, 3)])
def test_metrics_agree_with_scikit_image(shape):
    rng = np.random.default_rng(sum(shape))
    a = rng.integers(0, 256, shape).astype(np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-40, 40, shape), 0, 255).astype(np.uint8)
    assert psnr(a, b) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=255), abs=1e-6)
    channel_axis = 2 if len(shape) == 3 else None
    assert ssim(a, b) == pytest.approx(structural_similarity(a, b, data_range=255, channel_axis=channel_axis), abs=1e-6)
    assert l2(a, b) == pytest.approx(mean_squared_error(a, b) / 255**2, abs=1e-9)
    assert l1(a, b) == pytest.approx(np.abs(a.astype(float) - b).mean() / 255)


def test_identical_images():
    a = np.full((16, 16, 3), 100, np.uint8)
    assert psnr(a, a) == float("inf") and ssim(a, a) == pytest.approx(1.0) and l1(a, a) == 0
