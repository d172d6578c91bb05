"""Round 2, item 9: sizes, numbers, config files, weights and TorchScript models that cannot be
used end with one `Error:` line, and nothing is written."""

import cv2
import numpy as np
import pytest
import torch
from safety_helpers import assert_one_line_error, invoke, sharded_images

from inpaint_data.inference import TRUST_FLAG


@pytest.fixture
def shards(tmp_path):
    return sharded_images(tmp_path, 20)


def test_sizes_above_the_limit_are_refused_before_anything_is_written(shards, tmp_path):
    assert_one_line_error(invoke("shard", shards / "images", "--size", "99999999", "--out", tmp_path / "s"), "16384")
    assert not (tmp_path / "s").exists()
    assert_one_line_error(invoke("train", "deepfillv2", "--data", shards / "shards", "--steps", "1", "--size",
                                 "1048576", "--workers", "0", "--out", tmp_path / "r"), "16384")
    assert_one_line_error(invoke("preview", shards / "shards", "--size", "99999", "--out", tmp_path / "p.png"), "16384")
    assert not (tmp_path / "r").exists() and not (tmp_path / "p.png").exists()
    from inpaint_data.pipelines.jobs.shard import ShardSpec, run_shard_images

    with pytest.raises(ValueError, match="16384"):
        run_shard_images(tmp_path / "s2", [str(shards / "images")], ShardSpec(size=10**8))
    assert not (tmp_path / "s2").exists()


@pytest.mark.parametrize("config, needle", [(b"lr: \xff\xfe\n", "not UTF-8"), (b"workers: -2\n", "workers"),
                                            (b"lr: .inf\n", "finite"), (b"betas: [0.5, .nan]\n", "betas"),
                                            (b"size: 99999\n", "16384")])
def test_train_settings_that_cannot_be_used(shards, tmp_path, config, needle):
    (tmp_path / "c.yaml").write_bytes(config)
    result = invoke("train", "deepfillv2", "--data", shards / "shards", "--steps", "1",
                    "--config", tmp_path / "c.yaml", "--out", tmp_path / "r")
    assert_one_line_error(result, needle)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("flag, value", [("--lr", "inf"), ("--lr", "nan"), ("--gan-weight", "inf"),
                                         ("--ema", "nan"), ("--d-lr", "-inf")])
def test_train_numbers_must_be_finite(shards, tmp_path, flag, value):
    result = invoke("train", "deepfillv2", "--data", shards / "shards", "--steps", "1", "--workers", "0", flag, value,
                    "--out", tmp_path / "r")
    assert_one_line_error(result)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("sigma", ["nan", "inf", "-1"])
def test_canny_sigma_must_be_a_positive_number(shards, tmp_path, sigma):
    result = invoke("edges", "--canny", shards / "images", "--canny-sigma", sigma, "--out", tmp_path / "e")
    assert_one_line_error(result, "sigma")
    assert not (tmp_path / "e").exists()


def test_a_text_file_as_weights_is_not_a_weights_file(shards, tmp_path):
    for name in ("w.pt", "w.weights.h5"):
        (tmp_path / name).write_text("these are my notes, not weights\n")
        result = invoke("edges", "--hed", shards / "images", "--weights", tmp_path / name, "--out", tmp_path / "e")
        assert_one_line_error(result, "not a weights file")
        assert "could run code" not in result.output


class Allocates(torch.nn.Module):
    def forward(self, image, mask):
        return image + torch.zeros([35184372088832], dtype=torch.uint8)[:1].float()  # 2^45 bytes


class WrongShape(torch.nn.Module):
    def forward(self, image, mask):
        return image[:, :1]


@pytest.mark.parametrize("model, needle", [(Allocates, "failed"), (WrongShape, "expected the same shape")])
def test_a_torchscript_model_that_fails_at_run_time_is_one_line(shards, tmp_path, model, needle):
    path = tmp_path / "m.ts"
    torch.jit.script(model()).save(str(path))
    mask = np.zeros((40, 40), np.uint8)
    mask[5:20, 5:20] = 255
    cv2.imwrite(str(tmp_path / "hole.png"), mask)
    result = invoke("inpaint", shards / "images", "--mask", tmp_path / "hole.png", "--model", f"torchscript:{path}",
                    TRUST_FLAG, "--out", tmp_path / "f")
    assert_one_line_error(result, "TorchScript model", needle)
    (tmp_path / "masks").mkdir()
    cv2.imwrite(str(tmp_path / "masks" / "hole.png"), mask)
    result = invoke("eval", "--images", shards / "images", "--masks", tmp_path / "masks",
                    "--model", f"torchscript:{path}", TRUST_FLAG, "--out", tmp_path / "ev")
    assert_one_line_error(result, "TorchScript model", needle)
    assert not (tmp_path / "ev").exists()
