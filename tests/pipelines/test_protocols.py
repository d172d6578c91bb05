"""`eval --protocol NAME`: the published set-ups' image lists, mask styles, sizes and bins."""

import json

import cv2
import numpy as np
from click.testing import CliRunner

from inpaint_data.cli.main import main
from inpaint_data.datasets.readers import iter_records
from inpaint_data.maskgen.ratios import BIN_SCHEMES
from inpaint_data.maskgen.styles import STYLES
from inpaint_data.protocols import PROTOCOLS
from tests.security.safety_helpers import assert_one_line_error


def test_every_preset_names_a_style_bins_and_the_places_validation_list():
    for name, protocol in PROTOCOLS.items():
        assert protocol.style in STYLES and protocol.bins in BIN_SCHEMES, name
        assert str(protocol.size) in protocol.style or protocol.size == 512, name
    names = PROTOCOLS["mat-places-512-large"].images.names()
    assert len(names) == len(set(names)) == 36_500
    assert (names[0], names[-1]) == ("Places365_val_00000001.jpg", "Places365_val_00036500.jpg")
    assert {p.images for p in PROTOCOLS.values()} == {PROTOCOLS["comodgan-places-512"].images}


def test_a_protocol_takes_its_listed_images_draws_its_masks_and_bins(tmp_path):
    images = tmp_path / "val_large"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in (3, 1, 2):  # listed, out of order on disk
        small = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
        cv2.imwrite(str(images / f"Places365_val_{i:08d}.jpg"), cv2.resize(small, (683, 512)))
    cv2.imwrite(str(images / "holiday.jpg"), np.zeros((600, 600, 3), np.uint8))  # not on the list
    out = tmp_path / "ev"
    args = ["eval", "--images", str(images), "--protocol", "mat-places-512-small", "--baseline", "telea",
            "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--first", "3"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "metrics.json").read_text())
    assert report["bins"] == "comodgan"
    assert [c["key"] for c in report["cases"]] == [f"Places365_val_{i:08d}" for i in (1, 2, 3)]
    masks = dict(iter_records(out / "masks-3"))
    assert len(masks) == 3 and all(json.loads(r["json"])["style"] == "mat-small" for r in masks.values())
    result = CliRunner().invoke(main, [*args, "--first", "5", "--overwrite"])
    assert_one_line_error(result, "2 of the list's 5 images are not in", "Places365_val_00000004.jpg")
    assert not (out / "masks-5").exists()  # the list is checked first
    result = CliRunner().invoke(main, [*args, "--masks", str(out / "masks-3")])
    assert result.exit_code == 2 and "give --masks or --protocol" in result.output
