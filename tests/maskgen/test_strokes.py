import cv2
import numpy as np
import pytest

from inpaint_data.maskgen.presets import deepfill_train
from inpaint_data.maskgen.shapes import pconv_keras_mask
from inpaint_data.maskgen.strokes import deepfill_strokes, lama_irregular


def _ratios(fn, size, n=5000):
    return np.array([(fn(size, size, np.random.default_rng([0, i])) > 0).mean() for i in range(n)])


@pytest.mark.slow
# docs/references.md, section 2: the official generators measured over 5,000 masks
@pytest.mark.parametrize(
    "fn,size,mean,sd",
    [
        (deepfill_strokes, 256, 0.150, 0.079),
        (deepfill_strokes, 512, 0.086, 0.046),
        (deepfill_train, 256, 0.310, 0.068),
    ],
)
def test_hole_ratio_matches_the_official_generator(fn, size, mean, sd):
    r = _ratios(fn, size)
    assert abs(r.mean() - mean) <= 0.01
    assert abs(r.std() - sd) <= 0.01


@pytest.mark.slow
@pytest.mark.parametrize("size,mean", [(256, 0.305), (512, 0.266)])
def test_pconv_keras_hole_ratio_matches(size, mean):
    assert abs(_ratios(pconv_keras_mask, size).mean() - mean) <= 0.01


def test_deepfill_strokes_are_one_to_three_round_brushes():
    for i in range(200):
        mask = deepfill_strokes(256, 256, np.random.default_rng([1, i]))
        assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 255}
        assert 1 <= cv2.connectedComponents(mask)[0] - 1 <= 3
        # the thinnest part of a stroke is at least 12 px minus rasterisation: erode by 4 px
        assert cv2.erode(mask, np.ones((9, 9), np.uint8)).any()


def test_styles_work_on_non_square_canvases():
    for fn in (deepfill_strokes, pconv_keras_mask, deepfill_train, lama_irregular):
        mask = fn(256, 384, np.random.default_rng(0))
        assert mask.shape == (256, 384)


def test_deepfill_strokes_reach_every_part_of_a_wide_canvas():
    total = sum(deepfill_strokes(128, 512, np.random.default_rng([2, i])).astype(np.int64) for i in range(300))
    assert (total[:, :128] > 0).mean() > 0.9 and (total[:, -128:] > 0).mean() > 0.9


def test_lama_irregular_stroke_count_includes_the_generator_plus_one():
    # min_times=max_times=0 still draws up to one stroke, as LaMa's generator does
    counts = {bool(lama_irregular(64, 64, np.random.default_rng(i), 0, 0).any()) for i in range(50)}
    assert counts == {False, True}
