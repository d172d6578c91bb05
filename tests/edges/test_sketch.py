import numpy as np

from inpaint_data.edges.canny import canny_edges, random_sigma
from inpaint_data.edges.sketch import binarize, remove_small_strokes, sketch, sketch_in_hole


def _ridge():
    """A soft vertical line of probability peaking at 0.9, and a weak one at 0.5."""
    x = np.arange(64, dtype=np.float32)
    edge = 0.9 * np.exp(-((x - 20) ** 2) / 8) + 0.5 * np.exp(-((x - 45) ** 2) / 8)
    return np.tile(edge, (64, 1))


def test_threshold_is_on_probability_for_uint8_and_float():
    edge = _ridge()
    assert np.array_equal(binarize(edge), binarize((edge * 255).round().astype(np.uint8)))
    assert binarize(edge)[:, 20].all() and not binarize(edge)[:, 45].any()  # 0.5 is under DeepFill's 0.6


def test_sketch_thins_to_one_pixel_lines_and_drops_specks():
    edge = _ridge()
    edge[5, 55] = 1.0  # an isolated speck
    s = sketch(edge)
    assert s.dtype == np.uint8 and set(np.unique(s)) == {0, 255}
    assert (s[10:54] > 0).sum(axis=1).max() == 1  # one pixel wide
    assert s[5, 55] == 0
    assert remove_small_strokes(np.ones((2, 2), bool), 5).sum() == 0


def test_sketch_only_inside_the_hole():
    s = np.full((8, 8), 255, np.uint8)
    hole = np.zeros((8, 8), np.uint8)
    hole[2:5, 2:5] = 255
    out = sketch_in_hole(s, hole)
    assert out[hole > 0].min() == 255 and out[hole == 0].max() == 0


def test_canny_sigma_controls_detail():
    rng = np.random.default_rng(0)
    image = (rng.random((64, 64, 3)) * 255).astype(np.uint8)
    fine, coarse = canny_edges(image, 1.0), canny_edges(image, 4.0)
    assert fine.dtype == np.uint8 and (fine > 0).sum() > (coarse > 0).sum()
    assert 1.0 <= random_sigma(rng) <= 4.0
