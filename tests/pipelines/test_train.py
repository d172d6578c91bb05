import json

import numpy as np
import pytest
import torch

from inpaint_data.models.exported import load_model
from inpaint_data.models.registry import build_trainee, model_entry
from inpaint_data.pipelines.jobs.job import JobOptions
from inpaint_data.pipelines.jobs.shard import ShardSpec, run_shard_images
from inpaint_data.pipelines.training.checkpoints import export_model, latest_state
from inpaint_data.pipelines.training.run import TrainConfig, run_training


@pytest.fixture(scope="module")
def shards(ray_session, tmp_path_factory):
    import cv2
    from skimage import data

    root = tmp_path_factory.mktemp("train")
    images = root / "images"
    images.mkdir()
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        cv2.imwrite(str(images / f"{name}.png"), cv2.cvtColor(getattr(data, name)(), cv2.COLOR_RGB2BGR))
    run_shard_images(root / "shards", [str(images)], ShardSpec(size=64), options=JobOptions(shard_size=1))
    return root / "shards"


def _config(shards, out, model, **kw):
    small = {"pconv": dict(width=8, random_vgg=True), "deepfillv2": dict(cnum=8, dcnum=8),
             "lama": dict(blocks=1, ngf=8, ndf=8, random_perceptual=True)}[model]
    args = dict(model=model, data=str(shards), out=str(out), size=64, batch_size=1, steps=2, val_every=2,
                checkpoint_every=2, num_val=2, log_every=1, **small)
    args.update(kw)
    return TrainConfig.of(**args)


def _steps(run):
    return [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("model", ["pconv", "deepfillv2"])
@pytest.mark.parametrize("workers", [1, 2])
def test_trains_through_ray_train_with_finite_losses(shards, tmp_path, model, workers):
    last = run_training(_config(shards, tmp_path / "run", model, workers=workers)).metrics
    assert last["step"] == 2 and np.isfinite(last["loss"]) and np.isfinite(last["val_l1"])
    assert (tmp_path / "run" / "best.pt").exists() and list((tmp_path / "run" / "samples").glob("*.png"))
    assert list((tmp_path / "run" / "tensorboard").glob("events.out.tfevents.*"))


def test_rerunning_resumes_after_the_last_checkpoint(shards, tmp_path):
    run = tmp_path / "run"
    run_training(_config(shards, run, "deepfillv2", workers=1))
    first = latest_state(run)
    run_training(_config(shards, run, "deepfillv2", workers=1, steps=4))
    assert _steps(run) == [0, 1, 2, 3, 4]  # continued at step 3, not from scratch
    resumed = latest_state(run)
    adam = resumed["optimizers"]["generator"]["state"][0]
    assert int(adam["step"]) == 4 and int(first["optimizers"]["generator"]["state"][0]["step"]) == 2
    with pytest.raises(ValueError, match="other settings"):
        run_training(_config(shards, run, "deepfillv2", workers=1, steps=6, lr=1e-3))


def test_short_run_overfits_validation(shards, tmp_path):
    cfg = _config(shards, tmp_path / "run", "pconv", workers=0, steps=200, width=16, layers=4, lr=2e-3, batch_size=4,
                  val_every=40, checkpoint_every=100, num_val=4, mask_style="box", log_every=40)
    run_training(cfg)
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    val = [line["val_hole_l1"] for line in lines if "val_hole_l1" in line]
    assert lines[0]["step"] == 0 and len(val) == 6
    assert val[-1] <= val[0] / 2, val


def test_export_and_load_for_inference(shards, tmp_path):
    run = tmp_path / "run"
    run_training(_config(shards, run, "deepfillv2", workers=0))
    export_model(run, tmp_path / "model.pt")
    model, config = load_model(tmp_path / "model.pt")
    assert config == {"model": "deepfillv2", "cnum": 8, "sketch": False}
    coarse, fine = model(torch.zeros(1, 3, 64, 64), torch.ones(1, 1, 64, 64))
    assert fine.shape == (1, 3, 64, 64)
    with pytest.raises(ValueError, match="not a model exported"):
        torch.save({"x": 1}, tmp_path / "other.pt")
        load_model(tmp_path / "other.pt")


def test_nan_steps_are_skipped_and_weights_kept():
    cfg = _config("unused", "unused", "pconv").resolved().as_dict() | {"betas": (0.9, 0.999)}
    trainee = build_trainee(cfg, torch.device("cpu"))
    before = [p.detach().clone() for p in trainee.generator.parameters()]
    batch = {"image": torch.full((1, 3, 64, 64), float("nan")), "mask": torch.zeros(1, 1, 64, 64)}
    model_entry("pconv").train_step(trainee, batch, torch.device("cpu"))
    assert trainee.skipped == 1
    assert all(torch.equal(a, b) for a, b in zip(before, trainee.generator.parameters()))


@pytest.mark.parametrize("kw,message", [(dict(steps=None), "exactly one"), (dict(precision="fp16"), "needs GPUs"),
                                        (dict(size=60), "not divisible"), (dict(model="gan"), "unknown model")])
def test_bad_settings(kw, message):
    with pytest.raises(ValueError, match=message):
        _config("d", "o", "pconv").__class__(**{**_config("d", "o", "pconv").__dict__, **kw}).resolved()


def test_lama_trains_resumes_on_ray_train_and_exports_a_filler(shards, tmp_path):
    from inpaint_data.inference import ModelFiller

    run = tmp_path / "run"
    run_training(_config(shards, run, "lama", workers=1))
    last = run_training(_config(shards, run, "lama", workers=1, steps=4)).metrics
    assert _steps(run) == [0, 1, 2, 3, 4] and np.isfinite(last["loss"]) and np.isfinite(last["val_l1"])
    assert int(latest_state(run)["optimizers"]["discriminator"]["state"][0]["step"]) == 4
    saved = json.loads((run / "train_config.json").read_text())
    assert saved["mask_style"] == "lama-train" and saved["perceptual"] == "hrf" and saved["fm_weight"] == 100.0
    export_model(run, tmp_path / "lama.pt")
    model, config = load_model(tmp_path / "lama.pt")
    assert config == {"model": "lama", "blocks": 1, "ngf": 8}
    image = np.random.default_rng(0).integers(0, 256, (45, 70, 3), dtype=np.uint8)
    hole = np.zeros((45, 70), bool)
    hole[10:30, 20:50] = True
    filled = ModelFiller(tmp_path / "lama.pt").fill(image, hole)
    assert filled.shape == image.shape and np.array_equal(filled[~hole], image[~hole])


def test_fine_tuning_from_lamas_checkpoint_takes_d_and_optimisers_and_resumes(shards, tmp_path):
    """--init a LaMa Lightning checkpoint (tests/data/lama, Lightning's own file): the generator,
    discriminator and both Adams' moments come from it, the lr is the run's; the run resumes."""
    from pathlib import Path

    from inpaint_data.models.released import read_released

    ckpt = Path(__file__).parents[1] / "data" / "lama" / "lama_small.ckpt"
    run = tmp_path / "run"
    with pytest.raises(ValueError, match="--blocks 2 --ngf 8; give the same settings"):
        run_training(_config(shards, run, "lama", workers=0, init=str(ckpt)))
    with pytest.raises(ValueError, match="discriminator of width 8; give --ndf 8"):
        run_training(_config(shards, run, "lama", workers=0, init=str(ckpt), blocks=2, ndf=16))
    run_training(_config(shards, run, "lama", workers=0, init=str(ckpt), blocks=2, lr=5e-4))
    assert json.loads((run / "init.json").read_text())["parts"] == {
        "generator": "file", "discriminator": "file", "generator optimiser": "file", "discriminator optimiser": "file"}
    state, given = latest_state(run), read_released(ckpt).optimizers
    for name in ("generator", "discriminator"):  # the file's Adam steps, then this run's 2
        assert int(state["optimizers"][name]["state"][0]["step"]) == int(given[name]["state"][0]["step"]) + 2 == 3
    assert state["optimizers"]["generator"]["param_groups"][0]["lr"] == 5e-4
    assert state["optimizers"]["discriminator"]["param_groups"][0]["lr"] == 1e-4
    run_training(_config(shards, run, "lama", workers=0, init=str(ckpt), blocks=2, lr=5e-4, steps=4))
    assert _steps(run) == [0, 1, 2, 3, 4]
    assert int(latest_state(run)["optimizers"]["discriminator"]["state"][0]["step"]) == 5


def test_fine_tuning_from_deepfills_tensorflow_snapshot(shards, tmp_path):
    """--init a DeepFill v2 TF checkpoint (tests/data/deepfill_tf, written by TensorFlow): G, D and
    both Adams from the file; the run must use its settings, TF's padding included."""
    from pathlib import Path

    snapshot = Path(__file__).parents[1] / "data" / "deepfill_tf" / "small" / "snap-7.index"
    run = tmp_path / "run"
    with pytest.raises(ValueError, match="--cnum 8 --tf-padding; give the same settings"):
        run_training(_config(shards, run, "deepfillv2", workers=0, init=str(snapshot)))
    run_training(_config(shards, run, "deepfillv2", workers=0, init=str(snapshot), tf_padding=True))
    assert set(json.loads((run / "init.json").read_text())["parts"].values()) == {"file"}
    state = latest_state(run)
    assert int(state["optimizers"]["discriminator"]["state"][0]["step"]) == 3 + 2  # the file's 3, this run's 2
    export_model(run, tmp_path / "df.pt")
    assert load_model(tmp_path / "df.pt")[1] == {"model": "deepfillv2", "cnum": 8, "sketch": False, "tf_padding": True}


def test_pconv_finetune_from_a_training_checkpoint_starts_its_optimiser_afresh(shards, tmp_path):
    """PConv's --finetune trains fewer parameters (encoder BatchNorm frozen), so the checkpoint's
    Adam does not fit it: the generator comes from the file, the optimiser starts fresh."""
    run, tuned = tmp_path / "run", tmp_path / "tuned"
    run_training(_config(shards, run, "pconv", workers=0))
    checkpoint = sorted((run / "local_checkpoints").glob("step_*.pt"))[-1]
    run_training(_config(shards, tuned, "pconv", workers=0, init=str(checkpoint), finetune=True))
    assert json.loads((tuned / "init.json").read_text())["parts"] == {"generator": "file",
                                                                       "generator optimiser": "fresh"}
