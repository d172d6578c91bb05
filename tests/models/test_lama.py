"""LaMa's networks (models/lama.py): the released presets' parameter counts and LaMa's own
outputs (tests/data/lama/make_reference.py ran LaMa's classes), key for key."""

from pathlib import Path

import pytest
import torch

from inpaint_data.models.files import load_pt
from inpaint_data.models.lama import PRESETS, LamaGenerator, NLayerDiscriminator

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
