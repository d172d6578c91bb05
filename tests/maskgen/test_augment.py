import numpy as np
import pytest

from inpaint_data.maskgen.augment import dilate_to_ratio
from inpaint_data.maskgen.ratios import (
    bin_range,
    border_margin,
    fit_hole_ratio,
    hole_ratio,
    nvidia_bin,
    nvidia_cell,
    touches_border,
)
from inpaint_data.maskgen.strokes import deepfill_strokes


def _dot(size=128):
    mask = np.zeros((size, size), np.uint8)
    mask[60:68, 60:68] = 255
    return mask


def test_dilation_reaches_the_target_and_keeps_the_holes():
    mask = _dot()
    grown, radius = dilate_to_ratio(mask, 0.3)
    assert 0.3 <= hole_ratio(grown) < 0.32 and radius > 0
    assert grown[mask > 0].min() == 255  # holes only grow


def test_dilation_stays_out_of_the_margin():
    grown, _ = dilate_to_ratio(_dot(), 0.5, margin=12)
    assert not touches_border(grown) or border_margin(128, 128) < 12
    assert not grown[:12].any() and not grown[:, -12:].any()


def test_dilation_cannot_exceed_the_room_inside_the_margin():
    assert dilate_to_ratio(_dot(), 0.9, margin=20) is None
    assert dilate_to_ratio(np.zeros((32, 32), np.uint8), 0.2) is None


def test_nvidia_cells_cycle_through_bins_and_border():
    cells = [nvidia_cell(i) for i in range(24)]
    assert cells[:2] == [(0, True), (0, False)] and cells[11] == (5, False) and cells[12:] == cells[:12]


@pytest.mark.parametrize("cell", range(12))
def test_fit_reaches_every_nvidia_cell_with_strokes(cell):
    b, border = nvidia_cell(cell)
    for i in range(5):
        mask, info = fit_hole_ratio(deepfill_strokes, 256, 256, np.random.default_rng([cell, i]),
                                    bin_range(b), border=border, dilate=True)
        assert nvidia_bin(hole_ratio(mask)) == b and touches_border(mask) == border
        assert info["attempts"] >= 1


def test_fit_without_dilation_only_redraws():
    mask, info = fit_hole_ratio(deepfill_strokes, 256, 256, np.random.default_rng(0), (0.2, 0.3))
    assert 0.2 < hole_ratio(mask) <= 0.3 and info["dilation"] == 0


def test_unreachable_range_fails_clearly():
    def small_box(h, w, rng):
        m = np.zeros((h, w), np.uint8)
        m[:8, :8] = 255
        return m

    with pytest.raises(ValueError, match=r"no mask with hole ratio in \(0.4, 0.5\].*try --dilate"):
        fit_hole_ratio(small_box, 64, 64, np.random.default_rng(0), (0.4, 0.5))
    with pytest.raises(ValueError, match="allows at most 0.5"):
        fit_hole_ratio(small_box, 64, 64, np.random.default_rng(0), (0.5, 0.6), max_ratio=0.5)


def test_dilation_is_repeatable_whatever_opencv_threads():
    """OpenCV 5's exact distance transform differs between calls in the last bits; the grown
    masks must not (same seed, same bytes)."""
    import cv2

    from inpaint_data.pipelines.jobs.masks_synth import FreeFormSpec, free_form_sample

    spec = FreeFormSpec(style="deepfill", height=256, width=256, balance="nvidia", dilate=True)
    threads = cv2.getNumThreads()
    runs = []
    try:
        for n in (1, 2, 1, 2):
            cv2.setNumThreads(n)
            runs.append([free_form_sample(spec, i).mask.tobytes() for i in range(120)])
    finally:
        cv2.setNumThreads(threads)
    assert all(run == runs[0] for run in runs)
