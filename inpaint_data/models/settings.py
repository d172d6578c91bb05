"""A model's own training settings, declared once in its module and listed by its registry entry:
the trainer checks them (`check_setting`), the CLI makes one option of each (`train MODEL --help`
shows that model's), and a config file may set them. Settings every model has (size, lr, steps,
...) are the trainer's, in pipelines/training/config.py."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import InputError

KINDS = {int: "an integer", float: "a finite number", str: "a string", bool: "true or false"}


@dataclass(frozen=True)
class Setting:
    """One setting. `default`: its value when neither the run, the recipe nor the model's
    defaults give one. `minimum`: the smallest value allowed (`exclusive`: the value must lie
    above it). `path`: a file location (made absolute for Ray workers, checked to exist by the CLI).
    `flag`: a switch on the command line (`--x/--no-x`)."""

    name: str
    kind: type
    help: str
    default: Any = None
    minimum: float | None = None
    exclusive: bool = False
    path: bool = False

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")


def check_setting(setting: Setting, value: Any) -> None:
    """Raise InputError naming `setting` when `value` (from a file or the command line) has the
    wrong type or lies outside its range; None is always allowed (unset)."""
    if value is None:
        return
    kind = setting.kind
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise InputError(f"setting {setting.name}: expected {KINDS.get(kind, kind.__name__)}, got {value!r}")
    if setting.minimum is not None:
        if setting.exclusive and not value > setting.minimum:
            raise InputError(f"setting {setting.name}: must be above {setting.minimum:g}, got {value}")
        if not setting.exclusive and value < setting.minimum:
            word = "not be negative" if setting.minimum == 0 else f"be at least {setting.minimum:g}"
            raise InputError(f"setting {setting.name}: must {word}, got {value}")
