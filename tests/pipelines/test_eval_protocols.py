"""Eval beyond L1/PSNR: learned metrics on random networks, bin schemes, streaming pairs,
TorchScript models in LaMa's convention."""

import json
import warnings

import cv2
import numpy as np
import pytest
import torch
from click.testing import CliRunner

from inpaint_data.cli.main import main
from inpaint_data.inference import TorchScriptFiller, baseline_fill, load_filler
from inpaint_data.models.inception import FIDInceptionV3
from inpaint_data.pipelines.evaluation.data import PackedMask, fit_image
from inpaint_data.pipelines.evaluation.evaluate import evaluate, summarise
from inpaint_data.pipelines.evaluation.scoring import FeatureScorer
from tests.metric_oracles import random_lpips


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Seven 48 x 64 images (smooth random colour fields) and five masks of growing holes."""
    root = tmp_path_factory.mktemp("eval")
    rng = np.random.default_rng(0)
    for i in range(7):
        small = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
        (root / "images").mkdir(exist_ok=True)
        cv2.imwrite(str(root / "images" / f"img{i}.png"), cv2.resize(small, (64, 48), interpolation=cv2.INTER_CUBIC))
    (root / "masks").mkdir()
    for j in range(5):
        mask = np.zeros((48, 64), np.uint8)
        mask[10:10 + 6 * (j + 1), 8:40] = 255
        cv2.imwrite(str(root / "masks" / f"m{j}.png"), mask)
    return root


def random_scorer():
    torch.manual_seed(0)
    inception = FIDInceptionV3()
    for m in inception.modules():  # give the batch norms plausible statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_var.fill_(1.0)
    return FeatureScorer(inception, {"alex": random_lpips("alex")})


def overall(rows):
    return next(r for r in rows if r["bin"] == "all bins" and r["group"] == "all")


@pytest.fixture(scope="module")
def truth_fill(folders):
    """A perfect filler: the hole's pixels are zeroed before any filler sees them, so it finds the
    original among the fixture's images by its known pixels."""
    originals = [fit_image(cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB), 48, 64)
                 for p in sorted((folders / "images").iterdir())]

    def fill(image, hole):
        assert not image[hole].any()
        return next(o for o in originals if np.array_equal(o[~hole], image[~hole])).copy()
    return fill


def test_a_perfect_fill_scores_zero_and_a_flat_fill_does_not(folders, truth_fill):
    scorer = random_scorer()
    perfect = evaluate(str(folders / "images"), str(folders / "masks"), truth_fill, scorer=scorer, batch_size=3)
    assert perfect.features()["inception"][0].shape == (7, 2048)
    row = overall(summarise(perfect.cases, "nvidia", perfect.features()))
    assert row["count"] == 7
    assert row["lpips_alex"] == 0 and row["fid"] == pytest.approx(0, abs=1e-6)
    assert row["u_ids"] == 0.5 and row["p_ids"] == 0.0  # indistinguishable sets

    flat = evaluate(str(folders / "images"), str(folders / "masks"),
                    lambda image, hole: baseline_fill(image, hole, "mean-fill"), scorer=scorer, batch_size=3)
    row = overall(summarise(flat.cases, "nvidia", flat.features()))
    assert row["lpips_alex"] > 0 and row["fid"] > 0
    lpips_by_case = [c.metrics["lpips_alex"] for c in sorted(flat.cases, key=lambda c: c.ratio)]
    assert lpips_by_case[-1] > lpips_by_case[0]  # a bigger flat hole is further away


def test_batch_size_does_not_change_the_numbers(folders):
    scorer = random_scorer()

    def run(batch_size):
        result = evaluate(str(folders / "images"), str(folders / "masks"),
                          lambda image, hole: baseline_fill(image, hole, "telea"), scorer=scorer, batch_size=batch_size)
        return summarise(result.cases, "lama", result.features())

    one, five = run(1), run(5)
    assert [r["bin"] for r in one] == [r["bin"] for r in five]
    for a, b in zip(one, five):
        for name in ("l1", "psnr", "ssim"):
            assert a[name] == b[name]
        assert a["lpips_alex"] == pytest.approx(b["lpips_alex"], rel=1e-4)
        if a.get("fid") is not None:
            assert a["fid"] == pytest.approx(b["fid"], rel=1e-3, abs=1e-3)


def test_pairs_cycle_the_shorter_side(folders, truth_fill, tmp_path):
    """7 images, 5 masks: 7 cases (masks 0-4, 0, 1); 2 images, 5 masks: 5 cases (images 0, 1, 0, 1, 0)."""
    result = evaluate(str(folders / "images"), str(folders / "masks"), truth_fill)
    assert [c.mask_key for c in result.cases] == ["m0", "m1", "m2", "m3", "m4", "m0", "m1"]
    few = tmp_path / "few"
    few.mkdir()
    for name in ("img0.png", "img1.png"):
        (few / name).write_bytes((folders / "images" / name).read_bytes())
    result = evaluate(str(few), str(folders / "masks"), truth_fill)
    assert [(c.key, c.mask_key) for c in result.cases] == [
        ("img0", "m0"), ("img1", "m1"), ("img0", "m2"), ("img1", "m3"), ("img0", "m4")]


def test_packed_masks_round_trip():
    hole = np.random.default_rng(0).random((37, 53)) > 0.6
    packed = PackedMask.pack("k", hole)
    assert packed.bits.nbytes == -(-37 * 53 // 8) and np.array_equal(packed.hole(), hole)


def test_bin_schemes_label_the_rows(folders, truth_fill):
    result = evaluate(str(folders / "images"), str(folders / "masks"), truth_fill, bins="comodgan")
    labels = {r["bin"] for r in summarise(result.cases, "comodgan")}
    ratios = sorted({round(c.ratio, 3) for c in result.cases})
    assert ratios[0] == pytest.approx(6 * 32 / (48 * 64), abs=1e-3)
    assert labels == {"[0,0.2)", "[0.2,0.4)", "all bins"}  # hole ratios 0.0625 .. 0.3125


class Doubler(torch.nn.Module):
    """A model in LaMa's convention: twice the image plus 0.25 (clamped) in the hole - easy to check."""

    def forward(self, image, mask):
        return mask * (image * 2 + 0.25).clamp(0, 1) + (1 - mask) * image


def test_torchscript_models_traced_elsewhere_fill_in_lamas_convention(folders, tmp_path, monkeypatch):
    traced = torch.jit.trace(Doubler(), (torch.rand(1, 3, 16, 16), torch.zeros(1, 1, 16, 16)))
    path = tmp_path / "doubler.pt"
    traced.save(str(path))
    filler = load_filler(f"torchscript:{path}", trust_code=True)
    assert isinstance(filler, TorchScriptFiller) and filler.multiple == 8
    image = np.random.default_rng(1).integers(0, 120, (21, 30, 3), dtype=np.uint8)  # not a multiple of 8
    hole = np.zeros((21, 30), bool)
    hole[5:15, 3:20] = True
    out = filler.fill(image, hole)
    assert np.array_equal(out[~hole], image[~hole])
    assert np.all(out[hole] == 64)  # the model saw zeros in the hole, never the image there
    result = CliRunner().invoke(main, ["eval", "--images", str(folders / "images"), "--masks", str(folders / "masks"),
                                       "--model", f"torchscript:{path}", "--trust-model-code",
                                       "--out", str(tmp_path / "ev")])
    assert result.exit_code == 0, result.output
    assert "TorchScript" in result.output and "LPIPS left out: give --lpips-backbone" in result.output
    monkeypatch.setenv("INPAINT_DATA_LOG_EVERY", "0")  # no terminal here: progress comes as lines, with the total
    result = CliRunner().invoke(main, ["eval", "--images", str(folders / "images"), "--masks", str(folders / "masks"),
                                       "--model", f"torchscript:{path}", "--trust-model-code",
                                       "--out", str(tmp_path / "ev2")])
    assert "done: 7/7 pairs (100.0%)" in result.output
    assert overall(json.loads((tmp_path / "ev" / "metrics.json").read_text())["rows"])["count"] == 7
    result = CliRunner().invoke(main, ["inpaint", str(folders / "images"), "--mask", str(folders / "masks" / "m2.png"),
                                       "--model", f"torchscript:{path}", "--trust-model-code",
                                       "--out", str(tmp_path / "filled")])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "filled").glob("*.png"))) == 7


def test_eval_refuses_metric_weights_of_another_release(folders, tmp_path):
    fake = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    torch.save({"x": torch.zeros(1)}, fake)
    result = CliRunner().invoke(main, ["eval", "--images", str(folders / "images"), "--masks", str(folders / "masks"),
                                       "--baseline", "telea", "--inception-weights", str(fake), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "expected 6726825d" in result.output
    result = CliRunner().invoke(main, ["eval", "--images", str(folders / "images"), "--masks", str(folders / "masks"),
                                       "--baseline", "telea", "--lpips-backbone", "squeeze=x", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "alex=PATH or vgg=PATH" in result.output


def test_export_torchscript_of_the_shipped_model_fills_as_the_model_does(tmp_path):
    from inpaint_data.inference import ModelFiller
    from inpaint_data.pipelines.demo import SHIPPED_DEEPFILL

    out = tmp_path / "deepfill.ts"
    result = CliRunner().invoke(main, ["export", str(SHIPPED_DEEPFILL), "--out", str(out), "--torchscript",
                                       "--trace-size", "64"])
    assert result.exit_code == 0, result.output
    assert "TorchScript, any size" in result.output
    scripted, eager = load_filler(f"torchscript:{out}", trust_code=True), ModelFiller(SHIPPED_DEEPFILL)
    assert scripted.info["model_config"]["model"] == "deepfillv2" and scripted.info["model_multiple"] == eager.multiple
    assert scripted.multiple == 1  # the file pads itself
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (2, 45, 70, 3), dtype=np.uint8)  # another size than traced, two at once
    holes = np.zeros((2, 45, 70), bool)
    holes[0, 10:30, 20:50] = True
    holes[1, 5:40, 5:15] = True
    a, b = scripted.fill_batch(images, holes), eager.fill_batch(images, holes)
    assert np.array_equal(a[~holes], images[~holes])
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1  # [0, 1] vs [-1, 1] arithmetic: rounding only
    result = CliRunner().invoke(main, ["export", str(tmp_path), "--out", str(tmp_path / "x.pt")])
    assert result.exit_code == 2 and "no checkpoint" in result.output


def test_ray_data_path_gives_the_single_process_numbers(ray_session, folders, tmp_path, monkeypatch):
    """Two actors, chunks of 3 pairs: the same cases, rows and worst/best grid as in one process,
    and no deprecation warning from Ray on the way (a fresh Ray Data context, as a new driver has)."""
    import ray.data.context

    from inpaint_data.pipelines.evaluation.evaluate import EvalSpec
    from inpaint_data.pipelines.evaluation.on_ray import evaluate_on_ray

    local = evaluate(str(folders / "images"), str(folders / "masks"),
                     lambda image, hole: baseline_fill(image, hole, "telea"), batch_size=2, bins="lama")
    monkeypatch.setattr(ray.data.context, "_default_context", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spread = evaluate_on_ray(str(folders / "images"), str(folders / "masks"),
                                 EvalSpec(baseline="telea", bins="lama", batch_size=2), workers=2, chunk=3)
    assert not [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    assert [c.__dict__ for c in spread.cases] == [c.__dict__ for c in local.cases]
    assert summarise(spread.cases, "lama") == summarise(local.cases, "lama")
    assert [c.key for c, _ in spread.strips] == [c.key for c, _ in local.strips]
    result = CliRunner().invoke(main, ["eval", "--images", str(folders / "images"), "--masks", str(folders / "masks"),
                                       "--baseline", "telea", "--workers", "2", "--out", str(tmp_path / "ray")])
    assert result.exit_code == 0, result.output
    assert overall(json.loads((tmp_path / "ray" / "metrics.json").read_text())["rows"])["count"] == 7


def test_weights_are_checked_without_building_networks(tmp_path):
    """What a driver runs before handing the scoring to Ray actors: the same refusals."""
    from inpaint_data.errors import InputError
    from inpaint_data.pipelines.evaluation.scoring import MetricWeights, check_weights

    fake = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    torch.save({"x": torch.zeros(1)}, fake)
    with pytest.raises(InputError, match="expected 6726825d"):
        check_weights(MetricWeights(inception=str(fake)))
    with pytest.raises(InputError, match="expected 7be5be79"):
        check_weights(MetricWeights(lpips_backbones={"alex": str(fake)}, lpips_heads={"alex": str(fake)}))
    check_weights(MetricWeights())  # nothing asked, nothing checked
