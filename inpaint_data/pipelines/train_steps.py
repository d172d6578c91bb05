"""What one training step does for each model, Ray-free: build the networks and optimisers,
step on a batch (with autocast, grad scaling and a NaN/Inf guard), predict for validation and
sample grids, and the state a checkpoint holds."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..models.deepfill import Discriminator, composite
from ..models.exported import build_generator
from ..models.losses import PConvLoss, deepfill_g_loss, hinge_d_loss
from ..models.vgg import load_vgg

DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
#: Paper defaults: PConv Adam 2e-4 (fine-tune 5e-5); DeepFill v2 Adam 1e-4, betas (0.5, 0.999).
DEFAULTS = {
    "pconv": {"lr": 2e-4, "betas": (0.9, 0.999), "finetune_lr": 5e-5, "batch_size": 6, "size": 512},
    "deepfillv2": {"lr": 1e-4, "betas": (0.5, 0.999), "batch_size": 16, "size": 256},
}


def unwrap(model: nn.Module) -> nn.Module:
    return model.module if hasattr(model, "module") else model


@dataclass
class Trainee:
    """The networks, optimisers and loss of one model, and how to step them."""

    name: str
    generator: nn.Module
    optimizers: dict[str, torch.optim.Optimizer]
    loss: nn.Module | None = None
    discriminator: nn.Module | None = None
    sketch: bool = False
    precision: str = "fp32"
    scaler: torch.amp.GradScaler | None = None
    skipped: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def autocast(self, device: torch.device):
        dtype = DTYPES[self.precision]
        return torch.autocast(device.type, dtype) if dtype is not None else nullcontext()

    def predict(self, batch: dict) -> torch.Tensor:
        """The model's output for a batch (the fine output for DeepFill). Uses the bare module:
        a DDP forward on one rank alone (validation) would wait for the others' buffer broadcast."""
        image, mask = batch["image"], batch["mask"]
        generator = unwrap(self.generator)
        if self.name == "pconv":
            return generator(image, mask)
        return generator(image, mask, batch.get("sketch") if self.sketch else None)[1]

    def _apply(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer, params) -> bool:
        """Backward and step unless the loss is not finite (then the step is skipped)."""
        if not torch.isfinite(loss):
            optimizer.zero_grad(set_to_none=True)
            self.skipped += 1
            return False
        optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.step(optimizer)
            self.scaler.update()
        else:
            loss.backward()
            optimizer.step()
        return True

    def step(self, batch: dict, device: torch.device) -> dict[str, float]:
        image, mask = batch["image"], batch["mask"]
        if self.name == "pconv":
            with self.autocast(device):
                output = self.generator(image, mask)
                total, terms = self.loss(output.float(), image, mask)
            self._apply(total, self.optimizers["generator"], None)
            return {"loss": total.item(), **{k: v.item() for k, v in terms.items()}}
        sketch = batch.get("sketch") if self.sketch else None
        with self.autocast(device):
            coarse, fine = self.generator(image, mask, sketch)
            done = composite(fine, image, mask)
            d_loss = hinge_d_loss(self.discriminator(image, mask, sketch).float(),
                                  self.discriminator(done.detach(), mask, sketch).float())
        self._apply(d_loss, self.optimizers["discriminator"], None)
        with self.autocast(device):
            g_loss, terms = deepfill_g_loss(self.discriminator(done, mask, sketch).float(), coarse.float(),
                                            fine.float(), image)
        self._apply(g_loss, self.optimizers["generator"], None)
        return {"loss": g_loss.item(), "d_loss": d_loss.item(), **{k: v.item() for k, v in terms.items()}}

    def state(self) -> dict[str, Any]:
        state = {"generator": unwrap(self.generator).state_dict(),
                 "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
                 "skipped": self.skipped}
        if self.discriminator is not None:
            state["discriminator"] = unwrap(self.discriminator).state_dict()
        if self.scaler is not None:
            state["scaler"] = self.scaler.state_dict()
        return state

    def load(self, state: dict[str, Any], optimizers: bool = True) -> None:
        unwrap(self.generator).load_state_dict(state["generator"])
        if self.discriminator is not None and "discriminator" in state:
            unwrap(self.discriminator).load_state_dict(state["discriminator"])
        if optimizers:
            for k, o in self.optimizers.items():
                o.load_state_dict(state["optimizers"][k])
            if self.scaler is not None and "scaler" in state:
                self.scaler.load_state_dict(state["scaler"])
            self.skipped = state.get("skipped", 0)


def model_config(cfg: dict) -> dict:
    """What is needed to rebuild the generator for inference."""
    if cfg["model"] == "pconv":
        return {"model": "pconv", "layers": cfg["layers"], "width": cfg["width"]}
    return {"model": "deepfillv2", "cnum": cfg["cnum"], "sketch": cfg["sketch"]}


def build_trainee(cfg: dict, device: torch.device, wrap=lambda m: m) -> Trainee:
    """Networks, optimisers and loss for `cfg` (a TrainConfig as dict); `wrap` is DDP's prepare."""
    generator = build_generator(model_config(cfg)).to(device)
    if cfg["model"] == "pconv" and cfg.get("finetune"):
        generator.freeze_encoder_bn()
    generator = wrap(generator)
    betas = tuple(cfg["betas"])
    params = [p for p in generator.parameters() if p.requires_grad]
    optimizers = {"generator": torch.optim.Adam(params, lr=cfg["lr"], betas=betas)}
    scaler = torch.amp.GradScaler(device.type) if cfg["precision"] == "fp16" else None
    if cfg["model"] == "pconv":
        vgg = load_vgg(cfg.get("vgg_weights"), random_weights=cfg.get("random_vgg", False)).to(device)
        return Trainee("pconv", generator, optimizers, loss=PConvLoss(vgg), precision=cfg["precision"], scaler=scaler)
    discriminator = wrap(Discriminator(cnum=cfg["dcnum"], sketch=cfg["sketch"]).to(device))
    optimizers["discriminator"] = torch.optim.Adam(discriminator.parameters(), lr=cfg["lr"], betas=betas)
    return Trainee("deepfillv2", generator, optimizers, discriminator=discriminator, sketch=cfg["sketch"],
                   precision=cfg["precision"], scaler=scaler)
