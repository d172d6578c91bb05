"""What training holds for any model, Ray-free: the networks, their optimisers, the loss modules,
autocast and grad scaling, and the guard that skips a step whose loss is not finite. Each model's
own step (models/registry.py) calls `apply` once per optimiser. An optional exponential moving
average of the generator (`ema`) is what validation and export use when it is on."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .precision import autocast


def unwrap(model: nn.Module) -> nn.Module:
    """The bare module of a DDP-wrapped one."""
    return model.module if hasattr(model, "module") else model


@dataclass
class Trainee:
    """The networks, optimisers and losses of one model (`model`, a registry name)."""

    model: str
    generator: nn.Module
    optimizers: dict[str, torch.optim.Optimizer]
    losses: dict[str, nn.Module] = field(default_factory=dict)
    discriminator: nn.Module | None = None
    sketch: bool = False
    precision: str = "fp32"
    scaler: torch.amp.GradScaler | None = None
    skipped: int = 0
    steps: int = 0  # optimisation steps taken (the model's step counts them)
    settings: dict[str, Any] = field(default_factory=dict)  # model-specific training settings
    ema: nn.Module | None = None  # the averaged generator (bare module, never trained directly)
    ema_decay: float = 0.0

    def __post_init__(self):
        if self.ema_decay > 0 and self.ema is None:
            self.ema = copy.deepcopy(unwrap(self.generator)).requires_grad_(False)

    def update_ema(self) -> None:
        """One step of the average, after a generator step. The decay ramps up as
        min(decay, (1 + t) / (10 + t)) over the steps t (tf.train.ExponentialMovingAverage's
        num_updates rule), so a short run's average is not dominated by its random start."""
        if self.ema is None:
            return
        decay = min(self.ema_decay, (1 + self.steps) / (10 + self.steps))
        with torch.no_grad():
            live = unwrap(self.generator).state_dict()
            for name, value in self.ema.state_dict().items():
                if value.dtype.is_floating_point:
                    value.lerp_(live[name].detach(), 1 - decay)
                else:
                    value.copy_(live[name])

    def inference_generator(self) -> nn.Module:
        """What validation and export use: the average when there is one, else the bare generator."""
        return self.ema if self.ema is not None else unwrap(self.generator)

    def autocast(self, device: torch.device):
        return autocast(device.type, self.precision)

    def apply(self, loss: torch.Tensor, optimizer: str, clip: float | None = None) -> bool:
        """Backward and step `optimizer` unless the loss is not finite (then the step is skipped);
        with `clip`, the gradient norm of the optimiser's parameters is clipped to it first."""
        opt = self.optimizers[optimizer]
        opt.zero_grad(set_to_none=True)
        if not torch.isfinite(loss):
            self.skipped += 1
            return False
        params = [p for group in opt.param_groups for p in group["params"]]
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            if clip:
                self.scaler.unscale_(opt)
                torch.nn.utils.clip_grad_norm_(params, clip)
            self.scaler.step(opt)
            self.scaler.update()
        else:
            loss.backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(params, clip)
            opt.step()
        return True

    def state(self) -> dict[str, Any]:
        state = {"generator": unwrap(self.generator).state_dict(),
                 "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
                 "skipped": self.skipped, "steps": self.steps}
        if self.discriminator is not None:
            state["discriminator"] = unwrap(self.discriminator).state_dict()
        if self.scaler is not None:
            state["scaler"] = self.scaler.state_dict()
        if self.ema is not None:
            state["ema"] = self.ema.state_dict()
        return state

    def start_from(self, init: dict[str, Any]) -> dict[str, str]:
        """Fine-tuning: the generator of `init` (pipelines/training/checkpoints.init_state), and
        its discriminator and optimiser states where it has them and this model has them. The
        optimisers keep this run's hyperparameters (lr, betas, ...): only their moments and step
        counts come from the file, and only for an optimiser of the same parameters. Returns where
        each part came from ("file" or "fresh")."""
        parts = {"generator": "file"}
        self.load({"generator": init["generator"]}, optimizers=False)
        if self.discriminator is not None:
            parts["discriminator"] = "fresh"
            if "discriminator" in init:
                try:
                    unwrap(self.discriminator).load_state_dict(init["discriminator"])
                except RuntimeError as e:  # another width or sketch channel: say so in one line
                    raise ValueError("the --init file's discriminator does not fit this run's: "
                                     + str(e).strip().splitlines()[-1].strip()) from None
                parts["discriminator"] = "file"
        saved = init.get("optimizers") or {}
        for name, optimizer in self.optimizers.items():
            parts[f"{name} optimiser"] = "fresh"
            ours = [len(group["params"]) for group in optimizer.param_groups]
            theirs = [len(group.get("params", [])) for group in saved.get(name, {}).get("param_groups", [])]
            # none saved, or for other parameters (PConv's --finetune freezes the encoder's BatchNorm)
            if ours != theirs:
                continue
            if name == "generator" or parts.get("discriminator") == "file":
                hyper = [{k: v for k, v in group.items() if k != "params"} for group in optimizer.param_groups]
                optimizer.load_state_dict(saved[name])
                for group, ours in zip(optimizer.param_groups, hyper):
                    group.update(ours)
                parts[f"{name} optimiser"] = "file"
        return parts

    def load(self, state: dict[str, Any], optimizers: bool = True) -> None:
        unwrap(self.generator).load_state_dict(state["generator"])
        if self.discriminator is not None and "discriminator" in state:
            unwrap(self.discriminator).load_state_dict(state["discriminator"])
        if self.ema is not None:
            self.ema.load_state_dict(state.get("ema", state["generator"]))
        if optimizers:
            for k, o in self.optimizers.items():
                o.load_state_dict(state["optimizers"][k])
            if self.scaler is not None and "scaler" in state:
                self.scaler.load_state_dict(state["scaler"])
            self.skipped = state.get("skipped", 0)
            self.steps = state.get("steps", 0)
