import cv2
import numpy as np
import pytest

from inpaint_data.maskgen.boxes import box_mask


def _extent(mask):
    ys, xs = np.nonzero(mask)
    return ys.min(), ys.max() + 1, xs.min(), xs.max() + 1


@pytest.mark.slow
def test_deepfill_box_at_256_is_96_to_128_px_and_symmetric():
    heights, widths = set(), set()
    for i in range(3000):
        mask = box_mask(256, 256, np.random.default_rng([0, i]))
        assert mask.dtype == np.uint8 and set(np.unique(mask)) == {0, 255}
        top, bottom, left, right = _extent(mask)
        heights.add(bottom - top)
        widths.add(right - left)
        # the box is solid: every pixel of its bounding rectangle is a hole
        assert mask[top:bottom, left:right].min() == 255
    assert min(heights) == 96 and max(heights) == 128
    assert min(widths) == 96 and max(widths) == 128
    assert all(h % 2 == 0 for h in heights)  # shrunk by the same amount at both ends


def test_box_scales_with_a_non_square_canvas():
    for i in range(500):
        mask = box_mask(512, 384, np.random.default_rng([1, i]))
        top, bottom, left, right = _extent(mask)
        assert 192 <= bottom - top <= 256
        assert 144 <= right - left <= 192


def test_box_positions_cover_the_canvas():
    tops = [_extent(box_mask(256, 256, np.random.default_rng([2, i])))[0] for i in range(2000)]
    assert min(tops) <= 16 and max(tops) >= 112


def test_box_count_range_draws_several_boxes():
    mask = box_mask(256, 256, np.random.default_rng(3), size=(0.1, 0.1), count=(4, 4))
    n = cv2.connectedComponents(mask)[0] - 1  # minus the background
    assert 1 <= n <= 4 and (mask > 0).sum() > 0.1 * 0.1 * 256 * 256


def test_same_rng_same_mask():
    a = box_mask(256, 256, np.random.default_rng([5, 9]))
    b = box_mask(256, 256, np.random.default_rng([5, 9]))
    assert np.array_equal(a, b)


@pytest.mark.parametrize("size,count",
                         [((0.6, 0.5), (1, 1)), ((0, 0.5), (1, 1)), ((0.5, 1.2), (1, 1)), ((0.5, 0.5), (0, 2))])
def test_bad_box_options_raise(size, count):
    with pytest.raises(ValueError):
        box_mask(64, 64, np.random.default_rng(0), size=size, count=count)
