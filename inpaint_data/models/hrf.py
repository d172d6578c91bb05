"""The encoder of LaMa's high-receptive-field perceptual loss (ResNetPL): CSAIL's ADE20k
ResNet50-dilated (semantic-segmentation-pytorch, as LaMa copies it in models/ade20k/: resnet.py
and base.py's ResnetDilated), our own definition with the same state_dict names, so LaMa's
ade20k-resnet50dilated-ppm_deepsup/encoder_epoch_20.pth loads into it.

A "deep stem" ResNet-50 (three 3 x 3 convolutions, 64, 64, 128 channels, then a max pool) whose
third and fourth stages keep the resolution with dilated convolutions (dilate_scale 8): the
features of all four stages are the loss's. Input: ImageNet-standardised RGB.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .files import load_pt

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: Bottleneck blocks per stage (ResNet-50), their widths, and the dilation of each stage.
STAGES = ((3, 64, 1), (4, 128, 1), (6, 256, 2), (3, 512, 4))


def _conv_bn(cin: int, cout: int, stride: int = 1) -> tuple[nn.Conv2d, nn.BatchNorm2d]:
    return nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)


class Bottleneck(nn.Module):
    """1 x 1, 3 x 3 (strided or dilated), 1 x 1 x 4, with a projection when the shape changes."""

    def __init__(self, cin: int, width: int, stride: int, dilation: int, first: bool):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width)
        # ResnetDilated._nostride_dilate: a strided 3 x 3 of a dilated stage loses its stride and
        # gets half the stage's dilation; the other 3 x 3s get the whole dilation.
        pad = dilation // 2 if first and dilation > 1 else dilation
        self.conv2 = nn.Conv2d(width, width, 3, stride, max(pad, 1), max(pad, 1), bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3, self.bn3 = nn.Conv2d(width, width * 4, 1, bias=False), nn.BatchNorm2d(width * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if first:
            self.downsample = nn.Sequential(nn.Conv2d(cin, width * 4, 1, stride, bias=False),
                                            nn.BatchNorm2d(width * 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class HRFEncoder(nn.Module):
    """ResnetDilated(resnet50, dilate_scale=8) with return_feature_maps=True: images in [0, 1]
    (B x 3 x H x W) -> the four stages' features (strides 4, 8, 8, 8). Frozen, eval mode."""

    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = _conv_bn(3, 64, 2)
        self.conv2, self.bn2 = _conv_bn(64, 64)
        self.conv3, self.bn3 = _conv_bn(64, 128)
        self.relu1, self.relu2, self.relu3 = nn.ReLU(inplace=True), nn.ReLU(inplace=True), nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 128
        for index, (blocks, width, dilation) in enumerate(STAGES):
            stride = 2 if index == 1 else 1  # stages 3 and 4 lose their stride to dilation
            layers = [Bottleneck(cin, width, stride, dilation, first=True)]
            layers += [Bottleneck(width * 4, width, 1, dilation, first=False) for _ in range(blocks - 1)]
            setattr(self, f"layer{index + 1}", nn.Sequential(*layers))
            cin = width * 4
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> HRFEncoder:
        return super().train(False)  # always frozen

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = (x - self.mean) / self.std
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.relu2(self.bn2(self.conv2(x)))
        x = self.maxpool(self.relu3(self.bn3(self.conv3(x))))
        features = []
        for index in range(1, 5):
            x = getattr(self, f"layer{index}")(x)
            features.append(x)
        return features


def load_hrf_encoder(path: str | Path | None, random_weights: bool = False) -> HRFEncoder:
    """The encoder with LaMa's ADE20k weights at `path` (the weights catalogue's entry
    `ade20k-resnet50dilated`), or the copy a LaMa training checkpoint holds (`import` keeps it as
    `hrf_encoder`), checked key by key and shape by shape (keys the encoder does not have, as
    LaMa's strict=False allows, are ignored); random weights only when asked for (tests)."""
    model = HRFEncoder()
    if random_weights:
        return model
    from .weights import check_weights

    if not Path(path).is_file():
        check_weights("ade20k-resnet50dilated", path)  # says which file it wants
    state = load_pt(path, "--hrf-weights file")
    if isinstance(state, dict) and isinstance(state.get("hrf_encoder"), dict):
        state = state["hrf_encoder"]  # a file `import` made of LaMa's checkpoint, which holds the encoder
    elif isinstance(state, dict) and "model_config" in state:
        raise ValueError(f"--hrf-weights {path} is a model file without the HRF loss's encoder (only `import` of "
                         "a LaMa training checkpoint that holds one, loss_resnet_pl.impl.*, keeps it)")
    else:
        check_weights("ade20k-resnet50dilated", path)
    expected = model.state_dict()
    missing = sorted(k for k in expected if k not in state)
    wrong = sorted(k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape))
    if missing or wrong:
        raise ValueError(f"--hrf-weights {path} is not the ADE20k ResNet50-dilated encoder "
                         f"({len(missing)} keys missing, e.g. {missing[:2]}; {len(wrong)} of another shape)")
    model.load_state_dict({k: state[k] for k in expected})
    return model.eval()
