"""Convolution layers of the inpainting models."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)  # type: ignore[return-value]


class PartialConv2d(nn.Conv2d):
    """Partial convolution (Liu et al. 2018), the multi-channel form of NVIDIA's layer.

    forward(x, valid) -> (y, new_valid), `valid` shaped like x with 1 = known input:
        y = W^T (x * valid) * sum(1) / sum(valid) + b   where sum(valid) > 0, else 0,
    with sum(1) = C_in * kH * kW, and new_valid = 1 where sum(valid) > 0 (one map, expanded to
    every output channel). The window sums are counted in float32 whatever the autocast dtype
    (fp16 cannot count past 2048 exactly), and the ratio uses eps 1e-6.
    """

    EPS = 1e-6

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 bias: bool = True):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, bias=bias)
        kh, kw = _pair(kernel_size)
        self.register_buffer("window", torch.ones(1, 1, kh, kw), persistent=False)
        self.window_size = in_channels * kh * kw

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        with torch.no_grad(), torch.autocast(x.device.type, enabled=False):
            counts = F.conv2d(valid.float().sum(1, keepdim=True), self.window, None, self.stride, self.padding,
                              self.dilation)
            new_valid = (counts > 0).float()
            ratio = self.window_size / (counts + self.EPS) * new_valid
        raw = F.conv2d(x * valid, self.weight, None, self.stride, self.padding, self.dilation)
        out = raw * ratio.to(raw.dtype)
        if self.bias is not None:
            out = (out + self.bias.view(1, -1, 1, 1)) * new_valid.to(raw.dtype)
        return out, new_valid.expand(-1, self.out_channels, -1, -1)


class GatedConv2d(nn.Module):
    """DeepFill v2's gated convolution: a conv to `conv_channels`, split in half,
    out = activation(features) * sigmoid(gate), so conv_channels // 2 channels come out.
    With activation=None it is a plain convolution (DeepFill's 3-channel output layers).
    "Same" padding (symmetric), any stride and dilation."""

    def __init__(self, in_channels: int, conv_channels: int, kernel_size: int = 3, stride: int = 1,
                 dilation: int = 1, activation: nn.Module | None = nn.ELU()):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, conv_channels, kernel_size, stride,
                              padding=dilation * (kernel_size - 1) // 2, dilation=dilation)
        self.activation = activation
        self.out_channels = conv_channels if activation is None else conv_channels // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.activation is None:
            return x
        features, gate = x.chunk(2, dim=1)
        return self.activation(features) * torch.sigmoid(gate)


class GatedUpsample(nn.Module):
    """Nearest 2x upsampling followed by a 3x3 gated convolution (DeepFill's gen_deconv)."""

    def __init__(self, in_channels: int, conv_channels: int):
        super().__init__()
        self.conv = GatedConv2d(in_channels, conv_channels, 3)
        self.out_channels = self.conv.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


def _tf_same_pad(conv: nn.Conv2d, inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    x = inputs[0]
    pads = []
    for size, k, s, d in zip(reversed(x.shape[-2:]), reversed(conv.kernel_size), reversed(conv.stride),
                             reversed(conv.dilation)):
        total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
        pads += [total // 2, total - total // 2]
    return (F.pad(x, pads), *inputs[1:])


def use_tf_same_padding(module: nn.Module) -> nn.Module:
    """TensorFlow's "SAME" padding on every strided convolution of `module`: the total padding
    (out - 1) * stride + span - in split with the extra pixel after (bottom, right), where ours
    puts (k - 1) / 2 on each side and so samples a grid shifted by one for even sizes. Needed to
    run weights trained in TF (DeepFill v2's released ones); stride-1 layers agree already."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d) and m.stride != (1, 1):
            m.padding = (0, 0)
            m.register_forward_pre_hook(_tf_same_pad)
    return module


def spectral_norm_conv(in_channels: int, out_channels: int, kernel_size: int = 5, stride: int = 2) -> nn.Module:
    """A convolution with spectral normalisation whose gradients flow through sigma."""
    conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=kernel_size // 2)
    return nn.utils.parametrizations.spectral_norm(conv)


#: The BGR mean (0..255) that Caffe's VGG16, and so HED and its backbone, subtract from their input.
CAFFE_BGR_MEAN = (104.00699, 116.66877, 122.67892)


def vgg_conv_blocks(blocks: tuple[tuple[int, int], ...], in_channels: int = 3) -> nn.ModuleList:
    """VGG's 3x3 convolution blocks, one ModuleList of convolutions per (count, channels)."""
    out = nn.ModuleList()
    for n, width in blocks:
        convs = []
        for _ in range(n):
            convs.append(nn.Conv2d(in_channels, width, 3, padding=1))
            in_channels = width
        out.append(nn.ModuleList(convs))
    return out
