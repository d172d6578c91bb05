"""A model is one module and one registry entry: its own settings are declared there, checked by
the trainer's config, offered as options by `train MODEL` and nowhere else."""

from dataclasses import replace

import pytest
from click.testing import CliRunner

from inpaint_data.cli.main import main
from inpaint_data.errors import InputError
from inpaint_data.models import registry
from inpaint_data.models.settings import Setting
from inpaint_data.pipelines.training.config import TrainConfig, read_config_file, train_config


def _help(*args):
    result = CliRunner().invoke(main, ["train", *args, "--help"])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())  # unwrapped


def test_each_model_shows_its_own_options_and_not_the_others():
    pconv, deepfill = _help("pconv"), _help("deepfillv2")
    for option in ("--width", "--layers", "--finetune", "--vgg-weights"):
        assert option in pconv and option not in deepfill
    for option in ("--cnum", "--dcnum", "--sketch", "--gan-weight", "--r1-weight", "--d-lr"):
        assert option in deepfill and option not in pconv
    for option in ("--data", "--steps", "--lr", "--precision", "--config"):
        assert option in pconv and option in deepfill
    assert "Generator width. [48]" in deepfill and "[released 1.0, stable 0.1]" in deepfill
    assert "Training size [256]" in deepfill and "Training size [512]" in pconv and "with --finetune [5e-05]" in pconv


def test_another_models_setting_is_refused_naming_its_owner(tmp_path):
    (tmp_path / "c.yaml").write_text("cnum: 8\n")
    with pytest.raises(InputError, match="setting cnum: deepfillv2's, not pconv's"):
        train_config("pconv", str(tmp_path / "c.yaml"), data="d", out="o", steps=1)
    with pytest.raises(InputError, match="setting colour: no such setting"):
        TrainConfig.of(model="pconv", data="d", out="o", steps=1, colour=1).resolved()
    with pytest.raises(InputError, match="setting cnum: must be at least 1, got 0"):
        TrainConfig.of(model="deepfillv2", data="d", out="o", steps=1, cnum=0).resolved()
    with pytest.raises(InputError, match="setting d_lr: must be above 0"):
        TrainConfig.of(model="deepfillv2", data="d", out="o", steps=1, d_lr=0.0).resolved()


def test_a_config_file_and_the_command_line_merge_flat_and_round_trip(tmp_path):
    (tmp_path / "c.json").write_text('{"cnum": 8, "log-every": 3, "betas": "0.1,0.2"}')
    assert read_config_file(str(tmp_path / "c.json"))["log_every"] == 3
    cfg = train_config("deepfillv2", str(tmp_path / "c.json"), data="d", out="o", steps=1, cnum=16, sketch=None)
    assert cfg.settings["cnum"] == 16 and cfg.log_every == 3 and cfg.betas == (0.1, 0.2)
    assert cfg.settings["dcnum"] == 64 and cfg.settings["sketch"] is False
    assert TrainConfig.of(**cfg.as_dict()).resolved() == cfg


def test_a_new_model_needs_only_its_module_and_entry(monkeypatch):
    toy = replace(registry.MODELS["pconv"], about="Toy: a model added by one entry.",
                  settings=(Setting("depth", int, "How deep.", default=2, minimum=1),))
    monkeypatch.setitem(registry.MODELS, "toy", toy)
    assert "--depth INTEGER How deep. [2]" in _help("toy") and "--width" not in _help("toy")
    cfg = TrainConfig.of(model="toy", data="d", out="o", steps=1, depth=5).resolved()
    assert cfg.settings["depth"] == 5 and cfg.lr == 2e-4
    with pytest.raises(InputError, match="setting depth: must be at least 1"):
        TrainConfig.of(model="toy", data="d", out="o", steps=1, depth=0).resolved()
