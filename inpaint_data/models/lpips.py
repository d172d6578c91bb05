"""LPIPS v0.1 (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a Perceptual
Metric"), our own definition of the `lpips` package's network, no torchvision.

The score: both images (in [-1, 1]) are shifted and scaled by the ScalingLayer constants, run
through the backbone, and at each of five ReLU outputs the channel-normalised features are
subtracted, squared, weighted per channel by the linear head (a 1x1 convolution without bias),
averaged over space and summed over layers. Backbones: torchvision's ImageNet AlexNet and VGG16
`features` (state_dict keys `features.N.*`, loaded from the user's file); heads: the
`lpips/weights/v0.1/{alex,vgg}.pth` files of the `lpips` wheel (found in the installed package
without importing it, since its import needs torchvision, or given as a file).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .files import load_pt
from .inception import load_state
from .weights import check_weights, weights_entry

#: lpips/lpips.py ScalingLayer.
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
#: Per backbone: torchvision `features` layers (None = max pool, (cin, cout, kernel, stride,
#: padding) = convolution + ReLU), the indices after which lpips takes each slice's output, the
#: channels there, and torchvision's weights file (models/weights.py's catalogue name).
NETS = {
    "alex": {
        "layers": [(3, 64, 11, 4, 2), ("pool", 0), (64, 192, 5, 1, 2), ("pool", 0), (192, 384, 3, 1, 1),
                   (384, 256, 3, 1, 1), (256, 256, 3, 1, 1)],
        "taps": (1, 4, 7, 9, 11),
        "channels": (64, 192, 384, 256, 256),
        "backbone": "alexnet",
    },
    "vgg": {
        "layers": [(3, 64, 3, 1, 1), (64, 64, 3, 1, 1), ("pool", 0), (64, 128, 3, 1, 1), (128, 128, 3, 1, 1),
                   ("pool", 0), (128, 256, 3, 1, 1), (256, 256, 3, 1, 1), (256, 256, 3, 1, 1), ("pool", 0),
                   (256, 512, 3, 1, 1), (512, 512, 3, 1, 1), (512, 512, 3, 1, 1), ("pool", 0),
                   (512, 512, 3, 1, 1), (512, 512, 3, 1, 1), (512, 512, 3, 1, 1)],
        "taps": (3, 8, 15, 22, 29),
        "channels": (64, 128, 256, 512, 512),
        "backbone": "vgg16",
    },
}
#: AlexNet's max pools are 3 x 3 stride 2, VGG's 2 x 2 stride 2.
POOLS = {"alex": (3, 2), "vgg": (2, 2)}


def _features(net: str) -> nn.Sequential:
    """torchvision's `features` of AlexNet or VGG16 up to the last ReLU lpips uses (same indices)."""
    layers: list[nn.Module] = []
    for spec in NETS[net]["layers"]:
        if spec[0] == "pool":
            layers.append(nn.MaxPool2d(*POOLS[net]))
        else:
            cin, cout, k, s, p = spec
            layers += [nn.Conv2d(cin, cout, k, s, p), nn.ReLU(inplace=False)]
    return nn.Sequential(*layers)


class LPIPS(nn.Module):
    """lpips.LPIPS(net=alex|vgg, version='0.1') in eval mode: (a, b in [-1, 1]) -> B distances."""

    def __init__(self, net: str = "alex"):
        super().__init__()
        if net not in NETS:
            raise ValueError(f"unknown LPIPS backbone {net!r}; expected one of {sorted(NETS)}")
        self.net = net
        self.features = _features(net)
        self.lins = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in NETS[net]["channels"])
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def taps(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs, taps = [], NETS[self.net]["taps"]
        x = (x - self.shift) / self.scale
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in taps:
                outs.append(x)
        return outs

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        total = a.new_zeros(a.shape[0])
        for fa, fb, lin in zip(self.taps(a), self.taps(b), self.lins):
            fa = fa / (fa.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            fb = fb / (fb.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            total = total + lin((fa - fb) ** 2).mean((1, 2, 3))
        return total


def check_lpips_files(net: str, backbone: str | Path, heads: str | Path | None = None) -> Path:
    """The heads file to use (default: the installed lpips package's) after checking both files'
    sha256 against the releases (models/weights.py). FileNotFoundError names the missing file and
    where it comes from."""
    if net not in NETS:
        raise ValueError(f"unknown LPIPS backbone {net!r}; expected one of {sorted(NETS)}")
    heads_entry = weights_entry(f"lpips-{net}")
    heads = heads or heads_entry.located()
    if heads is None:
        raise FileNotFoundError(f"LPIPS-{net} heads: {heads_entry.how_to_get}")
    check_weights(NETS[net]["backbone"], backbone)
    return check_weights(heads_entry.name, heads)


def load_lpips(net: str, backbone: str | Path, heads: str | Path | None = None) -> LPIPS:
    """LPIPS with torchvision's ImageNet backbone from `backbone` and the v0.1 heads from `heads`
    (default: the installed lpips package's), both checked by check_lpips_files."""
    heads = check_lpips_files(net, backbone, heads)
    model = LPIPS(net)
    set_weights(model, load_pt(backbone, "LPIPS backbone"), load_pt(heads, "LPIPS heads"))
    return model


def set_weights(model: LPIPS, backbone: dict, heads: dict) -> None:
    """Load a torchvision AlexNet/VGG16 state_dict (classifier keys ignored) and lpips heads
    (`lin{k}.model.1.weight`) into `model`, checking every key and shape."""
    features = {k[len("features."):]: v for k, v in backbone.items() if k.startswith("features.")
                and int(k.split(".")[1]) < len(model.features)}
    load_state(model.features, features, "LPIPS backbone")
    lins = {f"{k}.weight": heads[f"lin{k}.model.1.weight"] for k in range(len(model.lins))
            if f"lin{k}.model.1.weight" in heads}
    load_state(model.lins, lins, "LPIPS heads")
