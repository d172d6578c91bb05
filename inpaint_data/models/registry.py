"""The models the toolkit trains and runs, by name, as torchvision's `get_model(name, **config)`
and maskgen/styles.py do: everything the trainer, the CLI and inference need to know about a
model is its entry here. A new model is one module (network, its `SETTINGS`, `check_config`,
`predict`, `setup_training`, `train_step`) and one entry in MODELS: the trainer's config, its
checks and the `train MODEL` options are made from the entry, so nothing else changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from . import deepfill, lama, pconv
from .settings import Setting
from .trainee import Trainee


@dataclass(frozen=True)
class ModelEntry:
    """One model. `config_keys`: the settings that rebuild the generator (an exported model's
    config). `defaults`: the paper's training settings, used where a run gives none. `multiple`:
    what image sides must be divisible by, from the model config. `recipes`: named sets of
    training settings; "released" is the paper's or the released code's, "stable" the default
    (the settings measured to train stably at small scale, docs/training.md). `settings`: the
    model's own training settings (models/settings.py), checked by the trainer and offered as
    options by `train MODEL`."""

    about: str
    generator: Callable[..., nn.Module]
    config_keys: tuple[str, ...]
    defaults: dict[str, Any]
    multiple: Callable[[dict], int]
    check_config: Callable[[dict], dict]
    predict: Callable[[nn.Module, torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]
    setup_training: Callable[[Trainee, dict, torch.device, Callable], None]
    train_step: Callable[[Trainee, dict, torch.device], dict[str, float]]
    sketch: bool = False  # takes DeepFill v2's sketch channel
    optional_keys: tuple[str, ...] = ()  # generator settings a model config holds only when set (else the default)
    padding: str = "reflect"  # how inference pads images to `multiple` (inference._padded)
    recipes: dict[str, dict[str, Any]] = field(default_factory=lambda: {"released": {}, "stable": {}})
    settings: tuple[Setting, ...] = ()

    def setting(self, name: str) -> Setting | None:
        return next((s for s in self.settings if s.name == name), None)

    def default_of(self, name: str) -> str | None:
        """A setting's default for --help: the model's, else each recipe's; None when neither."""
        if name in self.defaults:
            return str(self.defaults[name])
        values = {recipe: values[name] for recipe, values in self.recipes.items() if values.get(name) is not None}
        if values and len(set(values.values())) == 1:
            return str(next(iter(values.values())))
        return ", ".join(f"{recipe} {value}" for recipe, value in values.items()) or None


MODELS: dict[str, ModelEntry] = {
    "pconv": ModelEntry(
        about="PConv-UNet (Liu et al. 2018): partial convolutions, VGG16 perceptual and style losses.",
        generator=pconv.PConvUNet,
        config_keys=("layers", "width"),
        # Adam 2e-4, stage 2 (frozen encoder BN) 5e-5; batch 6 at 512 (paper, section 4).
        defaults={"lr": 2e-4, "finetune_lr": 5e-5, "betas": (0.9, 0.999), "batch_size": 6, "size": 512,
                  "mask_style": "deepfill-train", "width": 64},
        multiple=lambda config: 2 ** config["layers"],
        check_config=pconv.check_config,
        predict=pconv.predict,
        setup_training=pconv.setup_training,
        train_step=pconv.train_step,
        settings=pconv.SETTINGS,
    ),
    "deepfillv2": ModelEntry(
        about="DeepFill v2 (Yu et al. 2019): gated convolutions, contextual attention, SN-PatchGAN.",
        generator=deepfill.Generator,
        config_keys=("cnum", "sketch"),
        optional_keys=("tf_padding",),
        # Adam 1e-4, betas (0.5, 0.999), batch 16 at 256 (released inpaint.yml).
        defaults={"lr": 1e-4, "betas": (0.5, 0.999), "batch_size": 16, "size": 256, "mask_style": "deepfill-train",
                  "cnum": 48, "dcnum": 64},
        multiple=lambda config: 8,
        check_config=deepfill.check_config,
        predict=deepfill.predict,
        setup_training=deepfill.setup_training,
        train_step=deepfill.train_step,
        sketch=True,
        recipes={"released": {"gan_weight": 1.0, "gan_warmup": 0, "d_lr": None, "r1_weight": 0.0, "ema": 0.0},
                 "stable": {"gan_weight": 0.1, "gan_warmup": 0, "d_lr": None, "r1_weight": 1.0, "ema": 0.999}},
        settings=deepfill.SETTINGS,
    ),
    "lama": ModelEntry(
        about="LaMa (Suvorov et al. 2022): fast Fourier convolutions, a PatchGAN with feature matching, "
              "a high-receptive-field perceptual loss.",
        generator=lambda blocks, ngf: lama.LamaGenerator(blocks=blocks, ngf=ngf),
        config_keys=("blocks", "ngf"),
        # configs/training/big-lama.yaml and what it includes (docs/references.md): Adam G 1e-3 and
        # D 1e-4 with default betas, gradient clipping 1, batch 10 at 256, LaMa's training masks.
        defaults={"lr": 1e-3, "betas": (0.9, 0.999), "batch_size": 10, "size": 256, "mask_style": "lama-train",
                  "blocks": 18, "ngf": 64, "ndf": 64, "d_lr": 1e-4, "l1_weight": 10.0, "adv_weight": 10.0,
                  "gp_coef": 0.001, "fm_weight": 100.0, "perceptual": "hrf", "perceptual_weight": 30.0,
                  "clip": 1.0},
        multiple=lambda config: 8,
        check_config=lama.check_config,
        predict=lama.predict,
        setup_training=lama.setup_training,
        train_step=lama.train_step,
        settings=lama.SETTINGS,
        padding="symmetric",  # bin/predict.py: pad_img_to_modulo, numpy's "symmetric", image and mask alike
    ),
}


def model_entry(name: str) -> ModelEntry:
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {tuple(MODELS)}")
    return MODELS[name]


def model_config(config: dict) -> dict:
    """What rebuilds a run's generator: its name, `config_keys` and the `optional_keys` that are
    set (from a TrainConfig as dict)."""
    entry = model_entry(config["model"])
    return {"model": config["model"], **{k: config[k] for k in entry.config_keys},
            **{k: config[k] for k in entry.optional_keys if config.get(k)}}


def get_model(name: str, **config) -> nn.Module:
    """The generator of model `name` built from its `config_keys` (and `optional_keys` where the
    config has them), e.g. get_model("pconv", layers=7, width=64)."""
    entry = model_entry(name)
    return entry.generator(**{k: config[k] for k in (*entry.config_keys, *entry.optional_keys) if k in config})


def build_trainee(config: dict, device: torch.device, wrap: Callable = lambda m: m) -> Trainee:
    """Networks, optimisers and losses for `config` (a resolved TrainConfig as dict); `wrap` is
    DDP's prepare_model on more than one worker."""
    entry = model_entry(config["model"])
    generator = get_model(config["model"], **config).to(device)
    if config.get("finetune"):
        generator.freeze_encoder_bn()
    generator = wrap(generator)
    params = [p for p in generator.parameters() if p.requires_grad]
    optimizers = {"generator": torch.optim.Adam(params, lr=config["lr"], betas=tuple(config["betas"]))}
    scaler = torch.amp.GradScaler(device.type) if config["precision"] == "fp16" else None
    trainee = Trainee(config["model"], generator, optimizers, sketch=bool(config.get("sketch")),
                      precision=config["precision"], scaler=scaler, ema_decay=config.get("ema") or 0.0)
    entry.setup_training(trainee, config, device, wrap)
    return trainee


def predict(trainee: Trainee, batch: dict) -> torch.Tensor:
    """The model's output for a batch, from the bare module (a DDP forward on one rank alone, as
    in validation, would wait for the others' buffer broadcast), or its moving average when on."""
    sketch = batch.get("sketch") if trainee.sketch else None
    return model_entry(trainee.model).predict(trainee.inference_generator(), batch["image"], batch["mask"], sketch)
