"""Round 2, items 2 and 3: a TorchScript model is a program and runs only with the user's
consent; no filler (baseline, model, TorchScript) ever sees the pixels of the hole."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from safety_helpers import assert_one_line_error, invoke, write_rgb

from inpaint_data.errors import InputError
from inpaint_data.inference import TRUST_FLAG, baseline_fill, load_filler


class OverwritesAFile(torch.nn.Module):
    """A TorchScript model that, when called, writes over `victim` through a shared memory map."""

    def __init__(self, victim: str, size: int):
        super().__init__()
        self.victim = victim
        self.size = size

    def forward(self, image, mask):
        written = torch.from_file(self.victim, shared=True, size=self.size, dtype=torch.uint8).fill_(88)
        return image + 0 * written.float().sum()  # used, so the JIT keeps the write


class ReturnsItsInput(torch.nn.Module):
    """A TorchScript 'model' that returns the image it was given: PSNR 100 if it saw the truth."""

    def forward(self, image, mask):
        return image


@pytest.fixture
def photos(tmp_path):
    (tmp_path / "images").mkdir()
    for i in range(2):
        write_rgb(tmp_path / "images" / f"p{i}.png", 48, seed=i)
    (tmp_path / "masks").mkdir()
    mask = np.zeros((48, 48), np.uint8)
    mask[8:30, 10:40] = 255
    cv2.imwrite(str(tmp_path / "masks" / "m.png"), mask)
    return tmp_path


def test_a_torchscript_model_is_refused_without_consent_and_the_victim_file_is_unchanged(photos, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"the user's own words\n")
    evil = tmp_path / "evil.ts"
    torch.jit.script(OverwritesAFile(str(victim), 8)).save(str(evil))
    for command in (["eval", "--images", photos / "images", "--masks", photos / "masks", "--out", tmp_path / "ev"],
                    ["inpaint", photos / "images", "--mask", photos / "masks" / "m.png", "--out", tmp_path / "f"]):
        result = invoke(*command, "--model", f"torchscript:{evil}")
        assert_one_line_error(result, "TorchScript program", TRUST_FLAG)
        assert victim.read_bytes() == b"the user's own words\n"
    assert not (tmp_path / "ev").exists() and not (tmp_path / "f").exists()
    with pytest.raises(InputError, match=TRUST_FLAG):
        load_filler(f"torchscript:{evil}")
    # with consent it is the user's program, and it runs
    result = invoke("inpaint", photos / "images", "--mask", photos / "masks" / "m.png", "--out", tmp_path / "f",
                    "--model", f"torchscript:{evil}", TRUST_FLAG)
    assert result.exit_code == 0, result.output
    assert victim.read_bytes().startswith(b"X" * 8)


def test_help_names_the_consent_flag():
    for command in ("eval", "inpaint"):
        assert TRUST_FLAG in invoke(command, "--help").output


@pytest.mark.parametrize("method", ["telea", "navier-stokes", "mean-fill"])
def test_a_baseline_on_an_all_hole_mask_does_not_score_the_truth(photos, tmp_path, method):
    image = cv2.cvtColor(cv2.imread(str(photos / "images" / "p0.png")), cv2.COLOR_BGR2RGB)
    hole = np.ones(image.shape[:2], bool)
    filled = baseline_fill(image, hole, method)
    assert np.abs(filled.astype(int) - image).mean() > 20
    cv2.imwrite(str(tmp_path / "all.png"), np.full((48, 48), 255, np.uint8))
    (tmp_path / "all").mkdir()
    (tmp_path / "all.png").rename(tmp_path / "all" / "all.png")
    result = invoke("eval", "--images", photos / "images", "--masks", tmp_path / "all", "--baseline", method,
                    "--out", tmp_path / "ev")
    assert result.exit_code == 0, result.output
    assert "100.00" not in result.output


def test_a_model_that_returns_its_input_gets_zeros_in_the_hole(photos, tmp_path):
    path = tmp_path / "identity.ts"
    torch.jit.script(ReturnsItsInput()).save(str(path))
    filler = load_filler(f"torchscript:{path}", trust_code=True)
    image = cv2.cvtColor(cv2.imread(str(photos / "images" / "p0.png")), cv2.COLOR_BGR2RGB)
    hole = np.zeros((48, 48), bool)
    hole[8:30, 10:40] = True
    assert not filler.fill(image, hole)[hole].any()
    result = invoke("eval", "--images", photos / "images", "--masks", photos / "masks",
                    "--model", f"torchscript:{path}", TRUST_FLAG, "--out", tmp_path / "ev")
    assert result.exit_code == 0, result.output
    assert "100.00" not in result.output
    result = invoke("inpaint", photos / "images", "--mask", photos / "masks" / "m.png", "--model",
                    f"torchscript:{path}", TRUST_FLAG, "--out", tmp_path / "filled")
    assert result.exit_code == 0, result.output
    out = cv2.imread(str(tmp_path / "filled" / "p0.png"))
    assert not out[hole].any() and np.array_equal(out[~hole], cv2.imread(str(photos / "images" / "p0.png"))[~hole])


def test_our_exported_models_need_no_flag(tmp_path):
    shipped = Path(__file__).resolve().parents[2] / "inpaint_data" / "weights" / "deepfillv2_frames64.pt"
    filler = load_filler(str(shipped))
    image = np.random.default_rng(0).integers(0, 256, (40, 40, 3), np.uint8)
    hole = np.zeros((40, 40), bool)
    hole[10:20, 10:20] = True
    assert filler.fill(image, hole).shape == image.shape
