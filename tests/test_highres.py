"""Images larger than a model's training size (inpaint --hd): IOPaint's crop and resize."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from inpaint_data.cli.main import main
from inpaint_data.highres import HighResPolicy, choose, crop_box, fill_high_res, hole_boxes
from inpaint_data.inference import baseline_fill


class Recorder:
    """A real filler (Telea) that records the size of every image it is given."""

    def __init__(self):
        self.shapes = []

    def __call__(self, image, hole, sketch=None):
        self.shapes.append(hole.shape)
        return baseline_fill(image, hole, "telea")


def _image(height, width, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_crop_box_is_iopaints_shifted_inwards_at_the_edges():
    # 40 x 20 box, margin 128: a 296 x 276 window around its centre (120, 110) ...
    assert crop_box((400, 500, 440, 520), (1000, 1000), 128) == (272, 372, 568, 648)
    # ... moved right and down by what it lost past the top-left edge, up and left at the other
    assert crop_box((100, 100, 140, 120), (1000, 1000), 128) == (0, 0, 296, 276)
    assert crop_box((950, 980, 1000, 1000), (1000, 1000), 128) == (694, 724, 1000, 1000)
    assert crop_box((0, 0, 10, 10), (100, 100), 128) == (0, 0, 100, 100)  # never past the image


def test_auto_picks_original_crop_or_resize_from_size_and_holes():
    policy = HighResPolicy()  # a model trained at 256: IOPaint's 800 / 128 / 1280
    small, large = np.zeros((700, 800), bool), np.zeros((900, 1400), bool)
    small[100:200, 100:200] = large[100:140, 100:160] = True
    assert choose(policy, small) == "original" and choose(policy, large) == "crop"
    large[:, 300:1300:50] = True  # stripes across the image: the crops would cover it all
    assert choose(policy, large) == "resize"
    trained_at_64 = HighResPolicy("auto", 64)
    assert (trained_at_64.crop_trigger, trained_at_64.crop_margin, trained_at_64.resize_limit) == (200, 32, 320)
    assert choose(trained_at_64, small) == "crop"
    with pytest.raises(ValueError, match="unknown --hd strategy 'tile'"):
        HighResPolicy("tile")


def test_crop_fills_each_hole_in_its_own_window_and_keeps_the_rest():
    image, hole = _image(900, 1400), np.zeros((900, 1400), bool)
    hole[100:140, 100:160] = hole[600:700, 1000:1020] = True
    fill = Recorder()
    filled, strategy = fill_high_res(fill, image, hole, None, HighResPolicy())
    assert strategy == "crop" and sorted(fill.shapes) == [(296, 316), (356, 276)]
    assert len(hole_boxes(hole)) == 2 and np.array_equal(filled[~hole], image[~hole])
    assert not np.array_equal(filled[hole], image[hole])


def test_resize_fills_a_smaller_copy_and_pastes_only_the_hole():
    image, hole = _image(1000, 1600), np.zeros((1000, 1600), bool)
    hole[:, 200:1400:40] = True
    fill = Recorder()
    filled, strategy = fill_high_res(fill, image, hole, None, HighResPolicy())
    assert strategy == "resize" and fill.shapes == [(800, 1280)]
    assert np.array_equal(filled[~hole], image[~hole])
    forced = Recorder()
    assert fill_high_res(forced, image[:500, :500], hole[:500, :500], None, HighResPolicy("resize"))[1] == "original"
    assert forced.shapes == [(500, 500)]  # within the limit: IOPaint fills the original too


@pytest.fixture(scope="module")
def lama_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("hd") / "lama.pt"
    ckpt = Path(__file__).parent / "data" / "lama" / "lama_small.ckpt"
    assert CliRunner().invoke(main, ["import", str(ckpt), "--out", str(out)]).exit_code == 0
    return out


def test_inpaint_hd_says_how_each_image_was_filled(tmp_path, lama_model):
    images = tmp_path / "images"
    images.mkdir()
    cv2.imwrite(str(images / "big.png"), _image(820, 900))
    mask = np.zeros((820, 900), np.uint8)
    mask[400:440, 300:380] = 255
    cv2.imwrite(str(tmp_path / "mask.png"), mask)
    args = ["inpaint", str(images), "--mask", str(tmp_path / "mask.png"), "--model", str(lama_model)]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "auto")])
    assert result.exit_code == 0, result.output
    assert "1 images filled" in result.output and "(1 crop)" in result.output  # trained at 256: crop above 800 px
    result = CliRunner().invoke(main, [*args, "--hd", "original", "--out", str(tmp_path / "whole")])
    assert result.exit_code == 0 and "crop" not in result.output
    auto, whole = (cv2.imread(str(tmp_path / d / "big.png")) for d in ("auto", "whole"))
    original = cv2.imread(str(images / "big.png"))
    for filled in (auto, whole):
        assert np.array_equal(filled[mask == 0], original[mask == 0])
