"""DeepFill v2's training recipes and the stabilisers of the stable one: R1, the generator's
moving average, the discriminator's own learning rate."""

import json

import pytest
import torch
from torch import nn

from inpaint_data.errors import InputError
from inpaint_data.models.deepfill import r1_penalty
from inpaint_data.models.registry import MODELS, build_trainee
from inpaint_data.models.trainee import Trainee
from inpaint_data.pipelines.training.config import TrainConfig
from inpaint_data.pipelines.training.run import _check_same_run


def _config(**kw) -> TrainConfig:
    return TrainConfig.of(model="deepfillv2", data="d", out="o", size=32, batch_size=2, steps=1, cnum=8, dcnum=8,
                       **kw).resolved()


def test_stable_is_the_default_recipe_and_released_is_one_flag_away():
    stable, released = _config().as_dict(), _config(recipe="released").as_dict()
    assert stable["recipe"] == "stable"
    for name, value in MODELS["deepfillv2"].recipes["stable"].items():
        assert stable[name] == value
    assert stable["r1_weight"] > 0 and 0 < stable["ema"] < 1
    assert stable["gan_weight"] < released["gan_weight"]
    assert [released[k] for k in ("gan_weight", "gan_warmup", "r1_weight", "ema", "d_lr")] == [1.0, 0, 0.0, 0.0, None]
    assert _config(r1_weight=0.25).settings["r1_weight"] == 0.25  # a setting given wins over the recipe
    with pytest.raises(ValueError, match="no recipe 'fast'"):
        _config(recipe="fast")
    with pytest.raises(InputError, match="setting ema: must be in"):
        _config(ema=1.0)


def test_released_recipe_trains_without_stabilisers():
    trainee = build_trainee(_config(recipe="released").as_dict(), torch.device("cpu"))
    assert trainee.ema is None and trainee.settings["r1_weight"] == 0.0
    batch = {"image": torch.rand(2, 3, 32, 32) * 2 - 1, "mask": (torch.rand(2, 1, 32, 32) > 0.6).float()}
    metrics = MODELS["deepfillv2"].train_step(trainee, batch, torch.device("cpu"))
    assert "r1" not in metrics and "d_loss" in metrics


class _LinearD(nn.Module):
    """D(x) = sum(w * x) per image: its input gradient is w, so R1 = |w|^2 exactly."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(3, 8, 8))

    def forward(self, image, mask, sketch=None):
        return (image * self.w).flatten(1).sum(1, keepdim=True)


def test_r1_is_the_squared_input_gradient_on_real_images_and_trains_d():
    d = _LinearD()
    logits, r1 = r1_penalty(d, torch.rand(4, 3, 8, 8), torch.zeros(4, 1, 8, 8), None)
    assert logits.shape == (4, 1)
    assert r1.item() == pytest.approx(d.w.pow(2).sum().item(), rel=1e-5)
    r1.backward()  # differentiable in D's weights: d|w|^2/dw = 2w
    assert torch.allclose(d.w.grad, 2 * d.w.detach(), rtol=1e-5)

    trainee = build_trainee(_config(r1_weight=10.0).as_dict(), torch.device("cpu"))
    batch = {"image": torch.rand(2, 3, 32, 32) * 2 - 1, "mask": (torch.rand(2, 1, 32, 32) > 0.6).float()}
    metrics = MODELS["deepfillv2"].train_step(trainee, batch, torch.device("cpu"))
    assert metrics["r1"] > 0 and torch.isfinite(torch.tensor(metrics["d_loss"]))


def test_discriminator_learning_rate_is_its_own_when_given():
    trainee = build_trainee(_config(d_lr=4e-4).as_dict(), torch.device("cpu"))
    assert trainee.optimizers["discriminator"].param_groups[0]["lr"] == 4e-4
    assert trainee.optimizers["generator"].param_groups[0]["lr"] == 1e-4
    trainee = build_trainee(_config().as_dict(), torch.device("cpu"))
    assert trainee.optimizers["discriminator"].param_groups[0]["lr"] == 1e-4


def test_moving_average_follows_the_ramped_decay_and_is_what_validation_and_export_use():
    generator = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(generator.weight)
    trainee = Trainee("deepfillv2", generator, {}, ema_decay=0.999)
    assert trainee.inference_generator() is trainee.ema and not trainee.ema.weight.requires_grad
    with torch.no_grad():
        generator.weight.fill_(1.0)
    trainee.update_ema()  # t = 0: decay min(0.999, 1/10) = 0.1
    assert trainee.ema.weight.item() == pytest.approx(0.9)
    trainee.steps = 990  # decay min(0.999, 991/1000) = 0.991
    with torch.no_grad():
        generator.weight.fill_(2.0)
    trainee.update_ema()
    assert trainee.ema.weight.item() == pytest.approx(0.991 * 0.9 + 0.009 * 2.0)

    state = trainee.state()
    restored = Trainee("deepfillv2", nn.Linear(1, 1, bias=False), {}, ema_decay=0.999)
    restored.load(state, optimizers=False)
    assert restored.ema.weight.item() == pytest.approx(trainee.ema.weight.item())
    del state["ema"]  # a checkpoint of a run without an average starts it from the generator
    restored.load(state, optimizers=False)
    assert restored.ema.weight.item() == 2.0
    plain = nn.Linear(1, 1)
    assert Trainee("pconv", plain, {}).inference_generator() is plain  # no average: the generator itself


def test_a_run_from_before_recipes_resumes_with_the_released_recipe(tmp_path):
    saved = tmp_path / "train_config.json"
    old = _config(recipe="released").as_dict()
    for name in ("recipe", "d_lr", "r1_weight", "ema"):
        del old[name]
    old["betas"] = list(old["betas"])
    saved.write_text(json.dumps(old))
    released = {**_config(recipe="released").as_dict(), "betas": list(old["betas"])}
    _check_same_run(saved, released)
    with pytest.raises(InputError, match=r"other settings \(ema, gan_weight, r1_weight, recipe\)"):
        _check_same_run(saved, {**_config().as_dict(), "betas": list(old["betas"])})
