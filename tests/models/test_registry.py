"""The model registry: the one place the trainer, the CLI and inference learn about a model."""

import pytest
import torch

from inpaint_data.models.registry import MODELS, build_trainee, get_model, model_config, model_entry, predict
from inpaint_data.pipelines.training.config import TrainConfig, default_help

SMALL = {"pconv": dict(width=8, random_vgg=True), "deepfillv2": dict(cnum=8, dcnum=8),
         "lama": dict(blocks=1, ngf=8, ndf=8, random_perceptual=True)}
#: What a model needs to resolve with its defaults alone (LaMa: its perceptual loss's weights).
NEEDS = {"lama": dict(random_perceptual=True)}


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_builds_steps_and_predicts_through_its_entry(name):
    cfg = TrainConfig.of(model=name, data="d", out="o", size=64, batch_size=2, steps=1, **SMALL[name]).resolved()
    config = cfg.as_dict()
    assert set(model_config(config)) == {"model", *MODELS[name].config_keys}
    trainee = build_trainee(config, torch.device("cpu"))
    image = torch.rand(2, 3, 64, 64) * 2 - 1
    mask = torch.zeros(2, 1, 64, 64)
    mask[:, :, 16:40, 16:40] = 1
    batch = {"image": image, "mask": mask}
    metrics = MODELS[name].train_step(trainee, batch, torch.device("cpu"))
    assert torch.isfinite(torch.tensor(metrics["loss"])) and trainee.skipped == 0
    assert predict(trainee, batch).shape == image.shape
    rebuilt = get_model(name, **model_config(config))
    rebuilt.load_state_dict(trainee.generator.state_dict())
    assert 64 % MODELS[name].multiple(model_config(config)) == 0


def test_defaults_come_from_the_registry_once():
    for name, entry in MODELS.items():
        cfg = TrainConfig.of(model=name, data="d", out="o", steps=1, **NEEDS.get(name, {})).resolved()
        for setting, value in entry.defaults.items():
            if setting != "finetune_lr":
                assert cfg.as_dict()[setting] == value, (name, setting)
    assert default_help("size") == "[pconv 512, deepfillv2 256, lama 256]"
    assert TrainConfig.of(model="pconv", data="d", out="o", steps=1, finetune=True).resolved().lr == 5e-5
    assert TrainConfig.of(model="pconv", data="d", out="o", steps=1, size=256).resolved().settings["layers"] == 7


def test_unknown_model_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="unknown model 'mat'.*pconv.*lama"):
        model_entry("mat")


def test_deepfill_gan_warmup_trains_the_generator_alone_then_both():
    cfg = TrainConfig.of(model="deepfillv2", data="d", out="o", size=64, batch_size=2, steps=1, cnum=8, dcnum=8,
                      gan_warmup=2).resolved()
    trainee = build_trainee(cfg.as_dict(), torch.device("cpu"))
    d_before = [p.detach().clone() for p in trainee.discriminator.parameters()]
    g_before = [p.detach().clone() for p in trainee.generator.parameters()]
    batch = {"image": torch.rand(2, 3, 64, 64) * 2 - 1, "mask": (torch.rand(2, 1, 64, 64) > 0.6).float()}
    for _ in range(2):
        metrics = MODELS["deepfillv2"].train_step(trainee, batch, torch.device("cpu"))
        assert "d_loss" not in metrics and metrics["loss"] == pytest.approx(metrics["l1_coarse"] + metrics["l1_fine"])
    assert all(torch.equal(a, b) for a, b in zip(d_before, trainee.discriminator.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(g_before, trainee.generator.parameters()))
    metrics = MODELS["deepfillv2"].train_step(trainee, batch, torch.device("cpu"))
    assert "d_loss" in metrics and trainee.steps == 3
    assert not all(torch.equal(a, b) for a, b in zip(d_before, trainee.discriminator.parameters()))
    assert trainee.state()["steps"] == 3
