"""Released checkpoints read into our models (issue 30): LaMa's Lightning files.

The oracle (tests/data/lama/make_checkpoint_reference.py, run in a venv with LaMa's code,
Lightning and OmegaConf) wrote lama_small.ckpt with Lightning itself and stored LaMa's own
fills from it (bin/predict.py's padding, composite and rounding)."""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from inpaint_data.cli.main import main as cli
from inpaint_data.errors import InputError
from inpaint_data.inference import ModelFiller
from inpaint_data.models import lama
from inpaint_data.models.padding import symmetric
from inpaint_data.models.released import imported_file, read_released
from inpaint_data.models.released.lama import from_lightning
from inpaint_data.models.released.lightning import read_checkpoint, resolve

DATA = Path(__file__).parents[1] / "data" / "lama"
CKPT = DATA / "lama_small.ckpt"


@pytest.fixture(scope="module")
def reference():
    return torch.load(DATA / "checkpoint_reference.pt", weights_only=True)


def test_lightning_checkpoint_reads_as_plain_data_with_its_config_resolved():
    checkpoint = read_checkpoint(CKPT)
    config = resolve(checkpoint["hyper_parameters"])
    generator = config["generator"]
    assert (generator["kind"], generator["n_blocks"], generator["ngf"]) == ("ffc_resnet", 2, 8)
    # ${generator.init_conv_kwargs.ratio_gout} and a chain of two references, with their types
    assert generator["downsample_conv_kwargs"]["ratio_gout"] == 0
    assert generator["resnet_conv_kwargs"]["ratio_gout"] == 0.75
    assert config["losses"]["resnet_pl"]["weights_path"] == "${env:TORCH_HOME}"  # a resolver stays text
    assert config["discriminator"] == {"kind": "pix2pixhd_nlayer", "input_nc": 3, "ndf": 8, "n_layers": 4}
    assert checkpoint["hparams_type"].endswith("DictConfig")  # a class reference becomes its name


def test_resolve_keeps_types_formats_text_and_refuses_loops():
    config = {"a": {"b": 3}, "c": "${a.b}", "d": "x${a.b}y", "e": "${nope.x}", "f": ["${c}"]}
    assert resolve(config) == {"a": {"b": 3}, "c": 3, "d": "x3y", "e": "${nope.x}", "f": [3]}
    with pytest.raises(ValueError, match="loop"):
        resolve({"a": "${b}", "b": "${a}"})


def test_lama_checkpoint_maps_onto_our_networks_whole(reference):
    imported = read_released(CKPT)
    assert imported.model_config == {"model": "lama", "blocks": 2, "ngf": 8}
    assert imported.settings == {"ndf": 8, "lr": 1e-3, "d_lr": 1e-4}
    assert imported.parts() == ["generator", "discriminator", "generator optimiser", "discriminator optimiser"]
    assert imported.source["step"] == reference["global_step"] == 2
    # optimiser states are by parameter position: our registration order is LaMa's
    generator, discriminator = lama.LamaGenerator(blocks=2, ngf=8), lama.NLayerDiscriminator(ndf=8)
    assert [n for n, _ in generator.named_parameters()] == reference["generator_parameters"]
    assert [n for n, _ in discriminator.named_parameters()] == reference["discriminator_parameters"]
    adam = imported.optimizers["generator"]
    assert len(adam["param_groups"][0]["params"]) == len(reference["generator_parameters"])
    assert set(adam["state"][0]) >= {"exp_avg", "exp_avg_sq", "step"}


def test_imported_lama_fills_as_lamas_own_predict_does(tmp_path, reference):
    out = tmp_path / "lama.pt"
    result = CliRunner().invoke(cli, ["import", str(CKPT), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "generator, discriminator, generator optimiser, discriminator optimiser" in result.output
    filler = ModelFiller(out)
    for case in reference["cases"]:  # 48 x 48, and 37 x 50 (padded to 40 x 56 as LaMa pads)
        image, hole, lamas = case["image"].numpy(), case["mask"].numpy() > 0, case["fill"].numpy()
        ours = filler.fill(image, hole)
        assert np.abs(ours.astype(int) - lamas.astype(int)).max() <= 1  # LaMa truncates, we round


def test_symmetric_padding_is_numpys():
    image = torch.arange(15.0).reshape(1, 1, 3, 5)
    for rows, cols in ((2, 3), (7, 11), (0, 1)):
        expected = np.pad(image.numpy(), ((0, 0), (0, 0), (0, rows), (0, cols)), mode="symmetric")
        assert np.array_equal(symmetric(image, rows, cols).numpy(), expected)


def test_a_file_missing_a_weight_or_with_an_extra_one_is_one_line_naming_it():
    checkpoint = read_checkpoint(CKPT)
    del checkpoint["state_dict"]["generator.model.1.bn_l.running_mean"]
    with pytest.raises(InputError, match=r"the generator lacks 1 weights we need: 'model.1.bn_l.running_mean'"):
        from_lightning(checkpoint, "x.ckpt")
    checkpoint = read_checkpoint(CKPT)
    checkpoint["state_dict"]["discriminator.model9.0.weight"] = torch.zeros(1)
    with pytest.raises(InputError, match=r"the discriminator has 1 weights our network does not: 'model9.0.weight'"):
        from_lightning(checkpoint, "x.ckpt")
    checkpoint = read_checkpoint(CKPT)
    checkpoint["state_dict"]["refiner.conv.weight"] = torch.zeros(1)
    with pytest.raises(InputError, match="'refiner.conv.weight' belongs to no part"):
        from_lightning(checkpoint, "x.ckpt")
    checkpoint = read_checkpoint(CKPT)
    checkpoint["state_dict"]["val_evaluator.scores.lpips.weight"] = torch.zeros(1)  # the module's metric networks
    assert from_lightning(checkpoint, "x.ckpt").model_config["blocks"] == 2


def test_another_lama_architecture_is_read_from_the_config_or_refused_by_name():
    checkpoint = read_checkpoint(CKPT)
    checkpoint["hyper_parameters"]["generator"]["resnet_conv_kwargs"]["enable_lfu"] = True
    with pytest.raises(InputError, match="generator.resnet_conv_kwargs.enable_lfu is True"):
        from_lightning(checkpoint, "x.ckpt")
    checkpoint = read_checkpoint(CKPT)
    checkpoint["hyper_parameters"]["generator"]["n_blocks"] = 3  # the weights are for 2
    with pytest.raises(InputError, match="lacks"):
        from_lightning(checkpoint, "x.ckpt")


@pytest.mark.parametrize("call", ["os.system", "subprocess.call"])
def test_a_pickled_call_in_a_checkpoint_never_runs(tmp_path, call):
    """os.system: torch's unpickler blocks its module outright; subprocess.call: bound to an
    inert record of ours, called with its arguments as data, then refused by name."""
    import subprocess

    marker = tmp_path / "pwned"
    function = {"os.system": os.system, "subprocess.call": subprocess.call}[call]

    class Evil:
        def __reduce__(self):
            return function, (f"touch {marker}",) if call == "os.system" else (["touch", str(marker)],)

    torch.save({"state_dict": {"generator.model.1.x": torch.zeros(1)}, "hyper_parameters": Evil()}, tmp_path / "e.ckpt")
    expected = {"os.system": "GLOBAL (posix|nt).system", "subprocess.call": "hyper_parameters holds a subprocess.call"}
    with pytest.raises(InputError, match=rf"e.ckpt refused: .*{expected[call]}"):
        read_released(tmp_path / "e.ckpt")
    assert not marker.exists()
    result = CliRunner().invoke(cli, ["import", str(tmp_path / "e.ckpt"), "--out", str(tmp_path / "m.pt")])
    assert result.exit_code == 1 and "refused" in result.output and not (tmp_path / "m.pt").exists()
    assert not marker.exists()


def test_imported_file_is_plain_data_and_not_a_torch_zip_is_refused(tmp_path):
    from inpaint_data.models.files import check_plain

    check_plain(imported_file(read_released(CKPT)))
    shutil.copy(DATA / "make_reference.py", tmp_path / "x.ckpt")
    with pytest.raises(InputError, match="not a PyTorch checkpoint"):
        read_released(tmp_path / "x.ckpt")


def test_lamas_torchscript_gives_its_weights_without_its_code_being_loaded(tmp_path):
    """lama_small_jit.pt is the oracle's generator traced by LaMa's to_jit.py wrapper (IOPaint's
    big-lama.pt form). Its code members are replaced by a program that cannot even compile: the
    weights still come out, equal to the Lightning file's, so the code was never read."""
    import zipfile

    broken = tmp_path / "big-lama.pt"
    with zipfile.ZipFile(DATA / "lama_small_jit.pt") as source, zipfile.ZipFile(broken, "w") as out:
        for name in source.namelist():
            code = "/code/" in name and name.endswith(".py")
            out.writestr(name, b"import os\nos.system('touch pwned')\n(((" if code else source.read(name))
    with pytest.raises(RuntimeError):
        torch.jit.load(str(broken))  # torch itself cannot load it
    traced, lightning = read_released(broken), read_released(CKPT)
    assert traced.model_config == lightning.model_config and traced.parts() == ["generator"]
    assert traced.source["format"] == "lama-torchscript" and traced.train_size == 256
    assert traced.generator.keys() == lightning.generator.keys()
    assert all(torch.equal(traced.generator[k], lightning.generator[k]) for k in lightning.generator)


def test_our_own_torchscript_export_imports_back(tmp_path):
    from inpaint_data.models.exported import load_model
    from inpaint_data.pipelines.training.checkpoints import export_torchscript, import_model

    model_file = tmp_path / "lama.pt"
    import_model(CKPT, model_file)
    export_torchscript(model_file, tmp_path / "lama.ts", trace_size=32)
    info = import_model(tmp_path / "lama.ts", tmp_path / "back.pt")
    assert info["source"]["format"] == "inpaint-data-torchscript" and info["parts"] == ["generator"]
    (original, _), (back, config) = load_model(model_file), load_model(tmp_path / "back.pt")
    assert config == {"model": "lama", "blocks": 2, "ngf": 8}
    assert all(torch.equal(a, b) for a, b in zip(original.state_dict().values(), back.state_dict().values()))


def test_the_hrf_encoder_a_lama_checkpoint_holds_serves_as_hrf_weights(tmp_path):
    """LaMa's training module holds its perceptual loss's ADE20k encoder (loss_resnet_pl.impl.*):
    `import` keeps it, and --hrf-weights takes the imported file."""
    from inpaint_data.models.files import save_pt
    from inpaint_data.models.hrf import HRFEncoder, load_hrf_encoder

    checkpoint = read_checkpoint(CKPT)
    encoder = {k: torch.randn(v.shape) if v.is_floating_point() else v for k, v in HRFEncoder().state_dict().items()}
    checkpoint["state_dict"].update({f"loss_resnet_pl.impl.{k}": v for k, v in encoder.items()})
    imported = from_lightning(checkpoint, "best.ckpt")
    assert imported.parts()[-1] == "hrf_encoder"
    save_pt(imported_file(imported), tmp_path / "big-lama.pt")
    loaded = load_hrf_encoder(tmp_path / "big-lama.pt").state_dict()
    assert all(torch.equal(loaded[k], encoder[k]) for k in encoder)
    del checkpoint["state_dict"]["loss_resnet_pl.impl.conv1.weight"]
    with pytest.raises(InputError, match="the HRF loss's encoder lacks 1 weights we need: 'conv1.weight'"):
        from_lightning(checkpoint, "best.ckpt")


def test_hrf_weights_are_checked_before_a_run_starts(tmp_path):
    """A model file without the encoder (or any wrong file) is refused by the config's check, in
    the driver, in one line, not by each Ray worker later with a traceback."""
    from inpaint_data.models.files import save_pt
    from inpaint_data.pipelines.training.config import TrainConfig

    save_pt(imported_file(read_released(CKPT)), tmp_path / "lama.pt")
    with pytest.raises(ValueError, match="lama.pt is a model file without the HRF loss's encoder"):
        TrainConfig.of(model="lama", data="d", out="o", steps=1, hrf_weights=str(tmp_path / "lama.pt")).resolved()
