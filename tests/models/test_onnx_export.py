"""`export --onnx`: the three models in LaMa's convention as ONNX files, run by onnxruntime and
equal to the native model (float rounding only)."""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from inpaint_data.cli.main import main
from inpaint_data.models.exported import ONNX_INFO, LamaConvention, load_exported
from inpaint_data.pipelines.demo import SHIPPED_DEEPFILL
from tests.models.test_iopaint_convention import LAMA_CKPT, _export_of

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxscript")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from inpaint_data.pipelines.training.checkpoints import import_model

    root = tmp_path_factory.mktemp("onnx")
    import_model(LAMA_CKPT, root / "lama.pt")
    return {"deepfillv2": SHIPPED_DEEPFILL, "lama": root / "lama.pt",
            "pconv": _export_of("pconv", {"layers": 5, "width": 8}, root / "pconv.pt")}


@pytest.mark.parametrize("name", ["deepfillv2", "lama", "pconv"])
def test_onnxruntime_fills_as_the_native_model(models, name, tmp_path):
    out = tmp_path / f"{name}.onnx"
    result = CliRunner().invoke(main, ["export", str(models[name]), "--onnx", "--trace-size", "60", "--out", str(out)])
    assert result.exit_code == 0, result.output
    size = 64  # 60 rounded up to the models' step (8, 8, 32)
    assert f"ONNX, 1 x 3 x {size} x {size}" in result.output
    proto = onnx.load(str(out))
    info = json.loads({p.key: p.value for p in proto.metadata_props}[ONNX_INFO])
    assert info["size"] == size and info["model_config"]["model"] == name
    session = ort.InferenceSession(str(out))
    assert [i.shape for i in session.get_inputs()] == [[1, 3, size, size], [1, 1, size, size]]
    model, config, _ = load_exported(models[name])
    native = LamaConvention(model, config).eval()
    generator = torch.Generator().manual_seed(1)
    for _ in range(2):
        image = torch.rand(1, 3, size, size, generator=generator)
        mask = (torch.rand(1, 1, size, size, generator=generator) > 0.7).float()
        ours = session.run(None, {"image": image.numpy(), "mask": mask.numpy()})[0]
        with torch.no_grad():
            expected = native(image, mask).numpy()
        assert np.abs(ours - expected).max() < 1e-5
        assert np.array_equal(ours[0][:, mask[0, 0].numpy() == 0], image[0][:, mask[0, 0] == 0].numpy())


def test_onnx_export_keeps_a_users_file(models, tmp_path):
    precious = tmp_path / "mine.onnx"
    precious.write_bytes(b"not ours")
    result = CliRunner().invoke(main, ["export", str(models["pconv"]), "--onnx", "--trace-size", "32",
                                       "--out", str(precious)])
    assert result.exit_code != 0 and "not written by inpaint-data" in result.output
    assert precious.read_bytes() == b"not ours"
    result = CliRunner().invoke(main, ["export", str(models["pconv"]), "--onnx", "--torchscript", "--out", "x"])
    assert result.exit_code == 2 and "not both" in result.output
