"""DeepFill v2's TensorFlow checkpoints read without TensorFlow (issue 30).

Oracle: tests/data/deepfill_tf/make_tf_checkpoint.py, run with TensorFlow 2.21 in a separate
venv, wrote a V2 bundle with DeepFill v2's variable names (cnum 8, with Adam slots), the digest of
every variable as TensorFlow reads it back, TF's outputs of two gated convolutions, and the
name-and-shape list of the released model."""

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from inpaint_data.cli.main import main as cli
from inpaint_data.errors import InputError
from inpaint_data.models.released import read_released
from inpaint_data.models.released.deepfill import from_tf_bundle
from inpaint_data.models.released.tf_bundle import read_bundle

DATA = Path(__file__).parents[1] / "data" / "deepfill_tf"
SNAPSHOT = DATA / "small" / "snap-7"


def test_bundle_reads_back_exactly_what_tensorflow_reads():
    tensors = read_bundle(f"{SNAPSHOT}.index")
    expected = json.loads((DATA / "small_values.json").read_text())
    assert set(tensors) == set(expected) and len(tensors) == 298
    for name, (shape, dtype, digest) in expected.items():
        value = tensors[name]
        assert list(value.shape) == shape and str(value.dtype) == dtype, name
        assert hashlib.sha256(np.ascontiguousarray(value, value.dtype.newbyteorder("<")).tobytes()).hexdigest() \
            == digest, name


def test_every_variable_lands_generator_discriminator_and_adam():
    imported = read_released(f"{SNAPSHOT}.index")
    assert imported.model_config == {"model": "deepfillv2", "cnum": 8, "sketch": False, "tf_padding": True}
    assert imported.parts() == ["generator", "discriminator", "generator optimiser", "discriminator optimiser"]
    assert imported.settings == {"dcnum": 8}
    assert imported.source["step"] == 7 and imported.source["adam_steps"] == 3  # snap-7, three Adam steps
    tensors = read_bundle(SNAPSHOT)
    kernel = tensors["inpaint_net/conv13_upsample/conv13_upsample_conv/kernel"]
    assert torch.equal(imported.generator["coarse.layers.12.conv.conv.weight"],
                       torch.from_numpy(kernel).permute(3, 2, 0, 1))
    adam = imported.optimizers["discriminator"]["state"][1]  # conv1's kernel: after its bias
    assert torch.equal(adam["exp_avg_sq"],
                       torch.from_numpy(tensors["discriminator/sn_patch_gan/conv1/kernel/Adam_1"]).permute(3, 2, 0, 1))


def test_gated_convolutions_equal_tensorflows_on_the_file_weights():
    from inpaint_data.models import deepfill

    imported = read_released(SNAPSHOT)
    generator = deepfill.Generator(cnum=8, tf_padding=True)
    generator.load_state_dict(imported.generator)
    layers = np.load(DATA / "small_layers.npz")
    x = torch.from_numpy(layers["input"]).permute(0, 3, 1, 2)
    with torch.no_grad():
        conv1 = generator.coarse.layers[0](x)
        conv2 = generator.coarse.layers[1](conv1)
    for ours, name in ((conv1, "conv1"), (conv2, "conv2_downsample")):  # the second is stride 2: TF's uneven SAME
        np.testing.assert_allclose(ours.permute(0, 2, 3, 1).numpy(), layers[name], atol=1e-5)
    generator = deepfill.Generator(cnum=8)  # our own (k - 1) / 2 padding samples another grid when strided
    generator.load_state_dict(imported.generator)
    with torch.no_grad():
        shifted = generator.coarse.layers[1](generator.coarse.layers[0](x))
    assert np.abs(shifted.permute(0, 2, 3, 1).numpy() - layers["conv2_downsample"]).max() > 0.1


def _released(sketch: bool = False) -> dict[str, np.ndarray]:
    shapes = [(name, list(shape)) for name, shape in json.loads((DATA / "released_names.json").read_text())]
    tensors = {name: np.zeros(shape, np.float32) for name, shape in shapes}
    if sketch:
        tensors["inpaint_net/conv1/kernel"] = np.zeros((5, 5, 6, 48), np.float32)
        tensors["discriminator/sn_patch_gan/conv1/kernel"] = np.zeros((5, 5, 5, 64), np.float32)
    return tensors


def test_the_released_models_names_and_shapes_all_map():
    imported = from_tf_bundle(_released(), "snap-0")
    assert imported.model_config == {"model": "deepfillv2", "cnum": 48, "sketch": False, "tf_padding": True}
    assert sum(t.numel() for k, t in imported.generator.items()) == 4_052_478
    d_parameters = sum(t.numel() for k, t in imported.discriminator.items() if not k.endswith(("_u", "_v")))
    assert d_parameters == 5_946_816 and imported.optimizers == {}
    with_sketch = from_tf_bundle(_released(sketch=True), "snap-0")
    assert with_sketch.model_config["sketch"] is True
    assert sum(t.numel() for t in with_sketch.generator.values()) == 4_053_678


def test_a_variable_missing_or_left_over_is_one_line_naming_it():
    tensors = _released()
    del tensors["inpaint_net/conv5/bias"]
    with pytest.raises(InputError, match="the generator lacks 1 variables: inpaint_net/conv5/bias"):
        from_tf_bundle(tensors, "snap-0")
    tensors = _released()
    tensors["inpaint_net/conv99/kernel"] = np.zeros((3, 3, 1, 1), np.float32)
    with pytest.raises(InputError, match="'inpaint_net/conv99/kernel' has no place in our DeepFill v2"):
        from_tf_bundle(tensors, "snap-0")
    tensors = _released()
    tensors["inpaint_net/conv3/kernel"] = np.zeros((3, 3, 48, 7), np.float32)
    with pytest.raises(InputError, match="'coarse.layers.2.conv.weight' is"):
        from_tf_bundle(tensors, "snap-0")


def test_damaged_bytes_fail_their_crc_and_a_missing_shard_is_named(tmp_path):
    for suffix in (".index", ".data-00000-of-00001"):
        shutil.copy(f"{SNAPSHOT}{suffix}", tmp_path / f"snap-7{suffix}")
    data = tmp_path / "snap-7.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[1000] ^= 0xFF
    data.write_bytes(bytes(raw))
    with pytest.raises(InputError, match="fail their crc32c"):
        read_bundle(tmp_path / "snap-7")
    data.unlink()
    with pytest.raises(InputError, match="snap-7.data-00000-of-00001, which is missing"):
        read_bundle(tmp_path / "snap-7.index")


def test_import_then_fill(tmp_path):
    from inpaint_data.inference import ModelFiller

    out = tmp_path / "deepfill.pt"
    result = CliRunner().invoke(cli, ["import", f"{SNAPSHOT}.index", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "deepfillv2-tensorflow snap-7 (step 7)" in result.output
    image = np.random.default_rng(0).integers(0, 256, (40, 48, 3), dtype=np.uint8)
    hole = np.zeros((40, 48), bool)
    hole[8:24, 10:30] = True
    filled = ModelFiller(out).fill(image, hole)
    assert filled.shape == image.shape and np.array_equal(filled[~hole], image[~hole])


@pytest.mark.parametrize("length", [0, 9, 100_000, 4096 * 64, 4096 * 64 + 5, 1_234_567])
def test_vectorised_crc32c_equals_the_byte_loop(length):
    from inpaint_data.models.released.tf_bundle import _crc_register, crc32c_value

    data = b"123456789" if length == 9 else np.random.default_rng(length).integers(0, 256, length, np.uint8).tobytes()
    assert crc32c_value(data) == _crc_register(0xFFFFFFFF, data) ^ 0xFFFFFFFF
    if length == 9:
        assert crc32c_value(data) == 0xE3069283  # the CRC-32C check value
