"""PConv-UNet (Liu et al. 2018, "Image Inpainting for Irregular Holes Using Partial Convolutions")."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .layers import PartialConv2d
from .settings import Setting

ENCODER_KERNELS = (7, 5, 5, 3, 3, 3, 3, 3)
ENCODER_CHANNELS = (64, 128, 256, 512, 512, 512, 512, 512)


class PConvUNet(nn.Module):
    """forward(image, hole_mask) -> output, image in [-1, 1] (N x 3 x H x W), mask 1 = hole
    (N x 1 x H x W); H and W divisible by 2**layers. `width` scales every layer's channels
    (64 = the paper). Bias only on the last layer (the others are followed by BatchNorm)."""

    def __init__(self, layers: int = 8, width: int = 64, in_channels: int = 3):
        super().__init__()
        if not 1 <= layers <= len(ENCODER_KERNELS):
            raise ValueError(f"layers must be 1..{len(ENCODER_KERNELS)}, got {layers}")
        self.layers = layers
        channels = [max(1, c * width // 64) for c in ENCODER_CHANNELS[:layers]]
        self.encoder = nn.ModuleList()
        self.encoder_bn = nn.ModuleList()
        previous = in_channels
        for i, (k, c) in enumerate(zip(ENCODER_KERNELS, channels)):
            self.encoder.append(PartialConv2d(previous, c, k, stride=2, padding=k // 2, bias=False))
            self.encoder_bn.append(nn.Identity() if i == 0 else nn.BatchNorm2d(c))
            previous = c
        self.decoder = nn.ModuleList()
        self.decoder_bn = nn.ModuleList()
        skips = [in_channels, *channels[:-1]]
        for i in reversed(range(layers)):
            last = i == 0
            out = in_channels if last else channels[i - 1]
            self.decoder.append(PartialConv2d(previous + skips[i], out, 3, padding=1, bias=last))
            self.decoder_bn.append(nn.Identity() if last else nn.BatchNorm2d(out))
            previous = out
        self._frozen_bn = False

    def forward(self, image: torch.Tensor, hole_mask: torch.Tensor) -> torch.Tensor:
        multiple = 2**self.layers
        if image.shape[-2] % multiple or image.shape[-1] % multiple:
            raise ValueError(f"image size {tuple(image.shape[-2:])} is not divisible by {multiple} "
                             f"(2**layers); pad it or use fewer layers")
        valid = (1 - hole_mask).expand_as(image)  # the model boundary: hole mask -> valid mask
        x, m = image, valid
        skips = [(x, m)]
        for conv, bn in zip(self.encoder, self.encoder_bn):
            x, m = conv(x, m)
            x = bn(x)
            x = F.relu(x)
            skips.append((x, m))
        skips.pop()
        for j, (conv, bn) in enumerate(zip(self.decoder, self.decoder_bn)):
            skip_x, skip_m = skips.pop()
            x = torch.cat([F.interpolate(x, scale_factor=2, mode="nearest"), skip_x], 1)
            m = torch.cat([F.interpolate(m, scale_factor=2, mode="nearest"), skip_m], 1)
            x, m = conv(x, m)
            if j < self.layers - 1:
                x = F.leaky_relu(bn(x), 0.2)
        return x

    def freeze_encoder_bn(self) -> None:
        """Fine-tuning stage: encoder BatchNorm keeps its statistics and affine parameters."""
        self._frozen_bn = True
        for bn in self.encoder_bn:
            if isinstance(bn, nn.BatchNorm2d):
                bn.eval()
                bn.requires_grad_(False)

    def train(self, mode: bool = True) -> "PConvUNet":
        super().train(mode)
        if self._frozen_bn:
            for bn in self.encoder_bn:
                bn.eval()
        return self


# ----------------------------------------------------------------------------- as a registry entry
#: PConv's own training settings (registry.py lists them; the CLI makes an option of each).
SETTINGS = (
    Setting("width", int, "Channel width of the first level.", minimum=1),
    Setting("layers", int, "Encoder levels [8 at 512, 7 at 256].", minimum=1),
    Setting("finetune", bool, "Stage 2: encoder BatchNorm frozen, lr 5e-5 (paper, section 4).", default=False),
    Setting("vgg_weights", str, "torchvision ImageNet VGG16 state_dict for the perceptual loss "
            "(default: the HED backbone).", path=True),
    Setting("random_vgg", bool, "An untrained VGG for the loss (tests only).", default=False),
)


def check_config(config: dict) -> dict:
    """Settings that follow from others: `layers` from the size (8 at 512, 7 at 256)."""
    layers = config.get("layers") or min(8, int(math.log2(config["size"])) - 1)
    if config["size"] % 2**layers:
        raise ValueError(f"size {config['size']} is not divisible by 2**layers = {2 ** layers}")
    return {"layers": layers}


def predict(generator: nn.Module, image: torch.Tensor, mask: torch.Tensor, sketch: torch.Tensor | None) -> torch.Tensor:
    return generator(image, mask)


def setup_training(trainee, config: dict, device: torch.device, wrap) -> None:
    """The paper's loss (hole, valid, perceptual, style, TV) on VGG16 features; stage 2
    (`finetune`) freezes the encoder's BatchNorm."""
    from .losses import PConvLoss
    from .vgg import load_vgg

    vgg = load_vgg(config.get("vgg_weights"), random_weights=config.get("random_vgg", False)).to(device)
    trainee.losses["pconv"] = PConvLoss(vgg)


def train_step(trainee, batch: dict, device: torch.device) -> dict[str, float]:
    trainee.steps += 1
    image, mask = batch["image"], batch["mask"]
    with trainee.autocast(device):
        output = trainee.generator(image, mask)
        total, terms = trainee.losses["pconv"](output.float(), image, mask)
    trainee.apply(total, "generator")
    return {"loss": total.item(), **{k: v.item() for k, v in terms.items()}}
