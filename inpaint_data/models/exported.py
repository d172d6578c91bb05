"""Exported models (`inpaint-data export`): the generator's weights and the config that rebuilds
it, loaded as plain data (models/files.py) for inference anywhere."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..errors import InputError
from .deepfill import Generator
from .files import load_pt
from .pconv import PConvUNet

#: The `format` entry of an exported model file.
EXPORT_FORMAT = "inpaint-data-model"


def build_generator(model_config: dict) -> nn.Module:
    """The generator a model config describes: {"model": "pconv", "layers", "width"} or
    {"model": "deepfillv2", "cnum", "sketch"}."""
    if model_config["model"] == "pconv":
        return PConvUNet(layers=model_config["layers"], width=model_config["width"])
    return Generator(cnum=model_config["cnum"], sketch=model_config["sketch"])


def load_model(path: str | Path, device: str = "cpu") -> tuple[nn.Module, dict]:
    """An exported model in eval mode, and its config."""
    exported = load_pt(path, "model")
    if not isinstance(exported, dict) or exported.get("format") != EXPORT_FORMAT:
        raise InputError(f"{path} is not a model exported by `inpaint-data export`")
    model = build_generator(exported["model_config"])
    model.load_state_dict(exported["state_dict"])
    return model.to(torch.device(device)).eval(), exported["model_config"]
