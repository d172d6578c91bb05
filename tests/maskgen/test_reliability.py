"""`reliability` against Ruder et al.'s own consistency checker, run once on the flows in
tests/data/ruder (tests/data/ruder/make_reference.py made them and the reference .pgm maps)."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from inpaint_data.maskgen.video import OcclusionParams, motion_edge_energy, reliability

DATA = Path(__file__).parents[1] / "data" / "ruder"
CASES = ["moving_square", "pan_and_zoom", "large_random", "subpixel_rotation", "dis", "still"]


@pytest.fixture(scope="module")
def flows():
    return np.load(DATA / "flows.npz")


@pytest.mark.parametrize("direction", ["forward", "backward"])
@pytest.mark.parametrize("case", CASES)
def test_reliability_matches_the_reference_checker(flows, case, direction):
    other = "backward" if direction == "forward" else "forward"
    reference = cv2.imread(str(DATA / f"{case}_{direction}.pgm"), cv2.IMREAD_UNCHANGED).astype(np.float32)
    ours = reliability(flows[f"{case}_{direction}"], flows[f"{case}_{other}"])
    assert ours.dtype == np.float32 and ours.shape == reference.shape
    assert ours.min() >= 0 and ours.max() <= 255
    written = np.trunc(ours)  # the program writes (char) value
    assert np.abs(written - reference).mean() <= 2.0
    assert np.abs(written - reference).max() <= 1.0
    for level in (128, 153):  # halfway, and NVIDIA's 0.6 threshold
        a, b = written < level, reference < level
        assert (a & b).sum() >= 0.99 * (a | b).sum()


def test_reference_cases_exercise_every_branch(flows):
    """The stored cases hold out-of-frame pixels, failed checks and motion edges, not only 255."""
    holes = {case: (cv2.imread(str(DATA / f"{case}_forward.pgm"), cv2.IMREAD_UNCHANGED) < 128).mean()
             for case in CASES}
    assert 0.2 < holes["large_random"] < 0.8
    assert holes["moving_square"] > 0.05 and holes["pan_and_zoom"] > 0.05 and holes["subpixel_rotation"] > 0


def test_the_reference_marks_the_last_row_and_column_of_a_still_frame():
    """Ruder's look-up needs floor(x') + 1 < W: a pixel that stays on the last column is off the frame."""
    still = np.zeros((12, 16, 2), np.float32)
    rel = reliability(still, still, OcclusionParams(sigma=0))
    assert (rel[-1] == 0).all() and (rel[:, -1] == 0).all() and (rel[:-1, :-1] == 255).all()
    assert (reliability(still, still, OcclusionParams(sigma=0, off_frame=False)) == 255).all()


def test_an_inconsistent_pixel_is_minus_255_before_the_five_tap_smoothing():
    """-255, not 0, so that the Gaussian (Ruder's CSmooth(0.8, 2.0)) spreads a failed check outward."""
    flow = np.zeros((9, 9, 2), np.float32)
    back = np.zeros_like(flow)
    back[4, 4] = (3.0, 0.0)  # (4, 4) maps onto itself; back there is 3 px: |3|^2 >= 0.01 * 9 + 0.5
    rel = reliability(flow, back, OcclusionParams(off_frame=False))
    taps = np.exp(-np.arange(-2, 3) ** 2 / (2 * 0.8**2))
    g = taps / taps.sum()
    expected = 255 - 510 * np.outer(g, g)  # 255 everywhere minus 510 at the one pixel, smoothed
    assert rel[2:7, 2:7] == pytest.approx(expected, abs=1e-3)
    assert (rel[:2] == 255).all() and (rel[:, 7:] == 255).all()


def test_motion_edges_are_central_differences_with_a_mirrored_border():
    flow = np.zeros((6, 8, 2), np.float32)
    flow[:, 4:, 0] = 2.0
    energy = motion_edge_energy(flow)
    assert energy[:, 3] == pytest.approx(1.0) and energy[:, 4] == pytest.approx(1.0)
    assert (energy[:, :3] == 0).all() and (energy[:, 5:] == 0).all()
