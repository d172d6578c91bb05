"""Exported models (`inpaint-data export`): the generator's weights and the config that rebuilds
it, loaded as plain data (models/files.py) for inference anywhere."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from ..errors import InputError
from .files import load_pt
from .registry import get_model

#: The `format` entry of an exported model file.
EXPORT_FORMAT = "inpaint-data-model"
#: Extra file of a TorchScript model exported by us (`export --torchscript`): {"multiple", "model_config", "step"}.
TORCHSCRIPT_INFO = "inpaint_data.json"


def is_exported_file(path: str | Path) -> bool:
    """Whether `path` is a model `export` wrote: a TorchScript archive holding our extra file
    (looked up in the zip, nothing loaded), or a plain-data file of our export format."""
    import zipfile

    from .. import storage

    try:
        with storage.open_input(path) as f, zipfile.ZipFile(f) as archive:
            if any(name.endswith(f"/extra/{TORCHSCRIPT_INFO}") for name in archive.namelist()):
                return True
        exported = load_pt(path, "model")
    except (OSError, ValueError, RuntimeError, zipfile.BadZipFile):
        return False
    return isinstance(exported, dict) and exported.get("format") == EXPORT_FORMAT


def load_exported(path: str | Path, device: str = "cpu") -> tuple[nn.Module, dict, int | None]:
    """An exported model in eval mode, its config, and the image size it was trained at (None
    when the file does not say: files exported before it was recorded)."""
    exported = load_pt(path, "model")
    if not isinstance(exported, dict) or exported.get("format") != EXPORT_FORMAT:
        raise InputError(f"{path} is not a model exported by `inpaint-data export`")
    config = exported.get("model_config")
    try:
        model = get_model(config["model"], **config)
    except (TypeError, KeyError, ValueError) as e:
        raise InputError(f"{path}: its model config {config!r} does not describe a model ({e})") from None
    model.load_state_dict(exported["state_dict"])
    train_size = exported.get("train_size")
    return model.to(torch.device(device)).eval(), config, train_size if isinstance(train_size, int) else None


def load_model(path: str | Path, device: str = "cpu") -> tuple[nn.Module, dict]:
    """An exported model in eval mode, and its config."""
    model, config, _ = load_exported(path, device)
    return model, config


class LamaConvention(nn.Module):
    """A generator behind LaMa's `to_jit.py` interface: forward(image in [0, 1], mask with 1 = hole)
    -> the composite in [0, 1] (the model's pixels in the hole, the image's elsewhere). Any size:
    it pads to the model's multiple as our inference does (models.padding) and crops back. Any
    mask dtype and layout: IOPaint passes its mask as int64 (`(mask > 0) * 1`) and its image
    channels-last; a mask value > 0 is a hole."""

    def __init__(self, model: nn.Module, config: dict):
        super().__init__()
        from .registry import model_entry

        entry = model_entry(config["model"])
        self.model = model
        self.predict = entry.predict
        self.multiple = entry.multiple(config)
        self.padding = entry.padding
        self.sketch = bool(config.get("sketch"))

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        from .padding import crop_to, pad_to_multiple

        image = image.contiguous().float()
        mask = (mask.contiguous() > 0).float()
        x, m = pad_to_multiple(image * 2 - 1, mask, self.multiple, self.padding)
        sketch = torch.zeros_like(m) if self.sketch else None
        out = crop_to(self.predict(self.model, x, m, sketch).clamp(-1, 1), image)
        hole = crop_to(m, image)  # not `mask`: unpadded, the tracer takes `m` and `mask` for one value
        return hole * (out + 1) / 2 + (1 - hole) * image


def _wrapped_example(model: nn.Module, config: dict, size: int) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """The model in LaMa's convention (CPU, eval mode) and one size x size example to trace it on."""
    wrapped = LamaConvention(model.cpu().eval(), config).eval()
    image = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(1, 1, size, size)
    mask[..., size // 4: size // 2, size // 4: 3 * size // 4] = 1
    return wrapped, image, mask


def trace_model(model: nn.Module, config: dict, size: int) -> torch.jit.ScriptModule:
    """The model in LaMa's convention, traced on one size x size example (CPU, eval mode)."""
    wrapped, image, mask = _wrapped_example(model, config, size)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on Python ints; outputs checked at other sizes in the tests
        return torch.jit.trace(wrapped, (image, mask), check_trace=False)


#: Metadata key of an ONNX model exported by us (`export --onnx`): JSON {"model_config", "size", ...}.
ONNX_INFO = "inpaint_data"


def export_onnx(model: nn.Module, config: dict, size: int, path: str | Path, info: dict) -> None:
    """The model in LaMa's convention (LamaConvention) as an ONNX file for 1 x 3 x size x size
    images and 1 x 1 x size x size float masks (torch.onnx's dynamo exporter, opset 18, which
    needs the onnx and onnxscript packages); `info` is stored as the model's metadata."""
    import json
    import logging

    import onnx

    wrapped, image, mask = _wrapped_example(model, config, size)
    quiet = logging.getLogger("torch.onnx")
    level, quiet.level = quiet.level, logging.ERROR
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(wrapped, (image, mask), dynamo=True, opset_version=18,
                                        input_names=["image", "mask"], output_names=["composite"], verbose=False)
    finally:
        quiet.level = level
    proto = program.model_proto
    entry = proto.metadata_props.add()
    entry.key, entry.value = ONNX_INFO, json.dumps(info)
    onnx.save(proto, str(path))


def is_our_onnx(path: str | Path) -> bool:
    """Whether `path` is an ONNX model `export --onnx` wrote (its metadata names us)."""
    try:
        import onnx

        return any(p.key == ONNX_INFO for p in onnx.load(str(path), load_external_data=False).metadata_props)
    except Exception:  # not ONNX, or onnx not installed: not ours
        return False
