"""VGG16 up to pool3, for the perceptual and style losses (our own definition, no torchvision).

Weights, in order of preference: torchvision's ImageNet VGG16 state_dict (`features.N.*` keys)
from a file the user has; the VGG16 backbone of the pretrained HED (BSDS500, fine-tuned from
ImageNet VGG16), the documented fallback; random weights only when asked for (tests).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .files import load_pt
from .layers import CAFFE_BGR_MEAN, vgg_conv_blocks

#: (convolutions, channels) of the first three VGG16 blocks.
BLOCKS = ((2, 64), (2, 128), (3, 256))
#: torchvision's `features` indices of those convolutions.
TORCHVISION_CONVS = ((0, 2), (5, 7), (10, 12, 14))
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: Caffe-space inputs (0..255 minus the mean) are ~58x larger than ImageNet-standardised ones (1 / 0.226 vs 255);
#: the HED backbone's features are divided by it so the paper's loss weights keep their balance
#: (without it the style term is ~3,000x too heavy).
CAFFE_FEATURE_SCALE = 1 / 58.0


class VGG16Features(nn.Module):
    """pool1, pool2 and pool3 features of images in [-1, 1] (RGB). Frozen."""

    def __init__(self, input_space: str = "imagenet"):
        super().__init__()
        if input_space not in ("imagenet", "caffe_bgr"):
            raise ValueError(f"unknown input space {input_space!r}")
        self.input_space = input_space
        self.blocks = vgg_conv_blocks(BLOCKS)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "VGG16Features":
        return super().train(False)  # always frozen

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        x01 = (x + 1) / 2
        if self.input_space == "imagenet":
            mean = x.new_tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
            std = x.new_tensor(IMAGENET_STD).view(1, 3, 1, 1)
            return (x01 - mean) / std
        return x01.flip(1) * 255 - x.new_tensor(CAFFE_BGR_MEAN).view(1, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.normalise(x)
        pools = []
        for convs in self.blocks:
            for conv in convs:
                x = F.relu(conv(x))
            x = F.max_pool2d(x, 2, 2)
            pools.append(x)
        if self.input_space == "caffe_bgr":
            return [p * CAFFE_FEATURE_SCALE for p in pools]
        return pools


def load_vgg(weights: str | Path | None = None, random_weights: bool = False) -> VGG16Features:
    """VGG16 features with torchvision ImageNet weights from `weights`, else the HED backbone."""
    if random_weights:
        return VGG16Features()
    if weights is not None:
        state = load_pt(weights, "--vgg-weights file")
        model = VGG16Features("imagenet")
        ours = {}
        for b, indices in enumerate(TORCHVISION_CONVS):
            for c, index in enumerate(indices):
                for kind in ("weight", "bias"):
                    key = f"features.{index}.{kind}"
                    if key not in state:
                        raise ValueError(f"{weights} is not a torchvision VGG16 state_dict (no {key})")
                    ours[f"blocks.{b}.{c}.{kind}"] = state[key]
        model.load_state_dict(ours)
        return model
    from .hed_weights import load_hed

    hed = load_hed()  # raises WeightsError with instructions when not fetched
    model = VGG16Features("caffe_bgr")
    backbone = ("blocks.0.", "blocks.1.", "blocks.2.")
    model.load_state_dict({k: v for k, v in hed.state_dict().items() if k.startswith(backbone)})
    return model
