import cv2
import numpy as np
import pytest
from videos import MovingSquare

from inpaint_data.maskgen.augment import augment_video_mask
from inpaint_data.maskgen.video import (
    FlowEstimator,
    OcclusionParams,
    frame_difference,
    near_duplicate,
    occlusion_mask,
    remove_small_holes,
    unreliable,
)


def _near(mask, px):
    return cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * px + 1, 2 * px + 1)))


@pytest.mark.parametrize("dx,dy", [(7, 5), (-6, 4), (12, 9)])
def test_mask_covers_the_analytic_occluded_and_disoccluded_strips(dx, dy):
    video = MovingSquare(dx=dx, dy=dy, x0=90, y0=60)
    a, b = video.gray(0), video.gray(1)
    flow = FlowEstimator("dis", "medium")
    mask = occlusion_mask(flow(a, b), flow(b, a))
    truth = video.occluded_and_disoccluded(0)
    recall = (mask[truth > 0] > 0).mean()
    precision = (_near(truth, 5)[mask > 0] > 0).mean()  # within 5 px: DIS patches blur motion edges
    assert recall >= 0.8 and precision >= 0.8, (recall, precision)


def test_static_frames_give_no_holes():
    video = MovingSquare(dx=0, dy=0)
    flow = FlowEstimator("dis", "fast")
    assert not occlusion_mask(flow(video.gray(0), video.gray(1)), flow(video.gray(1), video.gray(0))).any()


def test_consistency_check_follows_the_formula():
    h, w = 8, 10
    flow = np.zeros((h, w, 2), np.float32)
    flow[..., 0] = 1.0  # everything moves 1 px right
    back = np.zeros_like(flow)
    back[..., 0] = -1.0  # and back: consistent
    bad = unreliable(flow, back, OcclusionParams(motion_abs=1e9))
    assert bad[:, -1].all() and not bad[:, :-1].any()  # only pixels carried off the frame
    back[2, 5, 0] = 0.0  # pixel (2,4) maps to (2,5), whose backward flow is now 0: |1+0|^2 >= 0.01 + 0.5
    bad = unreliable(flow, back, OcclusionParams(motion_abs=1e9))
    assert bad[2, 4] and not bad[2, 3]


def test_motion_boundary_fires_on_flow_discontinuities():
    flow = np.zeros((20, 20, 2), np.float32)
    flow[:, 10:, 0] = 5.0
    back = -flow
    bad = unreliable(flow, back, OcclusionParams(consistency_abs=1e9))
    assert bad[:, 9].all() and not bad[:, :9].any() and not bad[:, 10:15].any()  # 15.. leave the frame


def test_small_components_are_removed():
    mask = np.zeros((30, 30), np.uint8)
    mask[2:4, 2:4] = 255
    mask[10:20, 10:20] = 255
    out = remove_small_holes(mask, 16)
    assert not out[2:4, 2:4].any() and out[10:20, 10:20].all()


def test_cut_and_duplicate_detectors():
    video = MovingSquare()
    assert frame_difference(video.gray(0), video.gray(1)) < 10
    assert frame_difference(video.gray(0), 255 - video.gray(0)) > 35
    m = video.occluded_and_disoccluded(0)
    assert near_duplicate(m, m, 0.8) and not near_duplicate(m, np.roll(m, 40, axis=1), 0.8)


def test_augmentation_dilates_and_crops_to_size():
    raw = np.zeros((272, 640), np.uint8)
    raw[100:110, 300:310] = 255
    sizes = []
    for i in range(50):
        out = augment_video_mask(raw, 512, 384, np.random.default_rng(i))
        assert out.shape == (512, 384) and set(np.unique(out)) <= {0, 255}
        sizes.append((out > 0).sum())
    # a 10 px square scaled by 512/272 ~ 19 px, then dilated by 9..49 px: never the bare square
    assert min(s for s in sizes if s) > 19 * 19 and max(sizes) < (19 + 50) ** 2 * 1.5
