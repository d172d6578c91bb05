"""DeepFill v2 (Yu et al. 2019, "Free-Form Image Inpainting with Gated Convolution"), following
the released code's layer table (docs/references.md, section 5). Channel counts below are those of the
convolutions, before gating halves them."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .attention import ContextualAttention
from .layers import GatedConv2d, GatedUpsample, spectral_norm_conv, use_tf_same_padding
from .settings import Setting


class _Stack(nn.Module):
    """Gated layers in sequence, each built from the previous one's output channels."""

    def __init__(self, in_channels: int, specs: list[tuple]):
        super().__init__()
        layers = []
        for spec in specs:
            kind, args = spec[0], spec[1:]
            layer = GatedUpsample(in_channels, *args) if kind == "up" else GatedConv2d(in_channels, *args)
            layers.append(layer)
            in_channels = layer.out_channels
        self.layers = nn.Sequential(*layers)
        self.out_channels = in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def tf_conv_init(module: nn.Module) -> nn.Module:
    """TensorFlow's defaults for `tf.layers.conv2d`, which the released code builds every layer
    with: Glorot-uniform kernels, zero biases. PyTorch's default (kaiming-uniform, a = sqrt(5))
    draws weights with half the variance; through DeepFill's gated layers (ELU x sigmoid, about
    a halving each) the signal then fades to ~1 % of the input by the bottleneck, and the
    generator learns a flat fill first and escapes it only slowly (docs/training.md)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            weight = m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            nn.init.xavier_uniform_(weight)
            nn.init.zeros_(m.bias)
    return module


def _dilated(c: int) -> list[tuple]:
    return [("conv", c, 3, 1, rate) for rate in (2, 4, 8, 16)]


class Generator(nn.Module):
    """forward(image, hole_mask, sketch=None) -> (coarse, fine), all N x 3 x H x W in [-1, 1];
    image in [-1, 1], mask 1 = hole, sketch N x 1 x H x W (0/1) when built with sketch=True.
    H and W divisible by 8. Known pixels are not composited in: use `composite`."""

    def __init__(self, cnum: int = 48, sketch: bool = False, attention: ContextualAttention | None = None,
                 tf_padding: bool = False):
        super().__init__()
        self.sketch = sketch
        c = cnum
        in_channels = 3 + int(sketch) + 2  # image (+ sketch), ones, mask
        self.coarse = _Stack(in_channels, [
            ("conv", c, 5), ("conv", 2 * c, 3, 2), ("conv", 2 * c, 3), ("conv", 4 * c, 3, 2),
            ("conv", 4 * c, 3), ("conv", 4 * c, 3), *_dilated(4 * c), ("conv", 4 * c, 3), ("conv", 4 * c, 3),
            ("up", 2 * c), ("conv", 2 * c, 3), ("up", c), ("conv", c // 2, 3),
        ])
        self.coarse_out = GatedConv2d(self.coarse.out_channels, 3, 3, activation=None)
        self.refine_conv = _Stack(3, [
            ("conv", c, 5), ("conv", c, 3, 2), ("conv", 2 * c, 3), ("conv", 2 * c, 3, 2),
            ("conv", 4 * c, 3), ("conv", 4 * c, 3), *_dilated(4 * c),
        ])
        self.refine_attention_in = _Stack(3, [
            ("conv", c, 5), ("conv", c, 3, 2), ("conv", 2 * c, 3), ("conv", 4 * c, 3, 2),
            ("conv", 4 * c, 3), ("conv", 4 * c, 3, 1, 1, nn.ReLU()),
        ])
        self.attention = attention or ContextualAttention(ksize=3, stride=1, rate=2)
        self.refine_attention_out = _Stack(self.refine_attention_in.out_channels,
                                           [("conv", 4 * c, 3), ("conv", 4 * c, 3)])
        merged = self.refine_conv.out_channels + self.refine_attention_out.out_channels
        self.refine_out = _Stack(merged, [
            ("conv", 4 * c, 3), ("conv", 4 * c, 3), ("up", 2 * c), ("conv", 2 * c, 3), ("up", c), ("conv", c // 2, 3),
        ])
        self.fine_out = GatedConv2d(self.refine_out.out_channels, 3, 3, activation=None)
        self.last_offsets: torch.Tensor | None = None
        tf_conv_init(self)
        if tf_padding:
            use_tf_same_padding(self)

    def forward(self, image: torch.Tensor, hole_mask: torch.Tensor, sketch: torch.Tensor | None = None):
        if image.shape[-2] % 8 or image.shape[-1] % 8:
            raise ValueError(f"image size {tuple(image.shape[-2:])} is not divisible by 8")
        if self.sketch != (sketch is not None):
            raise ValueError("this generator was built " + ("with" if self.sketch else "without") + " a sketch channel")
        incomplete = image * (1 - hole_mask)
        parts = [incomplete] + ([sketch] if sketch is not None else []) + [torch.ones_like(hole_mask), hole_mask]
        coarse = torch.tanh(self.coarse_out(self.coarse(torch.cat(parts, 1))))
        now = coarse * hole_mask + incomplete * (1 - hole_mask)
        hallucinated = self.refine_conv(now)
        features = self.refine_attention_in(now)
        small_mask = F.interpolate(hole_mask, size=features.shape[-2:], mode="nearest")
        features, self.last_offsets = self.attention(features, features, small_mask)
        features = self.refine_attention_out(features)
        fine = torch.tanh(self.fine_out(self.refine_out(torch.cat([hallucinated, features], 1))))
        return coarse, fine


def composite(output: torch.Tensor, image: torch.Tensor, hole_mask: torch.Tensor) -> torch.Tensor:
    """The output in the hole, the known pixels elsewhere."""
    return output * hole_mask + image * (1 - hole_mask)


class Discriminator(nn.Module):
    """SN-PatchGAN: six 5x5 stride-2 spectral-norm convolutions (cnum, 2, 4, 4, 4, 4 x cnum),
    LeakyReLU 0.2 after every one; forward(image, hole_mask, sketch=None) -> N x K logits, one per
    output element (flattened)."""

    def __init__(self, cnum: int = 64, sketch: bool = False, tf_padding: bool = False):
        super().__init__()
        self.sketch = sketch
        channels = [cnum, 2 * cnum, 4 * cnum, 4 * cnum, 4 * cnum, 4 * cnum]
        layers, previous = [], 3 + 1 + int(sketch)
        for c in channels:
            layers += [spectral_norm_conv(previous, c), nn.LeakyReLU(0.2)]
            previous = c
        self.layers = nn.Sequential(*layers)
        tf_conv_init(self)
        if tf_padding:
            use_tf_same_padding(self)

    def forward(self, image: torch.Tensor, hole_mask: torch.Tensor, sketch: torch.Tensor | None = None) -> torch.Tensor:
        parts = [image, hole_mask] + ([sketch] if self.sketch else [])
        return self.layers(torch.cat(parts, 1)).flatten(1)


# ----------------------------------------------------------------------------- as a registry entry
#: DeepFill v2's own training settings (registry.py lists them; the CLI makes an option of each).
#: The recipe settings' values come from the recipe (registry) when not given.
SETTINGS = (
    Setting("sketch", bool, "The sketch channel (needs edges in the shards).", default=False),
    Setting("tf_padding", bool, "TensorFlow's SAME padding in the strided layers (uneven: the extra pixel after), "
            "as the released code; needed to start from its weights (`import`). Off: (k - 1) / 2 on each side.",
            default=False),
    Setting("cnum", int, "Generator width.", minimum=1),
    Setting("dcnum", int, "Discriminator width.", minimum=1),
    Setting("gan_weight", float, "Weight of the adversarial loss.", minimum=0),
    Setting("gan_warmup", int, "First steps with the L1 terms alone, D resting.", minimum=0),
    Setting("d_lr", float, "The discriminator's learning rate [--lr].", minimum=0, exclusive=True),
    Setting("r1_weight", float, "R1 penalty weight gamma on real images.", minimum=0),
)


def check_config(config: dict) -> dict:
    if config["size"] % 8:
        raise ValueError(f"deepfillv2 needs a size divisible by 8, got {config['size']}")
    return {}


def predict(generator: nn.Module, image: torch.Tensor, mask: torch.Tensor, sketch: torch.Tensor | None) -> torch.Tensor:
    """The refinement stage's output."""
    return generator(image, mask, sketch)[1]


def setup_training(trainee, config: dict, device: torch.device, wrap) -> None:
    """The SN-PatchGAN discriminator and its Adam (released: the generator's lr and betas), the
    adversarial weight and warm-up (released: weight 1, no warm-up) and R1 (released: none)."""
    trainee.discriminator = wrap(Discriminator(cnum=config["dcnum"], sketch=config["sketch"],
                                               tf_padding=config.get("tf_padding", False)).to(device))
    trainee.optimizers["discriminator"] = torch.optim.Adam(trainee.discriminator.parameters(),
                                                           lr=config.get("d_lr") or config["lr"],
                                                           betas=tuple(config["betas"]))
    trainee.settings.update(gan_weight=config.get("gan_weight", 1.0), gan_warmup=config.get("gan_warmup", 0),
                            r1_weight=config.get("r1_weight", 0.0))


def r1_penalty(discriminator: nn.Module, image: torch.Tensor, mask: torch.Tensor,
               sketch: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """D's logits on real images and R1 = mean over the batch of |grad_x D(x)|^2 (Mescheder et al.
    2018, "Which Training Methods for GANs do actually Converge?"), on the image channels."""
    real = image.detach().requires_grad_(True)
    logits = discriminator(real, mask, sketch)
    grad, = torch.autograd.grad(logits.sum(), real, create_graph=True)
    return logits, grad.pow(2).flatten(1).sum(1).mean()


def train_step(trainee, batch: dict, device: torch.device) -> dict[str, float]:
    """One discriminator step (hinge loss, + r1_weight/2 x R1 when set), then one generator step
    (L1 on both stages + GAN). During the first `gan_warmup` steps only the L1 terms train the
    generator, and D rests."""
    from .losses import deepfill_g_loss, hinge_d_loss

    image, mask = batch["image"], batch["mask"]
    sketch = batch.get("sketch") if trainee.sketch else None
    adversarial = trainee.steps >= trainee.settings.get("gan_warmup", 0)
    trainee.steps += 1
    with trainee.autocast(device):
        coarse, fine = trainee.generator(image, mask, sketch)
        done = composite(fine, image, mask)
    metrics = {}
    if adversarial:
        r1_weight = trainee.settings.get("r1_weight", 0.0)
        with trainee.autocast(device):
            if r1_weight:
                real, r1 = r1_penalty(trainee.discriminator, image, mask, sketch)
            else:
                real, r1 = trainee.discriminator(image, mask, sketch), None
            d_loss = hinge_d_loss(real.float(), trainee.discriminator(done.detach(), mask, sketch).float())
        metrics["d_loss"] = d_loss.item()
        if r1 is not None:
            metrics["r1"] = r1.item()
            d_loss = d_loss + 0.5 * r1_weight * r1.float()
        trainee.apply(d_loss, "discriminator")
        with trainee.autocast(device):
            fake = trainee.discriminator(done, mask, sketch).float()
    else:
        fake = torch.zeros(1, device=image.device)
    weight = trainee.settings.get("gan_weight", 1.0) if adversarial else 0.0
    g_loss, terms = deepfill_g_loss(fake, coarse.float(), fine.float(), image, gan_weight=weight)
    trainee.apply(g_loss, "generator")
    return {"loss": g_loss.item(), **metrics, **{k: v.item() for k, v in terms.items()}}
