"""The learned metrics of `eval`: Inception features for FID and P-IDS / U-IDS, and LPIPS, computed
a batch at a time on the chosen device from weights files the user supplies (nothing is
downloaded). A metric whose file is not given is left out; `missing_metrics` says which flag
provides it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class MetricWeights:
    """Files for the learned metrics (None: that metric is left out)."""

    inception: str | None = None
    lpips_backbones: dict[str, str] = field(default_factory=dict)  # "alex" / "vgg" -> torchvision file
    lpips_heads: dict[str, str] = field(default_factory=dict)  # default: the installed lpips package's


def missing_metrics(weights: MetricWeights) -> list[str]:
    """One line per learned metric left out, naming the flag that provides it."""
    lines = []
    if not weights.inception:
        lines.append("FID, P-IDS, U-IDS left out: give --inception-weights pt_inception-2015-12-05-6726825d.pth "
                     "(pytorch-fid's release)")
    if not weights.lpips_backbones:
        lines.append("LPIPS left out: give --lpips-backbone alex=alexnet-owt-7be5be79.pth and/or "
                     "vgg=vgg16-397923af.pth (torchvision's ImageNet weights)")
    return lines


def check_weights(weights: MetricWeights) -> None:
    """The checks `FeatureScorer.from_weights` makes (files present, sha256 of the releases)
    without building the networks: for a driver that leaves the scoring to Ray actors."""
    from ...models.inception import check_fid_weights
    from ...models.lpips import check_lpips_files

    if weights.inception:
        check_fid_weights(weights.inception)
    for net, path in weights.lpips_backbones.items():
        check_lpips_files(net, path, weights.lpips_heads.get(net))


class FeatureScorer:
    """The metric networks on one device; `score` takes a batch of truths and composites."""

    def __init__(self, inception=None, lpips: dict | None = None, device: str = "cpu"):
        import torch

        self.device = torch.device(device)
        self.inception = inception.to(self.device) if inception is not None else None
        self.lpips = {net: model.to(self.device) for net, model in sorted((lpips or {}).items())}

    @classmethod
    def from_weights(cls, weights: MetricWeights, device: str = "cpu") -> "FeatureScorer":
        """The networks built from the user's files, each sha256-checked against its release."""
        from ...models.inception import load_fid_inception
        from ...models.lpips import load_lpips

        inception = load_fid_inception(weights.inception) if weights.inception else None
        lpips = {net: load_lpips(net, path, weights.lpips_heads.get(net))
                 for net, path in weights.lpips_backbones.items()}
        return cls(inception, lpips, device)

    def score(self, truths: np.ndarray, filled: np.ndarray) -> dict:
        """{"features": {"inception": (B x 2048, B x 2048)}, "lpips_alex": B values, ...} for
        B x H x W x 3 uint8 truths and composites."""
        import torch

        def tensor(images):
            return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().to(self.device) / 255

        out: dict = {"features": {}}
        with torch.no_grad():
            real, fake = tensor(truths), tensor(filled)
            if self.inception is not None:
                out["features"]["inception"] = (self.inception(real).cpu().numpy(), self.inception(fake).cpu().numpy())
            for net, model in self.lpips.items():
                out[f"lpips_{net}"] = model(real * 2 - 1, fake * 2 - 1).cpu().numpy()
        return out
