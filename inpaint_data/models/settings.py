"""A model's own training settings, declared once in its module and listed by its registry entry:
the trainer checks them (`check_setting`), the CLI makes one option of each (`train MODEL --help`
shows that model's), and a config file may set them. Settings every model has (size, lr, steps,
...) are the trainer's, in pipelines/training/config.py."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import InputError

#: How an error names each kind of value.
KINDS = {int: "an integer", float: "a finite number", str: "a string", bool: "true or false",
         tuple: "two finite numbers"}


def is_kind(value: Any, kind: type) -> bool:
    """Whether `value` (from a file or the command line) is of `kind`: an int is not a bool, a
    float is finite (an int will do), a tuple is two finite numbers (a list will do)."""
    if kind is tuple:
        return isinstance(value, (list, tuple)) and len(value) == 2 and all(is_kind(v, float) for v in value)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


@dataclass(frozen=True)
class Setting:
    """One setting. `default`: its value when neither the run, the recipe nor the model's
    defaults give one. `minimum`: the smallest value allowed (`exclusive`: the value must lie
    above it). `path`: a file location (made absolute for Ray workers, checked to exist by the CLI).
    `choices`: the values allowed, when they are few. A bool is a switch on the command line
    (`--x/--no-x`)."""

    name: str
    kind: type
    help: str
    default: Any = None
    minimum: float | None = None
    exclusive: bool = False
    path: bool = False
    choices: tuple[str, ...] = ()

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")


def check_setting(setting: Setting, value: Any) -> None:
    """Raise InputError naming `setting` when `value` (from a file or the command line) has the
    wrong type or lies outside its range; None is always allowed (unset)."""
    if value is None:
        return
    if not is_kind(value, setting.kind):
        kind = KINDS.get(setting.kind, setting.kind.__name__)
        raise InputError(f"setting {setting.name}: expected {kind}, got {value!r}")
    if setting.choices and value not in setting.choices:
        raise InputError(f"setting {setting.name}: expected one of {', '.join(setting.choices)}, got {value!r}")
    if setting.minimum is not None:
        if setting.exclusive and not value > setting.minimum:
            raise InputError(f"setting {setting.name}: must be above {setting.minimum:g}, got {value}")
        if not setting.exclusive and value < setting.minimum:
            word = "not be negative" if setting.minimum == 0 else f"be at least {setting.minimum:g}"
            raise InputError(f"setting {setting.name}: must {word}, got {value}")
