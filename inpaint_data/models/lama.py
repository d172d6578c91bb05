"""LaMa (Suvorov et al. 2022, advimman/lama): the FFC ResNet generator and the pix2pixHD NLayer
discriminator, written anew with the same module tree, so a state_dict of LaMa's
`FFCResNetGenerator` / `NLayerDiscriminator` loads key for key (saicinpainting/training/modules/
ffc.py and pix2pixhd.py; configs/training/big-lama.yaml, lama-fourier.yaml, generator/
ffc_resnet_075.yaml, discriminator/pix2pixhd_nlayer.yaml).

Fast Fourier convolution (Chi et al. 2020): each feature map is split into a local part (3 x 3
convolutions) and a global part (`ratio` of the channels) that a spectral transform processes
on the real 2-D FFT (1 x 1 convolution, BatchNorm and ReLU on the stacked real and imaginary
parts), so one layer sees the whole image. Departure: the FFT runs in float32 under autocast
(there is no bfloat16 FFT); in float32 the result is LaMa's.
"""

from __future__ import annotations

import torch
from torch import nn

#: LaMa's released configurations: generator blocks, width, downsamplings, global ratio.
PRESETS = {
    "big-lama": {"blocks": 18, "ngf": 64, "downsamplings": 3, "ratio": 0.75},
    "lama-fourier": {"blocks": 9, "ngf": 64, "downsamplings": 3, "ratio": 0.75},
}

Pair = tuple[torch.Tensor | None, torch.Tensor | None]


class FourierUnit(nn.Module):
    """1 x 1 convolution, BatchNorm and ReLU in the frequency domain (real FFT, "ortho" norm);
    the real and imaginary parts of each channel are adjacent channels."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv_layer = nn.Conv2d(in_channels * 2, out_channels * 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels * 2)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, size = x.shape[0], x.shape[-2:]
        with torch.autocast(x.device.type, enabled=False):
            spectrum = torch.fft.rfftn(x.float(), dim=(-2, -1), norm="ortho")
        stacked = torch.stack((spectrum.real, spectrum.imag), dim=-1).permute(0, 1, 4, 2, 3).contiguous()
        stacked = self.relu(self.bn(self.conv_layer(stacked.view(batch, -1, *stacked.shape[3:]))))
        stacked = stacked.view(batch, -1, 2, *stacked.shape[2:]).permute(0, 1, 3, 4, 2).float().contiguous()
        with torch.autocast(x.device.type, enabled=False):
            return torch.fft.irfftn(torch.complex(stacked[..., 0], stacked[..., 1]), s=size, dim=(-2, -1),
                                    norm="ortho")


class SpectralTransform(nn.Module):
    """The global branch: halve the channels (1 x 1, BN, ReLU), add a Fourier unit's output,
    restore the channels (1 x 1). LaMa's local Fourier unit (`enable_lfu`) is off in every
    released configuration and is not built here."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.downsample = nn.AvgPool2d(2, 2) if stride == 2 else nn.Identity()
        half = out_channels // 2
        self.conv1 = nn.Sequential(nn.Conv2d(in_channels, half, 1, bias=False), nn.BatchNorm2d(half),
                                   nn.ReLU(inplace=True))
        self.fu = FourierUnit(half, half)
        self.conv2 = nn.Conv2d(half, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(self.downsample(x))
        return self.conv2(x + self.fu(x))


def _split(channels: int, ratio: float) -> tuple[int, int]:
    """(local, global) channels of a map whose global share is `ratio` (LaMa's int() rounding)."""
    global_channels = int(channels * ratio)
    return channels - global_channels, global_channels


class FFC(nn.Module):
    """A fast Fourier convolution: local->local, local->global, global->local convolutions (reflect
    padding, no bias) and global->global spectral transform; a path with no channels on either
    side is absent and adds nothing (LaMa's nn.Identity applied to 0)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, ratio_gin: float, ratio_gout: float,
                 stride: int = 1, padding: int = 0, dilation: int = 1):
        super().__init__()
        in_l, in_g = _split(in_channels, ratio_gin)
        out_l, out_g = _split(out_channels, ratio_gout)
        self.ratio_gout = ratio_gout

        def conv(cin: int, cout: int) -> nn.Conv2d | None:
            if not cin or not cout:
                return None
            return nn.Conv2d(cin, cout, kernel_size, stride, padding, dilation, bias=False, padding_mode="reflect")

        self.convl2l, self.convl2g, self.convg2l = conv(in_l, out_l), conv(in_l, out_g), conv(in_g, out_l)
        self.convg2g = SpectralTransform(in_g, out_g, stride) if in_g and out_g else None

    def forward(self, x: Pair) -> Pair:
        x_l, x_g = x
        out_l = out_g = None
        if self.ratio_gout != 1:
            out_l = _sum(_apply(self.convl2l, x_l), _apply(self.convg2l, x_g))
        if self.ratio_gout != 0:
            out_g = _sum(_apply(self.convl2g, x_l), _apply(self.convg2g, x_g))
        return out_l, out_g


def _apply(module: nn.Module | None, x: torch.Tensor | None) -> torch.Tensor | None:
    return None if module is None or x is None else module(x)


def _sum(a: torch.Tensor | None, b: torch.Tensor | None) -> torch.Tensor | None:
    return b if a is None else a if b is None else a + b


class FFCBNAct(nn.Module):
    """FFC, then BatchNorm and an activation on each part (LaMa's FFC_BN_ACT)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, ratio_gin: float, ratio_gout: float,
                 stride: int = 1, padding: int = 0, dilation: int = 1, activation: type[nn.Module] = nn.ReLU):
        super().__init__()
        self.ffc = FFC(in_channels, out_channels, kernel_size, ratio_gin, ratio_gout, stride, padding, dilation)
        out_l, out_g = _split(out_channels, ratio_gout)
        self.bn_l = nn.BatchNorm2d(out_l) if ratio_gout != 1 else None
        self.bn_g = nn.BatchNorm2d(out_g) if ratio_gout != 0 else None
        self.act = activation(inplace=True)

    def forward(self, x: Pair) -> Pair:
        x_l, x_g = self.ffc(x)
        x_l = None if x_l is None else self.act(self.bn_l(x_l))
        x_g = None if x_g is None else self.act(self.bn_g(x_g))
        return x_l, x_g


class FFCResnetBlock(nn.Module):
    """Two FFC-BN-ReLU layers and a residual connection on each part."""

    def __init__(self, channels: int, ratio: float):
        super().__init__()
        self.conv1 = FFCBNAct(channels, channels, 3, ratio, ratio, padding=1)
        self.conv2 = FFCBNAct(channels, channels, 3, ratio, ratio, padding=1)

    def forward(self, x: Pair) -> Pair:
        out_l, out_g = self.conv2(self.conv1(x))
        return _sum(x[0], out_l), _sum(x[1], out_g)


class ConcatTuple(nn.Module):
    """The (local, global) pair back to one tensor, local channels first."""

    def forward(self, x: Pair) -> torch.Tensor:
        return x[0] if x[1] is None else x[1] if x[0] is None else torch.cat(x, dim=1)


class LamaGenerator(nn.Module):
    """LaMa's FFCResNetGenerator with the released settings: input the image in [0, 1] with the
    hole zeroed and the mask (4 channels), a 7 x 7 FFC stem, `downsamplings` strided FFCs (the
    last one switches to `ratio` global channels), `blocks` FFC ResNet blocks, transposed
    convolutions back up, a 7 x 7 convolution and a sigmoid. Keys are LaMa's (`model.N....`)."""

    def __init__(self, blocks: int = 18, ngf: int = 64, downsamplings: int = 3, ratio: float = 0.75,
                 input_nc: int = 4, output_nc: int = 3, max_features: int = 1024):
        super().__init__()
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), FFCBNAct(input_nc, ngf, 7, 0, 0)]
        for i in range(downsamplings):
            cin, cout = min(max_features, ngf * 2 ** i), min(max_features, ngf * 2 ** (i + 1))
            layers.append(FFCBNAct(cin, cout, 3, 0, ratio if i == downsamplings - 1 else 0, stride=2, padding=1))
        width = min(max_features, ngf * 2 ** downsamplings)
        layers += [FFCResnetBlock(width, ratio) for _ in range(blocks)]
        layers.append(ConcatTuple())
        for i in range(downsamplings):
            cin = min(max_features, ngf * 2 ** (downsamplings - i))
            cout = min(max_features, ngf * 2 ** (downsamplings - i) // 2)
            layers += [nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1), nn.BatchNorm2d(cout),
                       nn.ReLU(inplace=True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Sigmoid()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: B x 4 x H x W (image in [0, 1] with the hole zeroed, mask 1 = hole); H and W
        multiples of 2**downsamplings. Returns B x 3 x H x W in [0, 1]."""
        for layer in self.model:
            if isinstance(layer, (FFCBNAct, FFCResnetBlock)) and isinstance(x, torch.Tensor):
                x = (x, None)  # the stem: all channels local
            x = layer(x)
        return x


class NLayerDiscriminator(nn.Module):
    """pix2pixHD's PatchGAN (LaMa's NLayerDiscriminator, pix2pixhd_nlayer.yaml: ndf 64, 4 layers):
    4 x 4 convolutions, BatchNorm from the second, LeakyReLU 0.2; returns the patch logits and
    the activations of every block before them (LaMa's feature-matching loss reads them)."""

    def __init__(self, input_nc: int = 3, ndf: int = 64, n_layers: int = 4):
        super().__init__()
        self.n_layers = n_layers
        blocks = [[nn.Conv2d(input_nc, ndf, 4, 2, 2), nn.LeakyReLU(0.2, True)]]
        width = ndf
        for i in range(1, n_layers + 1):
            previous, width = width, min(width * 2, 512)
            stride = 2 if i < n_layers else 1
            blocks.append([nn.Conv2d(previous, width, 4, stride, 2), nn.BatchNorm2d(width), nn.LeakyReLU(0.2, True)])
        blocks.append([nn.Conv2d(width, 1, 4, 1, 2)])
        for i, block in enumerate(blocks):
            setattr(self, f"model{i}", nn.Sequential(*block))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        activations = []
        for i in range(self.n_layers + 2):
            x = getattr(self, f"model{i}")(x)
            activations.append(x)
        return activations[-1], activations[:-1]
