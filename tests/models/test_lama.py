"""LaMa (models/lama.py, models/hrf.py): the released presets' parameter counts, LaMa's own outputs
(tests/data/lama/make_reference.py and make_hrf_reference.py ran LaMa's classes), key for key, and
its training step."""

from pathlib import Path

import numpy as np
import pytest
import torch

from inpaint_data.errors import InputError
from inpaint_data.models.files import load_pt, save_pt
from inpaint_data.models.hrf import HRFEncoder, load_hrf_encoder
from inpaint_data.models.lama import PRESETS, LamaGenerator, NLayerDiscriminator
from inpaint_data.models.registry import build_trainee, model_entry
from inpaint_data.pipelines.training.config import TrainConfig

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "lama" / "reference.pt"


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("preset, count", [("big-lama", 50_975_875), ("lama-fourier", 27_048_835)])
def test_the_released_generators_have_lamas_parameter_counts(preset, count):
    assert _count(LamaGenerator(**PRESETS[preset])) == count


def test_the_discriminator_has_lamas_parameter_count():
    assert _count(NLayerDiscriminator()) == 6_962_369


@pytest.fixture(scope="module")
def reference():
    return load_pt(REFERENCE, "LaMa reference")


def test_lamas_state_dicts_load_key_for_key(reference):
    generator = LamaGenerator(**reference["generator_config"])
    assert set(generator.state_dict()) == set(reference["generator"])
    generator.load_state_dict(reference["generator"], strict=True)
    discriminator = NLayerDiscriminator(**reference["discriminator_config"])
    discriminator.load_state_dict(reference["discriminator"], strict=True)


def test_outputs_equal_lamas_own_code_on_square_and_non_square_inputs(reference):
    generator = LamaGenerator(**reference["generator_config"]).eval()
    generator.load_state_dict(reference["generator"])
    discriminator = NLayerDiscriminator(**reference["discriminator_config"]).eval()
    discriminator.load_state_dict(reference["discriminator"])
    assert {tuple(c["input"].shape[-2:]) for c in reference["cases"]} == {(32, 32), (40, 64)}
    with torch.no_grad():
        for case in reference["cases"]:
            fake = generator(case["input"])
            assert torch.allclose(fake, case["output"], atol=1e-5), (fake - case["output"]).abs().max()
            logits, features = discriminator(case["output"])
            assert torch.allclose(logits, case["logits"], atol=1e-5)
            assert len(features) == len(case["features"]) == 5
            for ours, theirs in zip(features, case["features"]):
                assert torch.allclose(ours, theirs, atol=1e-5)


def test_a_wrongly_wired_branch_is_seen(reference):
    """The oracle can fail: the global-to-local path dropped from one block changes the output."""
    generator = LamaGenerator(**reference["generator_config"]).eval()
    generator.load_state_dict(reference["generator"])
    generator.model[5].conv1.ffc.convg2l = None
    with torch.no_grad():
        case = reference["cases"][0]
        assert not torch.allclose(generator(case["input"]), case["output"], atol=1e-5)


def test_the_hrf_encoder_equals_lamas_resnet50_dilated():
    """LaMa's ResNetPL encoder (make_hrf_reference.py): the same seeded weights, drawn in LaMa's
    state_dict order, give the same four feature maps."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_hrf_reference", REFERENCE.with_name("make_hrf_reference.py"))
    reference = load_pt(REFERENCE.with_name("hrf_reference.pt"), "HRF reference")
    encoder = HRFEncoder()
    assert list(encoder.state_dict()) == reference["keys"]
    randomise = _randomiser(spec)
    randomise(encoder.state_dict(), seed=0)
    with torch.no_grad():
        features = encoder(reference["image"])
    assert [f.shape[1] for f in features] == [256, 512, 1024, 2048]
    for ours, theirs in zip(features, reference["features"]):
        assert ours.shape == theirs.shape and torch.allclose(ours, theirs, atol=1e-5)


def _randomiser(spec):
    """make_hrf_reference.randomise without importing LaMa (its module imports LaMa's only in main)."""
    source = Path(spec.origin).read_text()
    start = source.index("def randomise")
    namespace = {"torch": torch}
    exec(compile(source[start:source.index("def main")], spec.origin, "exec"), namespace)
    return namespace["randomise"]


def test_hrf_weights_of_another_network_are_refused(tmp_path):
    path = tmp_path / "encoder_epoch_20.pth"
    save_pt({"conv1.weight": torch.zeros(64, 3, 3, 3)}, path)
    with pytest.raises(ValueError, match="not the ADE20k ResNet50-dilated encoder"):
        load_hrf_encoder(path)
    with pytest.raises(FileNotFoundError, match="encoder_epoch_20.pth"):
        load_hrf_encoder(tmp_path / "none.pth")


def test_training_without_the_hrf_file_is_refused_in_one_line_naming_both_ways():
    with pytest.raises(ValueError, match="--hrf-weights.*--perceptual vgg"):
        TrainConfig.of(model="lama", data="d", out="o", steps=1).resolved()
    cfg = TrainConfig.of(model="lama", data="d", out="o", steps=1, perceptual="vgg").resolved()
    assert cfg.lr == 1e-3 and cfg.mask_style == "lama-train" and cfg.batch_size == 10
    assert {k: cfg.settings[k] for k in ("d_lr", "l1_weight", "adv_weight", "gp_coef", "fm_weight",
                                         "perceptual_weight", "clip", "blocks", "ngf")} == {
        "d_lr": 1e-4, "l1_weight": 10.0, "adv_weight": 10.0, "gp_coef": 0.001, "fm_weight": 100.0,
        "perceptual_weight": 30.0, "clip": 1.0, "blocks": 18, "ngf": 64}
    with pytest.raises(InputError, match="setting perceptual: expected one of hrf, vgg"):
        TrainConfig.of(model="lama", data="d", out="o", steps=1, perceptual="lpips").resolved()


def test_a_step_trains_both_networks_and_keeps_gradients_clipped():
    cfg = TrainConfig.of(model="lama", data="d", out="o", size=32, batch_size=2, steps=1, blocks=1, ngf=8, ndf=8,
                         random_perceptual=True, clip=0.5).resolved()
    trainee = build_trainee(cfg.as_dict(), torch.device("cpu"))
    g_before = [p.detach().clone() for p in trainee.generator.parameters()]
    d_before = [p.detach().clone() for p in trainee.discriminator.parameters()]
    image = torch.rand(2, 3, 32, 32) * 2 - 1
    mask = torch.zeros(2, 1, 32, 32)
    mask[:, :, 8:24, 8:24] = 1
    metrics = model_entry("lama").train_step(trainee, {"image": image, "mask": mask}, torch.device("cpu"))
    assert {"l1_known", "adversarial", "feature_matching", "perceptual", "d_loss", "r1"} <= set(metrics)
    assert all(np.isfinite(v) for v in metrics.values())
    assert any(not torch.equal(a, b) for a, b in zip(g_before, trainee.generator.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d_before, trainee.discriminator.parameters()))
    for network in (trainee.generator, trainee.discriminator):  # the gradients each step was taken with
        norm = torch.cat([p.grad.flatten() for p in network.parameters() if p.grad is not None]).norm()
        assert 0 < norm <= 0.5 + 1e-5
    prediction = model_entry("lama").predict(trainee.generator, image, mask, None)
    assert prediction.shape == image.shape and prediction.min() >= -1 and prediction.max() <= 1
