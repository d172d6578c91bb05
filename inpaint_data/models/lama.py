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
import torch.nn.functional as F
from torch import nn

from .settings import Setting

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


# ----------------------------------------------------------------------------- as a registry entry
#: LaMa's own training settings (registry.py lists them; the CLI makes an option of each). The
#: values are configs/training/big-lama.yaml's and what it includes (docs/references.md).
SETTINGS = (
    Setting("blocks", int, "FFC ResNet blocks (big-lama 18, lama-fourier 9).", minimum=1),
    Setting("ngf", int, "Generator width of the first layer.", minimum=1),
    Setting("ndf", int, "Discriminator width of the first layer.", minimum=1),
    Setting("d_lr", float, "The discriminator's learning rate.", minimum=0, exclusive=True),
    Setting("l1_weight", float, "Weight of L1 on the known region (0 in the hole).", minimum=0),
    Setting("adv_weight", float, "Weight of the non-saturating adversarial loss.", minimum=0),
    Setting("gp_coef", float, "R1 penalty on real images in D's loss.", minimum=0),
    Setting("fm_weight", float, "Weight of D's feature matching.", minimum=0),
    Setting("perceptual", str, "hrf: LaMa's high-receptive-field loss (ADE20k ResNet50-dilated, --hrf-weights); "
            "vgg: our VGG16 pool1-3 loss instead (a departure, docs/training.md).", choices=("hrf", "vgg")),
    Setting("perceptual_weight", float, "Weight of the perceptual loss.", minimum=0),
    Setting("hrf_weights", str, "LaMa's ade20k-resnet50dilated-ppm_deepsup/encoder_epoch_20.pth.", path=True),
    Setting("vgg_weights", str, "--perceptual vgg: torchvision ImageNet VGG16 state_dict (default: the HED "
            "backbone).", path=True),
    Setting("random_perceptual", bool, "An untrained perceptual network (tests only).", default=False),
    Setting("clip", float, "Gradient norm clipping of each optimiser's step (0: off).", minimum=0),
)


def check_config(config: dict) -> dict:
    """Sizes divisible by 8 (three downsamplings); the perceptual loss's weights must be given,
    and load (checked before a run starts, not in its workers)."""
    if config["size"] % 8:
        raise ValueError(f"lama needs a size divisible by 8, got {config['size']}")
    if config["perceptual"] == "hrf" and not config.get("hrf_weights") and not config.get("random_perceptual"):
        raise ValueError("LaMa's perceptual loss needs --hrf-weights (ade20k-resnet50dilated-ppm_deepsup/"
                         "encoder_epoch_20.pth, from LaMa's release); or give --perceptual vgg to train with our "
                         "VGG16 perceptual loss instead (a departure from LaMa: docs/training.md)")
    if config["perceptual"] == "hrf" and config.get("hrf_weights") and not config.get("random_perceptual"):
        from .hrf import load_hrf_encoder

        load_hrf_encoder(config["hrf_weights"])  # refused here, in one line, not in every worker later
    return {}


def predict(generator: nn.Module, image: torch.Tensor, mask: torch.Tensor, sketch: torch.Tensor | None) -> torch.Tensor:
    """LaMa's prediction for images in [-1, 1] (ours) : it sees the image in [0, 1] with the hole
    zeroed and the mask, and answers in [0, 1]."""
    known = (image + 1) / 2 * (1 - mask)
    return generator(torch.cat([known, mask], dim=1)) * 2 - 1


def setup_training(trainee, config: dict, device: torch.device, wrap) -> None:
    """The NLayer discriminator and its Adam (lr `d_lr`, Adam's default betas as LaMa's), and
    the perceptual network (frozen)."""
    trainee.discriminator = wrap(NLayerDiscriminator(ndf=config["ndf"]).to(device))
    trainee.optimizers["discriminator"] = torch.optim.Adam(trainee.discriminator.parameters(), lr=config["d_lr"],
                                                           betas=tuple(config["betas"]))
    if config["perceptual"] == "hrf":
        from .hrf import load_hrf_encoder

        network = load_hrf_encoder(config.get("hrf_weights"), random_weights=config.get("random_perceptual", False))
    else:
        from .vgg import load_vgg

        network = load_vgg(config.get("vgg_weights"), random_weights=config.get("random_perceptual", False))
    trainee.losses["perceptual"] = network.to(device)
    trainee.settings.update({k: config[k] for k in ("l1_weight", "adv_weight", "gp_coef", "fm_weight",
                                                    "perceptual", "perceptual_weight", "clip")})


def _perceptual(trainee, fake01: torch.Tensor, real01: torch.Tensor) -> torch.Tensor:
    """LaMa's ResNetPL: the sum over the encoder's four stages of the MSE between the features
    of the prediction and of the truth (ImageNet-standardised inputs); with `vgg`, the same over
    VGG16's pool1-3 (inputs in [-1, 1])."""
    network = trainee.losses["perceptual"]
    if trainee.settings["perceptual"] == "vgg":
        fake01, real01 = fake01 * 2 - 1, real01 * 2 - 1
    with torch.no_grad():
        targets = network(real01)
    return torch.stack([F.mse_loss(f, t) for f, t in zip(network(fake01), targets)]).sum()


def train_step(trainee, batch: dict, device: torch.device) -> dict[str, float]:
    """LaMa's step (saicinpainting/training/trainers/default.py), generator first as Lightning
    calls it: L1 on the known region, non-saturating adversarial loss, D's feature matching and
    the perceptual loss on the raw prediction; then the discriminator on a new prediction
    (softplus losses, the hole as the fake region, R1 on real images)."""
    s = trainee.settings
    image, mask = (batch["image"] + 1) / 2, batch["mask"]
    x = torch.cat([image * (1 - mask), mask], dim=1)
    trainee.steps += 1
    discriminator = trainee.discriminator
    # ---------------------------------------------------------------------- the generator step
    discriminator.requires_grad_(False)
    with trainee.autocast(device):
        fake = trainee.generator(x)
        l1 = s["l1_weight"] * ((1 - mask) * (fake - image).abs()).mean()
        real_logits, real_features = discriminator(image)
        fake_logits, fake_features = discriminator(fake)
        adversarial = s["adv_weight"] * F.softplus(-fake_logits.float()).mean()
        matching = s["fm_weight"] * torch.stack(
            [F.mse_loss(f.float(), r.float()) for f, r in zip(fake_features, real_features)]).mean()
        perceptual = s["perceptual_weight"] * _perceptual(trainee, fake, image).float()
    g_loss = l1.float() + adversarial + matching + perceptual
    trainee.apply(g_loss, "generator", clip=s["clip"])
    discriminator.requires_grad_(True)
    # ------------------------------------------------------------------ the discriminator step
    with torch.no_grad(), trainee.autocast(device):
        fake = trainee.generator(x)
    real = image.detach().requires_grad_(True)
    with trainee.autocast(device):
        real_logits, _ = discriminator(real)
        fake_logits, _ = discriminator(fake.detach())
    real_logits, fake_logits = real_logits.float(), fake_logits.float()
    grad, = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    r1 = grad.pow(2).flatten(1).sum(1).mean()
    hole = F.interpolate(mask, size=fake_logits.shape[-2:], mode="nearest")
    fake_loss = F.softplus(fake_logits) * hole + (1 - hole) * F.softplus(-fake_logits)
    d_loss = (F.softplus(-real_logits) + s["gp_coef"] * r1 + fake_loss).mean()
    trainee.apply(d_loss, "discriminator", clip=s["clip"])
    return {"loss": g_loss.item(), "l1_known": l1.item(), "adversarial": adversarial.item(),
            "feature_matching": matching.item(), "perceptual": perceptual.item(), "d_loss": d_loss.item(),
            "r1": r1.item()}
