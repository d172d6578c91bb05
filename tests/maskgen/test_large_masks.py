"""CoModGAN's, MAT's and LaMa's outpainting masks against the released generators' hole-ratio and
shape distributions (tests/data/large_masks/make_reference.py ran them), the bin schemes and
LaMa's distance to the nearest known pixel."""

import json
from pathlib import Path

import numpy as np
import pytest

from inpaint_data.maskgen.comodgan import lama_outpainting, random_mask
from inpaint_data.maskgen.ratios import bin_labels, known_distance, ratio_bin
from inpaint_data.maskgen.styles import STYLES, draw_mask

REFERENCE = json.loads((Path(__file__).parents[1] / "data" / "large_masks" / "reference.json").read_text())
CASES = [("comodgan", 512, 512, 400), ("comodgan-h1", 512, 512, 150), ("mat-large", 512, 512, 400),
         ("mat-small", 512, 512, 400), ("lama-outpainting", 512, 512, 400), ("lama-outpainting", 384, 512, 400)]


@pytest.mark.parametrize("style,height,width,count", CASES)
def test_hole_ratios_follow_the_released_generator(style, height, width, count):
    """Means within 0.04 and deciles within 0.07 of 2,000 released masks (4 standard errors at these counts)."""
    rng = np.random.default_rng(7)
    ratios = np.array([np.count_nonzero(draw_mask(style, height, width, rng)[0]) / (height * width)
                       for _ in range(count)])
    ref = REFERENCE[style if (height, width) == (512, 512) else f"{style}-{height}x{width}"]
    assert ratios.mean() == pytest.approx(ref["mean"], abs=0.04)
    assert ratios.std() == pytest.approx(ref["sd"], abs=0.03)
    assert np.abs(np.quantile(ratios, np.linspace(0.1, 0.9, 9)) - ref["deciles"]).max() < 0.07


def _shape(hole: np.ndarray) -> tuple[int, float]:
    """(holes, boundary pixels per hole pixel), as make_reference.py defines them."""
    import cv2

    holes = cv2.connectedComponents(hole.astype(np.uint8), connectivity=8)[0] - 1
    padded = np.pad(hole, 1, constant_values=True)
    inner = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    area = np.count_nonzero(hole)
    return holes, float(np.count_nonzero(hole & ~inner) / area) if area else 0.0


@pytest.mark.parametrize("style,height,width,count", CASES)
def test_hole_shapes_follow_the_released_generator(style, height, width, count):
    """Ratios alone pass wrong shapes: the number of holes (mean within 0.25) and the boundary per
    hole pixel (strokes high, blocks low; every decile within 15 %) of the released masks.
    Measured: holes within 0.05, deciles within 9 %."""
    rng = np.random.default_rng(7)
    shapes = [_shape(draw_mask(style, height, width, rng)[0] > 0) for _ in range(count)]
    ref = REFERENCE[style if (height, width) == (512, 512) else f"{style}-{height}x{width}"]
    assert np.mean([s[0] for s in shapes]) == pytest.approx(ref["holes"]["mean"], abs=0.25)
    deciles = np.quantile([s[1] for s in shapes], np.linspace(0.1, 0.9, 9))
    assert (np.abs(deciles / np.array(ref["boundary"]["deciles"]) - 1)).max() < 0.15


def test_buckets_hold_their_range_and_masks_are_binary():
    rng = np.random.default_rng(0)
    for i in range(5):
        mask = draw_mask(f"comodgan-h{i}", 128, 96, rng)[0]
        assert mask.shape == (128, 96) and set(np.unique(mask)) <= {0, 255}
        assert 0.2 * i < np.count_nonzero(mask) / mask.size < 0.2 * (i + 1)
        assert STYLES[f"comodgan-h{i}"].max_hole_ratio == pytest.approx(0.2 * (i + 1))
    with pytest.raises(ValueError, match="no mask with hole ratio"):
        random_mask(64, 64, rng, tries=(1, 1, 1), hole_range=(0.9, 0.95))  # no shape is ever drawn


def test_outpainting_strips_touch_the_sides_they_pad():
    rng = np.random.default_rng(3)
    for _ in range(50):
        mask = lama_outpainting(100, 160, rng) > 0
        sides = [mask[:, 0].all(), mask[0, :].all(), mask[:, -1].all(), mask[-1, :].all()]
        assert any(sides)
        assert not mask[40:60, 60:100].any()  # strips are at most 25 % deep
    one_side = lama_outpainting(100, 160, rng, probs=(0, 0, 1, 0)) > 0
    assert one_side[:, -1].all() and not one_side[:, 0].any()


def test_bin_schemes():
    assert bin_labels("lama")[0] == "[0,0.1]" and bin_labels("lama")[1] == "(0.1,0.2]" and len(bin_labels("lama")) == 10
    assert bin_labels("comodgan") == ("[0,0.2)", "[0.2,0.4)", "[0.4,0.6)", "[0.6,0.8)", "[0.8,1]")
    assert [ratio_bin(r, "lama") for r in (0.0, 0.1, 0.10001, 0.95, 1.0)] == [0, 0, 1, 9, 9]
    assert [ratio_bin(r, "comodgan") for r in (0.0, 0.2, 0.3999, 1.0)] == [0, 1, 1, 4]
    assert [ratio_bin(r, "nvidia") for r in (0.005, 0.1, 0.6, 0.61)] == [None, 0, 5, None]
    with pytest.raises(ValueError, match="unknown bins"):
        ratio_bin(0.5, "places")


def test_known_distance_of_simple_holes():
    mask = np.zeros((20, 20), np.uint8)
    mask[5:8, 5:15] = 255  # 3 x 10: the outer rows and end columns at 1 px, the 8 inner pixels at 2 px
    assert known_distance(mask) == pytest.approx((22 * 1 + 8 * 2) / 30)
    mask[:] = 0
    mask[10, 10] = 255
    assert known_distance(mask) == 1.0
    assert known_distance(np.zeros((4, 4), np.uint8)) is None and known_distance(np.full((4, 4), 255, np.uint8)) is None
