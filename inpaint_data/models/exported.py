"""Exported models (`inpaint-data export`): the generator's weights and the config that rebuilds
it, loaded as plain data (models/files.py) for inference anywhere."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..errors import InputError
from .files import load_pt
from .registry import get_model

#: The `format` entry of an exported model file.
EXPORT_FORMAT = "inpaint-data-model"


def load_model(path: str | Path, device: str = "cpu") -> tuple[nn.Module, dict]:
    """An exported model in eval mode, and its config."""
    exported = load_pt(path, "model")
    if not isinstance(exported, dict) or exported.get("format") != EXPORT_FORMAT:
        raise InputError(f"{path} is not a model exported by `inpaint-data export`")
    config = exported.get("model_config")
    try:
        model = get_model(config["model"], **config)
    except (TypeError, KeyError, ValueError) as e:
        raise InputError(f"{path}: its model config {config!r} does not describe a model ({e})") from None
    model.load_state_dict(exported["state_dict"])
    return model.to(torch.device(device)).eval(), exported["model_config"]
