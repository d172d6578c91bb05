import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from inpaint_data.cli.main import main
from inpaint_data.inference import baseline_fill
from inpaint_data.pipelines.jobs.job import JobOptions
from inpaint_data.pipelines.jobs.masks_synth import FreeFormSpec, run_free_form_masks


@pytest.fixture(scope="module")
def sample_images(tmp_path_factory):
    from skimage import data

    root = tmp_path_factory.mktemp("images")
    for name in ("astronaut", "coffee", "chelsea", "rocket", "camera"):
        image = getattr(data, name)()
        cv2.imwrite(str(root / f"{name}.png"), image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return root


@pytest.fixture(scope="module")
def balanced_masks(ray_session, tmp_path_factory):
    out = tmp_path_factory.mktemp("masks") / "m"
    run_free_form_masks(out, FreeFormSpec(style="deepfill", height=128, width=128, balance="nvidia", dilate=True),
                        count=120, options=JobOptions(shard_size=60))
    return out


def test_telea_table_gets_worse_with_bigger_holes(sample_images, balanced_masks, tmp_path):
    result = CliRunner().invoke(main, ["eval", "--images", str(sample_images), "--masks", str(balanced_masks),
                                       "--baseline", "telea", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "(0.5,0.6]" in result.output and "no border" in result.output
    rows = [r for r in json.loads((tmp_path / "metrics.json").read_text())["rows"] if r["group"] == "all"]
    per_bin = [r for r in rows if r["bin"] != "all bins"]
    assert len(per_bin) == 6 and all(r["count"] == 20 for r in per_bin)
    l1s, psnrs = [r["l1"] for r in per_bin], [r["psnr"] for r in per_bin]
    assert l1s == sorted(l1s) and psnrs == sorted(psnrs, reverse=True)
    assert (tmp_path / "metrics.csv").read_text().startswith("bin,group,count,l1,l2,psnr,ssim,l1_hole")
    assert cv2.imread(str(tmp_path / "worst_best.png")).shape == (4 + 8 * (128 + 4), 4 + 3 * 128 + 4, 3)  # 4 px gaps


def test_baselines_keep_known_pixels():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (33, 47, 3), dtype=np.uint8)
    hole = np.zeros((33, 47), bool)
    hole[10:20, 5:30] = True
    for method in ("telea", "navier-stokes", "mean-fill"):
        out = baseline_fill(image, hole, method)
        assert np.array_equal(out[~hole], image[~hole])
    with pytest.raises(ValueError, match="unknown baseline"):
        baseline_fill(image, hole, "magic")


@pytest.fixture(scope="module")
def exported(ray_session, tmp_path_factory, sample_images):
    from inpaint_data.pipelines.jobs.shard import ShardSpec, run_shard_images
    from inpaint_data.pipelines.training.checkpoints import export_model
    from inpaint_data.pipelines.training.run import TrainConfig, run_training

    root = tmp_path_factory.mktemp("model")
    run_shard_images(root / "shards", [str(sample_images)], ShardSpec(size=64), options=JobOptions(shard_size=2))
    run_training(TrainConfig.of(model="deepfillv2", data=str(root / "shards"), out=str(root / "run"), size=64,
                             batch_size=1, steps=2, workers=0, cnum=8, dcnum=8, num_val=2, val_every=2))
    export_model(root / "run", root / "model.pt")
    return root / "model.pt"


def test_trained_model_evaluates_and_inpaints_odd_sizes_exactly(exported, sample_images, balanced_masks, tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["eval", "--images", str(sample_images), "--masks", str(balanced_masks),
                                  "--model", str(exported), "--out", str(tmp_path / "eval")])
    assert result.exit_code == 0, result.output
    assert "deepfillv2" in result.output and "all bins" in result.output
    odd = tmp_path / "odd"
    odd.mkdir()
    image = cv2.imread(str(sample_images / "coffee.png"))[:101, :157]
    cv2.imwrite(str(odd / "coffee.png"), image)
    mask = np.zeros((61, 97), np.uint8)  # another size: resized to the image
    mask[20:40, 30:70] = 255
    cv2.imwrite(str(tmp_path / "mask.png"), mask)
    result = runner.invoke(main, ["inpaint", str(odd), "--mask", str(tmp_path / "mask.png"),
                                  "--model", str(exported), "--out", str(tmp_path / "filled")])
    assert result.exit_code == 0, result.output
    filled = cv2.imread(str(tmp_path / "filled" / "coffee.png"))
    hole = cv2.resize(mask, (157, 101), interpolation=cv2.INTER_NEAREST) > 127
    assert filled.shape == image.shape
    assert np.array_equal(filled[~hole], image[~hole]) and not np.array_equal(filled[hole], image[hole])


def test_eval_needs_a_filler(tmp_path, sample_images, balanced_masks):
    result = CliRunner().invoke(main, ["eval", "--images", str(sample_images), "--masks", str(balanced_masks),
                                       "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--model or --baseline" in result.output


def test_set_metrics_reach_the_csv_though_the_last_row_has_none(tmp_path):
    """FID and LaMa's F1 are computed in the "all" rows only; the last row is often "all bins,
    no border". The CSV took its columns from that row, so writing a report with FID raised."""
    from inpaint_data.pipelines.evaluation.evaluate import write_report

    rows = [{"bin": "(0.01,0.1]", "group": "all", "count": 2, "l1": 1.0, "fid": 3.0, "lpips_fid100_f1": 0.5},
            {"bin": "all bins", "group": "no border", "count": 2, "l1": 1.0}]
    write_report(tmp_path, rows, [], [], {})
    header, first, last = (tmp_path / "metrics.csv").read_text().splitlines()
    assert header == "bin,group,count,l1,fid,lpips_fid100_f1"
    assert first.endswith(",3.0,0.5") and last == "all bins,no border,2,1.0,,"
