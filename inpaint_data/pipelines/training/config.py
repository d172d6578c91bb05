"""The settings of a training run, typed. Model-specific defaults (size, batch, lr, betas,
widths) are the registry's (models/registry.py), written once; `resolved()` fills them in."""

from __future__ import annotations

import math
import types
import typing
from dataclasses import dataclass, fields

from ...datasets.images import MAX_SIDE
from ...errors import InputError
from ...models.precision import PRECISIONS
from ...models.registry import MODELS, model_entry


@dataclass
class TrainConfig:
    model: str
    data: str
    out: str
    val_data: str | None = None
    masks: str | None = None  # a mask folder; else mask_style is drawn per sample
    mask_style: str = "deepfill-train"
    sketch: bool = False
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
    finetune: bool = False
    recipe: str = "stable"  # the model's training recipe (registry): "released" or "stable"
    # The recipe's settings; None: the recipe's value. deepfillv2 only.
    gan_weight: float | None = None  # weight of the adversarial term (released: 1)
    gan_warmup: int | None = None  # first steps with the L1 terms alone, D resting (released: 0)
    d_lr: float | None = None  # the discriminator's learning rate (released: lr)
    r1_weight: float | None = None  # R1 penalty on real images, weight gamma (released: 0)
    ema: float | None = None  # decay of the generator's moving average used for validation and export (0: off)
    init: str | None = None  # a checkpoint or exported model to start from (fine-tuning)
    layers: int | None = None  # pconv
    width: int | None = None  # pconv
    cnum: int | None = None  # deepfillv2 generator
    dcnum: int | None = None  # deepfillv2 discriminator
    keep: int = 3
    log_every: int = 10
    val_every: int = 100
    sample_every: int = 100
    checkpoint_every: int = 100
    num_val: int = 8
    loader_workers: int = 0
    vgg_weights: str | None = None
    random_vgg: bool = False

    def check_types(self) -> None:
        """Raise InputError naming the first setting whose value has the wrong type or range
        (settings come from YAML/JSON files as well as the command line)."""
        hints = typing.get_type_hints(TrainConfig)
        for f in fields(self):
            value, hint = getattr(self, f.name), hints[f.name]
            allowed = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
            if value is None and type(None) in allowed:
                continue
            base = next(a for a in allowed if a is not type(None))
            origin = typing.get_origin(base) or base
            if origin is tuple:
                ok = isinstance(value, (list, tuple)) and len(value) == 2 and all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
            elif origin is float:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            elif origin is int:
                ok = isinstance(value, int) and not isinstance(value, bool)
            else:
                ok = isinstance(value, origin)
            if not ok:
                kind = {int: "an integer", float: "a finite number", str: "a string", bool: "true or false",
                        tuple: "two finite numbers"}.get(origin, origin.__name__)
                raise InputError(f"setting {f.name}: expected {kind}, got {value!r}")
        for name in ("steps", "epochs", "size", "batch_size", "keep", "log_every", "val_every", "sample_every",
                     "checkpoint_every", "num_val", "width", "cnum", "dcnum", "layers"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InputError(f"setting {name}: must be at least 1, got {value}")
        for name in ("workers", "loader_workers", "gpus_per_worker", "gan_warmup", "gan_weight", "r1_weight"):
            if getattr(self, name) is not None and getattr(self, name) < 0:
                raise InputError(f"setting {name}: must not be negative, got {getattr(self, name)}")
        for name in ("lr", "d_lr"):
            if getattr(self, name) is not None and not getattr(self, name) > 0:
                raise InputError(f"setting {name}: must be above 0, got {getattr(self, name)}")
        if self.size is not None and self.size > MAX_SIDE:
            raise InputError(f"setting size: at most {MAX_SIDE}, got {self.size}")
        if self.ema is not None and not 0 <= self.ema < 1:
            raise InputError(f"setting ema: must be in [0, 1), got {self.ema}")

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
        if self.sketch and not entry.sketch:
            raise ValueError(f"{self.model} takes no sketch channel")
        if self.finetune and "finetune_lr" not in entry.defaults:
            raise ValueError("--finetune is PConv's second stage (frozen encoder BN)")
        if self.recipe not in entry.recipes:
            raise ValueError(f"{self.model} has no recipe {self.recipe!r}; expected one of {tuple(entry.recipes)}")
        out = TrainConfig(**{f.name: getattr(self, f.name) for f in fields(self)})
        defaults = {**entry.defaults, **entry.recipes[self.recipe]}
        if self.finetune:
            defaults["lr"] = defaults["finetune_lr"]
        for name, value in defaults.items():
            if hasattr(out, name) and getattr(out, name) is None:
                setattr(out, name, value)
        out.betas = tuple(out.betas)
        for name, value in entry.check_config(vars(out)).items():
            setattr(out, name, value)
        return out


def unused_settings(model: str) -> set[str]:
    """Settings other models define and `model` does not (None in its resolved config)."""
    def used(e):
        return {*e.defaults, *e.config_keys, *(k for recipe in e.recipes.values() for k in recipe)}

    return {k for name, e in MODELS.items() if name != model for k in used(e)} - used(MODELS[model])


def default_help(setting: str) -> str:
    """`[pconv 512, deepfillv2 256]`: a setting's default per model, for --help."""
    return "[" + ", ".join(f"{name} {e.defaults[setting]}" for name, e in MODELS.items() if setting in e.defaults) + "]"
