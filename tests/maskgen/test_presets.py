import cv2
import numpy as np
import pytest

from inpaint_data.maskgen.boxes import lama_boxes
from inpaint_data.maskgen.presets import LAMA_PRESETS, lama_preset, lama_train
from inpaint_data.maskgen.styles import STYLES, draw_mask, max_hole_ratio, parse_mix


@pytest.mark.parametrize("name", sorted(LAMA_PRESETS))
def test_lama_presets_never_exceed_half_the_image(name):
    size = int(name[-3:])
    ratios = [(lama_preset(size, size, np.random.default_rng([0, i]), name) > 0).mean() for i in range(150)]
    assert max(ratios) <= 0.5 and np.mean(ratios) > 0.05


def test_lama_boxes_respect_margin_and_side_bounds():
    for i in range(300):
        mask = lama_boxes(256, 256, np.random.default_rng(i), margin=10, min_size=30, max_size=150, min_times=1,
                          max_times=1)
        ys, xs = np.nonzero(mask)
        assert ys.min() >= 10 and xs.min() >= 10 and ys.max() < 246 and xs.max() < 246
        assert 30 <= ys.max() - ys.min() + 1 <= 150 and 30 <= xs.max() - xs.min() + 1 <= 150


def test_lama_train_mixes_strokes_and_boxes_evenly():
    square = np.ones((29, 29), np.uint8)
    boxes = 0
    for i in range(400):
        mask = lama_train(256, 256, np.random.default_rng([3, i]))
        # a union of boxes with sides >= 30 px survives an opening by a 29 px square; strokes do not
        boxes += bool(mask.any()) and np.array_equal(cv2.morphologyEx(mask, cv2.MORPH_OPEN, square), mask)
    assert 0.4 < boxes / 400 < 0.6


def test_mixed_draws_components_by_weight():
    mix = parse_mix("deepfill:3,box:1")
    names = [draw_mask("mixed", 64, 64, np.random.default_rng(i), mix=mix)[1] for i in range(800)]
    assert 0.7 < names.count("deepfill") / 800 < 0.8 and set(names) == {"deepfill", "box"}


@pytest.mark.parametrize("text,message", [("nope:1", "unknown style"), ("box:x", "not a number"),
                                          ("box:0", "positive weight"), ("", "positive weight")])
def test_bad_mix_is_explained(text, message):
    with pytest.raises(ValueError, match=message):
        parse_mix(text)


def test_caps_are_known_per_style():
    assert max_hole_ratio("lama-thin-256") == 0.5 and max_hole_ratio("deepfill") == 1.0
    assert max_hole_ratio("mixed", mix={"lama-thick-512": 1, "box": 1}) == 1.0
    assert all(callable(s.draw) for s in STYLES.values())
