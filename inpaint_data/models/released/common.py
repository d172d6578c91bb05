"""What every importer of released weights answers, and the exact-load rule they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ...errors import InputError


@dataclass
class ImportedModel:
    """A released checkpoint in our terms. `model_config` rebuilds the generator (as an exported
    model's); `discriminator` and `optimizers` (registry names -> torch optimiser state_dicts)
    are there when the file had them; `settings` are training settings the file fixes (the
    discriminator's width, its learning rates); `source` says what the file was; `train_size`
    (the image size it was trained at) guides `inpaint --hd`; `extra` holds the weights of other
    networks the file carried that a run can use (LaMa's HRF encoder: `hrf_encoder`)."""

    model_config: dict[str, Any]
    generator: dict[str, torch.Tensor]
    discriminator: dict[str, torch.Tensor] | None = None
    optimizers: dict[str, dict] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    train_size: int | None = None  # the image size it was trained at, where known
    extra: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)  # other networks' weights, by name

    def parts(self) -> list[str]:
        """The parts the file gave, in the order a run loads them."""
        return ["generator", *(["discriminator"] if self.discriminator is not None else []),
                *(f"{name} optimiser" for name in self.optimizers), *self.extra]


def listed(keys: list[str], most: int = 3, quoted: bool = True) -> str:
    """The first `most` keys (quoted: state_dict keys; bare: TF variable paths) and how many more."""
    shown = ", ".join(repr(k) if quoted else k for k in keys[:most])
    return shown + (f" and {len(keys) - most} more" if len(keys) > most else "")


def load_exactly(model: nn.Module, state: dict[str, torch.Tensor], where: str) -> dict[str, torch.Tensor]:
    """`state` loaded into `model` with every key present, none extra and every shape equal (a
    one-line InputError naming what is not), returned as the model's own state_dict: a file we
    cannot read whole never becomes a half-loaded model."""
    own = model.state_dict()
    missing, extra = [k for k in own if k not in state], [k for k in state if k not in own]
    if missing:
        raise InputError(f"{where} lacks {len(missing)} weights we need: {listed(missing)}")
    if extra:
        raise InputError(f"{where} has {len(extra)} weights our network does not: {listed(extra)}")
    for key, tensor in own.items():
        value = state[key]
        if not isinstance(value, torch.Tensor) or value.shape != tensor.shape:
            shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            raise InputError(f"{where}: {key!r} is {shape}, our network's is {tuple(tensor.shape)}")
    model.load_state_dict(state)
    return model.state_dict()


def check_optimizer_state(state: Any, parameters: int, where: str) -> dict:
    """A torch optimiser state_dict for `parameters` parameters in one group (as LaMa's and our
    Adams are), else a one-line InputError."""
    groups = state.get("param_groups") if isinstance(state, dict) else None
    if not isinstance(groups, list) or not isinstance(state.get("state"), dict):
        raise InputError(f"{where} is not an optimiser state (no param_groups and state)")
    count = sum(len(group.get("params", [])) for group in groups)
    if count != parameters:
        raise InputError(f"{where} is for {count} parameters, the network has {parameters}")
    return state
