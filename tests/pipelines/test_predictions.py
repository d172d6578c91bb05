"""`eval --predictions DIR` (images another tool saved, by our, MAT's and LaMa's naming), mmagic's
hole-only L1, LaMa's lpips_fid100_f1 and `--table markdown|latex`."""

import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from inpaint_data.cli.main import main
from inpaint_data.inference import baseline_fill
from inpaint_data.metrics import l1_hole, psnr
from inpaint_data.pipelines.evaluation.evaluate import lpips_fid100_f1
from inpaint_data.pipelines.evaluation.tables import results_table
from tests.security.safety_helpers import assert_one_line_error


@pytest.fixture
def folders(tmp_path):
    """Six 48 x 64 images, three masks: pair k is image k with mask k mod 3."""
    rng = np.random.default_rng(0)
    for name in ("images", "masks"):
        (tmp_path / name).mkdir()
    images, masks = [], []
    for i in range(6):
        image = cv2.resize(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), (64, 48), interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(tmp_path / "images" / f"img{i}.png"), image)
        images.append(image[..., ::-1])
    for j in range(3):
        mask = np.zeros((48, 64), np.uint8)
        mask[10:10 + 8 * (j + 1), 8:40] = 255
        cv2.imwrite(str(tmp_path / "masks" / f"m{j}.png"), mask)
        masks.append(mask > 0)
    return tmp_path, images, masks


def _save_telea(folder, images, masks, name):
    """What another tool would save: the Telea fill of each pair, named by `name(i, j)`."""
    folder.mkdir()
    for i, image in enumerate(images):
        j = i % len(masks)
        blind = np.where(masks[j][..., None], 0, image).astype(np.uint8)
        cv2.imwrite(str(folder / f"{name(i, j)}.png"), baseline_fill(blind, masks[j], "telea")[..., ::-1])


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _rows(out):
    return json.loads((out / "metrics.json").read_text())["rows"]


@pytest.mark.parametrize("naming", ["image key (ours, MAT)", "pair"])
def test_saved_predictions_score_as_the_filler_that_made_them(folders, naming):
    root, images, masks = folders
    name = (lambda i, j: f"img{i}") if naming.startswith("image") else (lambda i, j: f"img{i}_m{j}")
    _save_telea(root / "saved", images, masks, name)
    assert invoke("eval", "--images", root / "images", "--masks", root / "masks", "--baseline", "telea",
                  "--out", root / "direct").exit_code == 0
    result = invoke("eval", "--images", root / "images", "--masks", root / "masks", "--predictions", root / "saved",
                    "--out", root / "saved_ev")
    assert result.exit_code == 0, result.output
    assert f"predictions {root / 'saved'}" in result.output
    assert _rows(root / "saved_ev") == _rows(root / "direct")


def test_lamas_naming_after_the_mask_when_each_mask_is_used_once(folders):
    root, images, masks = folders
    for path in sorted((root / "images").iterdir())[3:]:
        path.unlink()  # three images, three masks: LaMa's one mask per image
    _save_telea(root / "lama_out", images[:3], masks, lambda i, j: f"m{j}")
    result = invoke("eval", "--images", root / "images", "--masks", root / "masks", "--predictions", root / "lama_out",
                    "--out", root / "ev")
    assert result.exit_code == 0, result.output
    assert invoke("eval", "--images", root / "images", "--masks", root / "masks", "--baseline", "telea",
                  "--out", root / "direct").exit_code == 0
    assert _rows(root / "ev") == _rows(root / "direct")
    assert [r["count"] for r in _rows(root / "ev") if r["bin"] == "all bins" and r["group"] == "all"] == [3]


def test_a_pair_without_a_prediction_or_of_another_size_is_one_line(folders):
    root, images, masks = folders
    _save_telea(root / "saved", images, masks, lambda i, j: f"img{i}")
    (root / "saved" / "img4.png").unlink()
    result = invoke("eval", "--images", root / "images", "--masks", root / "masks", "--predictions", root / "saved",
                    "--out", root / "ev")
    assert_one_line_error(result, "image 'img4' with mask 'm1'", "'img4_m1'")
    assert not (root / "ev").exists()  # refused before any work
    cv2.imwrite(str(root / "saved" / "img4.png"), np.zeros((24, 32, 3), np.uint8))
    result = invoke("eval", "--images", root / "images", "--masks", root / "masks", "--predictions", root / "saved",
                    "--out", root / "ev")
    assert_one_line_error(result, "img4.png is 32x24", "64x48")
    result = invoke("eval", "--images", root / "images", "--masks", root / "masks", "--predictions", root / "saved",
                    "--baseline", "telea", "--out", root / "ev")
    assert_one_line_error(result, "one of --model, --baseline and --predictions")


def test_hole_l1_is_mmagics_masked_mae_and_psnr_its_whole_image_psnr():
    rng = np.random.default_rng(3)
    truth, out = rng.integers(0, 256, (2, 20, 30, 3), dtype=np.uint8)
    hole = np.zeros((20, 30), bool)
    hole[4:12, 5:25] = True
    # mmagic/evaluation/metrics/mae.py, MAE.process_image with a mask (H x W x 1, 1 = hole)
    gt, pred, mask = truth / 255.0, out / 255.0, hole[..., None].astype(np.float64)
    diff = np.abs(gt - pred) * mask
    scale = np.prod(diff.shape) / np.prod(mask.shape)
    assert l1_hole(out, truth, hole) == pytest.approx(diff.sum() / (mask.sum() * scale + 1e-12), rel=1e-12)
    # mmagic/evaluation/metrics/psnr.py on 0..255 images, no crop, no colour conversion
    mse = ((truth.astype(np.float64) - out) ** 2).mean()
    assert psnr(out, truth) == pytest.approx(20.0 * np.log10(255.0 / np.sqrt(mse)), rel=1e-12)


def test_lpips_fid100_f1_is_lamas():
    # saicinpainting/evaluation/evaluator.py: 2 * (1 - lpips) * fid_rel / ((1 - lpips) + fid_rel + 1e-3)
    assert lpips_fid100_f1(0.2, 30.0) == pytest.approx(2 * 0.8 * 0.7 / (0.8 + 0.7 + 1e-3))
    assert lpips_fid100_f1(0.2, 150.0) == 0.0  # FID over 100 counts as 0


def test_results_table_has_bins_as_rows_and_metrics_as_columns():
    rows = [{"bin": "(0.01,0.1]", "group": "all", "count": 4, "l1": 1.234, "psnr": 30.0, "p_ids": 0.125},
            {"bin": "(0.01,0.1]", "group": "border", "count": 1, "l1": 9.0, "psnr": 10.0},
            {"bin": "all bins", "group": "all", "count": 4, "l1": 1.234, "psnr": 30.0, "p_ids": None}]
    markdown = results_table(rows, "markdown").splitlines()
    assert markdown[0] == "| Hole ratio | Images | L1 (%) | PSNR | P-IDS (%) |"
    assert markdown[2:] == ["| (0.01,0.1] | 4 | 1.23 | 30.00 | 12.50 |", "| all bins | 4 | 1.23 | 30.00 | - |"]
    latex = results_table(rows, "latex").splitlines()
    assert latex[0] == r"\begin{tabular}{lrrrr}" and latex[2] == r"Hole ratio & Images & L1 (\%) & PSNR & P-IDS (\%) \\"
    assert latex[-4:] == [r"\midrule", r"all bins & 4 & 1.23 & 30.00 & - \\", r"\bottomrule", r"\end{tabular}"]
