import numpy as np

from inpaint_data.maskgen.ratios import (
    bin_histogram,
    border_margin,
    hole_ratio,
    nvidia_bin,
    touches_border,
)


def test_hole_ratio_counts_nonzero_pixels():
    mask = np.zeros((10, 20), np.uint8)
    mask[:5, :4] = 255
    assert hole_ratio(mask) == 20 / 200


def test_nvidia_bins_are_left_open_right_closed():
    assert nvidia_bin(0.01) is None
    assert nvidia_bin(0.0100001) == 0
    assert nvidia_bin(0.1) == 0
    assert nvidia_bin(0.10001) == 1
    assert nvidia_bin(0.6) == 5
    assert nvidia_bin(0.61) is None
    assert nvidia_bin(0.0) is None


def test_bin_histogram_counts_every_ratio():
    hist = bin_histogram([0.05, 0.15, 0.15, 0.55, 0.9])
    assert hist["(0.01,0.1]"] == 1 and hist["(0.1,0.2]"] == 2 and hist["(0.5,0.6]"] == 1
    assert hist["outside"] == 1 and sum(hist.values()) == 5


def test_border_margin_scales_with_short_side():
    assert border_margin(512, 512) == 50
    assert border_margin(256, 256) == 25
    assert border_margin(256, 1024) == 25


def test_touches_border():
    mask = np.zeros((256, 256), np.uint8)
    mask[25:231, 25:231] = 255
    assert not touches_border(mask)
    mask[24, 100] = 255
    assert touches_border(mask)
