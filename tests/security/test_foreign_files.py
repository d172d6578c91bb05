"""Round 2, item 8: eval, export and preview replace a file only when it is ours, or with
--overwrite; a user's file under the same name is refused in one line and left as it was."""

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from safety_helpers import assert_one_line_error, invoke, sharded_images, write_rgb

SHIPPED = Path(__file__).resolve().parents[2] / "inpaint_data" / "weights" / "deepfillv2_frames64.pt"


@pytest.fixture
def inputs(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    for i in range(2):
        write_rgb(tmp_path / "images" / f"p{i}.png", 48, seed=i)
    mask = np.zeros((48, 48), np.uint8)
    mask[8:30, 10:40] = 255
    cv2.imwrite(str(tmp_path / "masks" / "m.png"), mask)
    return tmp_path


@pytest.mark.parametrize("name", ["metrics.json", "metrics.csv", "worst_best.png"])
def test_eval_keeps_a_users_report_files(inputs, tmp_path, name):
    out = tmp_path / "report"
    out.mkdir()
    (out / name).write_bytes(b"my own numbers\n")
    command = ["eval", "--images", inputs / "images", "--masks", inputs / "masks", "--baseline", "telea", "--out", out]
    assert_one_line_error(invoke(*command), name, "--overwrite")
    assert (out / name).read_bytes() == b"my own numbers\n" and len(list(out.iterdir())) == 1
    assert invoke(*command, "--overwrite").exit_code == 0
    assert invoke(*command).exit_code == 0  # now the folder's report is ours: a re-run replaces it
    assert b"rows" in (out / "metrics.json").read_bytes()


def test_export_keeps_a_users_file_and_replaces_its_own(tmp_path):
    run = tmp_path / "model.pt"
    shutil.copy(SHIPPED, run)
    precious = tmp_path / "precious.txt"
    precious.write_text("do not lose me\n")
    assert_one_line_error(invoke("export", run, "--torchscript", "--trace-size", "32", "--out", precious),
                          "precious.txt", "--overwrite")
    assert precious.read_text() == "do not lose me\n"
    ours = tmp_path / "m.ts"
    for _ in range(2):  # the second export replaces the first one's file
        assert invoke("export", run, "--torchscript", "--trace-size", "32", "--out", ours).exit_code == 0
    result = invoke("export", run, "--torchscript", "--trace-size", "32", "--out", precious, "--overwrite")
    assert result.exit_code == 0 and precious.read_bytes()[:2] == b"PK"


def test_export_of_a_run_keeps_a_users_file(tmp_path):
    from inpaint_data.models.exported import is_exported_file

    assert is_exported_file(SHIPPED) and not is_exported_file(Path(__file__))
    run = tmp_path / "run"
    run.mkdir()
    precious = tmp_path / "notes.pt"
    precious.write_bytes(b"\x00\x01 a user's binary file")
    result = invoke("export", run, "--out", precious)
    assert_one_line_error(result, "notes.pt", "--overwrite")
    assert precious.read_bytes() == b"\x00\x01 a user's binary file"


def test_preview_keeps_a_users_png_and_replaces_its_own(tmp_path):
    from inpaint_data.datasets.images import is_tagged_png

    sharded_images(tmp_path, 3, size=48)
    photo = tmp_path / "p.png"
    write_rgb(photo, 40, seed=7)
    before = photo.read_bytes()
    result = invoke("preview", tmp_path / "shards", "--size", "32", "--count", "2", "--out", photo)
    assert_one_line_error(result, "p.png", "--overwrite")
    assert photo.read_bytes() == before
    ours = tmp_path / "preview.png"
    for _ in range(2):
        assert invoke("preview", tmp_path / "shards", "--size", "32", "--count", "2", "--out", ours).exit_code == 0
    assert is_tagged_png(ours) and not is_tagged_png(photo)
    assert cv2.imread(str(ours)).shape[0] > 0  # still a PNG every reader opens
    assert invoke("preview", tmp_path / "shards", "--size", "32", "--count", "2", "--out", photo,
                  "--overwrite").exit_code == 0
