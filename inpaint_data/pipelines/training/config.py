"""The settings of a training run, typed, from a config file and the command line
(`train_config`). Model-specific defaults (size, batch, lr, betas, widths) and the model's own
settings are the registry's (models/registry.py), written once; `resolved()` fills them in."""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ... import storage
from ...datasets.images import MAX_SIDE
from ...errors import InputError, first_line
from ...models.precision import PRECISIONS
from ...models.registry import MODELS, model_entry
from ...models.settings import KINDS, check_setting, is_kind

#: Settings checked to be at least 1, not negative, or above 0 (the model's own are checked by
#: their declaration, models/settings.py).
AT_LEAST_ONE = ("steps", "epochs", "size", "batch_size", "keep", "log_every", "val_every", "sample_every",
                "checkpoint_every", "num_val")
NOT_NEGATIVE = ("workers", "loader_workers", "gpus_per_worker")


@dataclass
class TrainConfig:
    """The settings every model has; the model's own (its registry entry's `settings`: widths,
    loss weights, the sketch channel, ...) are in `settings`. `of(**flat)` builds one from flat
    keyword settings and `as_dict()` gives them back flat, as train_config.json stores them."""

    model: str
    data: str
    out: str
    val_data: str | None = None
    masks: str | None = None  # a mask folder; else mask_style is drawn per sample
    mask_style: str | None = None  # None: the model's default (registry)
    size: int | None = None  # None: the model's default (registry)
    batch_size: int | None = None  # per worker; None: the model's default
    steps: int | None = None
    epochs: int | None = None
    lr: float | None = None
    betas: tuple[float, float] | None = None
    workers: int = 1
    gpus_per_worker: float = 0.0
    cpus_per_worker: float | None = None
    precision: str = "fp32"
    seed: int = 0
    recipe: str = "stable"  # the model's training recipe (registry): "released" or "stable"
    ema: float | None = None  # decay of the generator's moving average used for validation and export (0: off)
    init: str | None = None  # a checkpoint or exported model to start from (fine-tuning)
    keep: int = 3
    log_every: int = 10
    val_every: int = 100
    sample_every: int = 100
    checkpoint_every: int = 100
    num_val: int = 8
    loader_workers: int = 0
    settings: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, **flat: Any) -> TrainConfig:
        """A config from flat settings, e.g. TrainConfig.of(model="pconv", data=..., out=..., width=16):
        the common ones by name, every other one into `settings` (checked by `resolved`)."""
        common = {f.name for f in fields(cls)} - {"settings"}
        return cls(**{k: v for k, v in flat.items() if k in common},
                   settings={k: v for k, v in flat.items() if k not in common})

    def as_dict(self) -> dict[str, Any]:
        """Flat: the common settings and the model's own, as the loop and train_config.json take them."""
        flat = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "settings"}
        return {**flat, **self.settings}

    def check_types(self) -> None:
        """Raise InputError naming the first setting whose value has the wrong type or range
        (settings come from YAML/JSON files as well as the command line)."""
        hints = typing.get_type_hints(TrainConfig)
        for f in fields(self):
            if f.name == "settings":
                continue
            value, hint = getattr(self, f.name), hints[f.name]
            allowed = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
            if value is None and type(None) in allowed:
                continue
            base = next(a for a in allowed if a is not type(None))
            origin = typing.get_origin(base) or base
            if not is_kind(value, origin):
                raise InputError(f"setting {f.name}: expected {KINDS.get(origin, origin.__name__)}, got {value!r}")
        for name in AT_LEAST_ONE:
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InputError(f"setting {name}: must be at least 1, got {value}")
        for name in NOT_NEGATIVE:
            if getattr(self, name) is not None and getattr(self, name) < 0:
                raise InputError(f"setting {name}: must not be negative, got {getattr(self, name)}")
        if self.lr is not None and not self.lr > 0:
            raise InputError(f"setting lr: must be above 0, got {self.lr}")
        if self.size is not None and self.size > MAX_SIDE:
            raise InputError(f"setting size: at most {MAX_SIDE}, got {self.size}")
        if self.ema is not None and not 0 <= self.ema < 1:
            raise InputError(f"setting ema: must be in [0, 1), got {self.ema}")
        entry = model_entry(self.model)
        for name, value in self.settings.items():
            setting = entry.setting(name)
            if setting is None:
                raise InputError(f"setting {name}: {_not_this_models(name, self.model)}")
            check_setting(setting, value)

    def resolved(self) -> TrainConfig:
        """Defaults filled in from the model's registry entry; checks types and the combination."""
        self.check_types()
        entry = model_entry(self.model)
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r}")
        if self.precision == "fp16" and not self.gpus_per_worker:
            raise ValueError("fp16 needs GPUs (--gpus-per-worker); use bf16 or fp32 on CPU")
        if (self.steps is None) == (self.epochs is None):
            raise ValueError("give exactly one of steps and epochs")
        if self.recipe not in entry.recipes:
            raise ValueError(f"{self.model} has no recipe {self.recipe!r}; expected one of {tuple(entry.recipes)}")
        out = replace(self, settings={s.name: self.settings.get(s.name, s.default) for s in entry.settings})
        defaults = {**entry.defaults, **entry.recipes[self.recipe]}
        if out.settings.get("finetune"):
            defaults["lr"] = defaults["finetune_lr"]
        for name, value in defaults.items():
            if name in out.settings and out.settings[name] is None:
                out.settings[name] = value
            elif hasattr(out, name) and getattr(out, name) is None:
                setattr(out, name, value)
        out.betas = tuple(out.betas)
        for name, value in entry.check_config(out.as_dict()).items():
            if name in out.settings:
                out.settings[name] = value
            else:
                setattr(out, name, value)
        return out


def _not_this_models(name: str, model: str) -> str:
    owners = [other for other, entry in MODELS.items() if entry.setting(name)]
    if owners:
        return f"{' and '.join(owners)}'s, not {model}'s (`inpaint-data train {model} --help` lists {model}'s)"
    return f"no such setting (`inpaint-data train {model} --help` lists them)"


def read_config_file(path: str) -> dict[str, Any]:
    """The settings of a YAML or JSON --config file (dashes or underscores); InputError in one line
    when it is not UTF-8, does not parse or is not a mapping."""
    import yaml

    try:
        text = storage.read_bytes(path).decode()
    except UnicodeDecodeError as e:
        raise InputError(f"--config {path} is not UTF-8 text ({first_line(e, 120)})") from None
    try:
        settings = yaml.safe_load(text) if path.endswith((".yaml", ".yml")) else json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as e:
        raise InputError(f"--config {path} does not parse: {first_line(e, 200)}") from None
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        raise InputError(f"--config {path} must hold a mapping of settings, not a {type(settings).__name__}")
    return {str(k).replace("-", "_"): v for k, v in settings.items()}


def train_config(model: str, config_file: str | None = None, **overrides: Any) -> TrainConfig:
    """The resolved config of a run: `config_file`'s settings (YAML or JSON), then `overrides`
    (None: not given), then the model's defaults. `betas` may be given as "B1,B2"."""
    settings = {"model": model, **(read_config_file(config_file) if config_file else {})}
    settings.update({k: v for k, v in overrides.items() if v is not None})
    if isinstance(settings.get("betas"), str):
        try:
            settings["betas"] = tuple(float(b) for b in settings["betas"].split(","))
        except ValueError:
            raise InputError("--betas: use B1,B2 such as 0.5,0.999") from None
    for required in ("data", "out"):
        if not settings.get(required):
            raise InputError(f"missing --{required}")
    return TrainConfig.of(**settings).resolved()


def default_help(setting: str) -> str:
    """`[pconv 512, deepfillv2 256]`: a setting's default per model, for --help."""
    return "[" + ", ".join(f"{name} {e.defaults[setting]}" for name, e in MODELS.items() if setting in e.defaults) + "]"
