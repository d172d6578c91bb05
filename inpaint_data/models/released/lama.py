"""LaMa's released checkpoints (advimman/lama: big-lama, lama-fourier and any run of its trainer)
onto our LaMa generator and discriminator.

LaMa's bin/to_jit.py traces the predict-only training module in a wrapper, so a TorchScript
file of it (IOPaint's `big-lama.pt`) holds the generator under `model.generator.` and no config:
the architecture is read from the tensors (`from_traced`).

A LaMa checkpoint is PyTorch Lightning's: `state_dict` holds the training module's networks
under `generator.` and `discriminator.` (our models/lama.py keeps LaMa's module tree, so the
names below the prefix are ours), beside the loss and evaluation networks the module also held;
`optimizer_states` holds the two Adams (generator first: configure_optimizers in
saicinpainting/training/trainers/base.py); `hyper_parameters` holds the training config
(config.yaml), from which the architecture is read.
"""

from __future__ import annotations

from typing import Any

from ...errors import InputError
from .. import lama
from .common import ImportedModel, check_optimizer_state, load_exactly

#: State_dict prefixes of the training module's other parts: loss and evaluation networks, not
#: part of the model (LaMa's BaseInpaintingTrainingModule: loss_pl, loss_resnet_pl, the evaluators).
#: `generator_average.` is the moving average LaMa keeps with average_generator (off in its configs).
OTHER_PARTS = ("adversarial_loss.", "loss_pl.", "loss_resnet_pl.", "loss_segm_pl.", "val_evaluator.",
               "test_evaluator.", "extra_evaluators.", "generator_average.")
#: The ADE20k encoder of the HRF perceptual loss, which the training module holds
#: (losses/perceptual.py ResNetPL.impl): kept, for `--hrf-weights` to take from the imported file.
HRF_PREFIX = "loss_resnet_pl.impl."
#: What our generator is, in the terms of configs/training/generator/ffc_resnet_075.yaml.
GENERATOR_FIXED = {"kind": "ffc_resnet", "input_nc": 4, "output_nc": 3, "n_downsampling": 3, "add_out_act": "sigmoid",
                   "init_conv_kwargs.ratio_gin": 0, "init_conv_kwargs.ratio_gout": 0,
                   "downsample_conv_kwargs.ratio_gin": 0, "downsample_conv_kwargs.ratio_gout": 0,
                   "resnet_conv_kwargs.ratio_gin": 0.75, "resnet_conv_kwargs.ratio_gout": 0.75,
                   "init_conv_kwargs.enable_lfu": False, "downsample_conv_kwargs.enable_lfu": False,
                   "resnet_conv_kwargs.enable_lfu": False}
#: The crop size of LaMa's training data (configs/training/data/abl-04-256-mh-dist.yaml,
#: out_size), for a config without its data section.
TRAIN_SIZE = 256
#: ... and our discriminator, in those of discriminator/pix2pixhd_nlayer.yaml.
DISCRIMINATOR_FIXED = {"kind": "pix2pixhd_nlayer", "input_nc": 3, "n_layers": 4}


def _entry(config: dict, dotted: str) -> Any:
    value: Any = config
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _check(section: dict, fixed: dict, where: str, path: str) -> None:
    for key, expected in fixed.items():
        value = _entry(section, key)
        if value is not None and value != expected:
            raise InputError(f"{path}: {where}.{key} is {value!r}; inpaint-data's LaMa has {expected!r} "
                             "(only LaMa's FFC ResNet generator and NLayer discriminator are read)")


def _width(section: dict, key: str, where: str, path: str) -> int:
    value = section.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InputError(f"{path}: {where}.{key} is {value!r}, not a positive integer")
    return value


def from_lightning(checkpoint: dict, path: str) -> ImportedModel:
    """The generator, discriminator and optimiser states of a LaMa Lightning checkpoint (plain
    data from lightning.read_checkpoint); a one-line InputError names whatever does not fit."""
    from .lightning import resolve

    if not isinstance(checkpoint.get("state_dict"), dict):
        raise InputError(f"{path} has no state_dict: not a Lightning checkpoint")
    if not isinstance(checkpoint.get("hyper_parameters"), dict):
        raise InputError(f"{path} has no hyper_parameters (LaMa's training config), so its architecture is unknown")
    config = resolve(checkpoint["hyper_parameters"])
    generator_config = config.get("generator")
    if not isinstance(generator_config, dict):
        raise InputError(f"{path}: its config has no generator section")
    _check(generator_config, GENERATOR_FIXED, "generator", path)
    model_config = {"model": "lama", "blocks": _width(generator_config, "n_blocks", "generator", path),
                    "ngf": _width(generator_config, "ngf", "generator", path)}

    parts: dict[str, dict] = {"generator": {}, "discriminator": {}}
    hrf_encoder = {}
    for key, tensor in checkpoint["state_dict"].items():
        prefix = key.split(".", 1)[0]
        if prefix in parts and "." in key:
            parts[prefix][key.split(".", 1)[1]] = tensor
        elif key.startswith(HRF_PREFIX):
            hrf_encoder[key[len(HRF_PREFIX):]] = tensor
        elif not key.startswith(OTHER_PARTS):
            raise InputError(f"{path}: state_dict entry {key!r} belongs to no part of LaMa's training module we know")
    networks = {"generator": lama.LamaGenerator(blocks=model_config["blocks"], ngf=model_config["ngf"])}
    generator = load_exactly(networks["generator"], parts["generator"], f"{path}: the generator")

    settings, discriminator = {}, None
    discriminator_config = config.get("discriminator")
    if parts["discriminator"]:
        if not isinstance(discriminator_config, dict):
            raise InputError(f"{path} holds discriminator weights but its config has no discriminator section")
        _check(discriminator_config, DISCRIMINATOR_FIXED, "discriminator", path)
        settings["ndf"] = _width(discriminator_config, "ndf", "discriminator", path)
        networks["discriminator"] = lama.NLayerDiscriminator(ndf=settings["ndf"])
        discriminator = load_exactly(networks["discriminator"], parts["discriminator"], f"{path}: the discriminator")

    optimizers = {}
    states = checkpoint.get("optimizer_states") or []
    if discriminator is not None and len(states) == 2:
        optimizers = {name: check_optimizer_state(state, len(list(networks[name].parameters())),
                                                  f"{path}: optimizer_states[{i}] ({name})")
                      for i, (name, state) in enumerate(zip(("generator", "discriminator"), states))}
    optimizer_config = config.get("optimizers") or {}
    for name, setting in (("generator", "lr"), ("discriminator", "d_lr")):
        lr = _entry(optimizer_config, f"{name}.lr")
        if isinstance(lr, (int, float)) and not isinstance(lr, bool):
            settings[setting] = float(lr)
    train_size = _entry(config, "data.train.out_size")
    extra = {}
    if hrf_encoder:
        from ..hrf import HRFEncoder

        encoder = HRFEncoder()
        keys = encoder.state_dict().keys()  # LaMa loads it with strict=False: keys it lacks are ignored
        extra["hrf_encoder"] = load_exactly(encoder, {k: v for k, v in hrf_encoder.items() if k in keys},
                                            f"{path}: the HRF loss's encoder")
    return ImportedModel(extra=extra,
        model_config=model_config, generator=generator, discriminator=discriminator, optimizers=optimizers,
        train_size=train_size if isinstance(train_size, int) and not isinstance(train_size, bool) else TRAIN_SIZE,
        settings=settings, source={"format": "lama-lightning", "step": checkpoint.get("global_step"),
                                   "epoch": checkpoint.get("epoch"),
                                   "lightning": checkpoint.get("pytorch-lightning_version")})


#: Where bin/to_jit.py's trace keeps the generator: JITWrapper.model (the training module).generator.
TRACED_PREFIX = "model.generator."


def from_traced(tensors: dict[str, Any], path: str) -> ImportedModel:
    """The generator of a TorchScript file made by LaMa's to_jit.py (torchscript.read_torchscript_tensors);
    blocks and width from its tensors: one `model.N.conv1` per residual block, the stem's width."""
    other = [key for key in tensors if not key.startswith(TRACED_PREFIX)]
    if other:
        raise InputError(f"{path}: tensor {other[0]!r} is not under {TRACED_PREFIX!r} (LaMa's to_jit.py layout)")
    state = {key[len(TRACED_PREFIX):]: value for key, value in tensors.items()}
    stem = state.get("model.1.ffc.convl2l.weight")
    if stem is None:
        raise InputError(f"{path}: no FFC stem (model.1.ffc.convl2l.weight): not LaMa's FFC ResNet generator")
    blocks = len({key.split(".")[1] for key in state if ".conv1.ffc.convl2l.weight" in key})
    model_config = {"model": "lama", "blocks": blocks, "ngf": int(stem.shape[0])}
    generator = load_exactly(lama.LamaGenerator(blocks=blocks, ngf=model_config["ngf"]), state,
                             f"{path}: the generator")
    return ImportedModel(model_config=model_config, generator=generator, train_size=TRAIN_SIZE,
                         source={"format": "lama-torchscript"})
