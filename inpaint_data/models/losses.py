"""Losses of the inpainting models."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: The paper's weights: valid, hole, perceptual, style (out and comp, each), total variation.
PCONV_WEIGHTS = {"valid": 1.0, "hole": 6.0, "perceptual": 0.05, "style": 120.0, "tv": 0.1}


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """N x C x C Gram matrices divided by C * H * W, computed in float32 (safe under autocast)."""
    n, c, h, w = features.shape
    f = features.float().reshape(n, c, h * w)
    with torch.autocast(features.device.type, enabled=False):
        return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


def hole_tv(composite: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """Total variation of the composite over the 1-pixel dilation of the hole: L1 of horizontal
    and vertical neighbour differences where both pixels are in that region, each divided by the
    number of elements of the composite."""
    region = F.max_pool2d(hole, 3, stride=1, padding=1)
    both_x = region[..., :, 1:] * region[..., :, :-1]
    both_y = region[..., 1:, :] * region[..., :-1, :]
    dx = (composite[..., :, 1:] - composite[..., :, :-1]).abs() * both_x
    dy = (composite[..., 1:, :] - composite[..., :-1, :]).abs() * both_y
    return (dx.sum() + dy.sum()) / composite.numel()


class PConvLoss(nn.Module):
    """L_valid + 6 L_hole + 0.05 L_perc + 120 (L_style_out + L_style_comp) + 0.1 L_tv.

    forward(output, target, hole_mask) -> (total, terms). Images in [-1, 1], mask 1 = hole.
    L1 terms are means over all elements; perceptual and style use VGG16 pool1..pool3 of the
    output and of the composite (output in the hole, target elsewhere).
    """

    def __init__(self, vgg: nn.Module, weights: dict[str, float] | None = None):
        super().__init__()
        self.vgg = vgg
        self.weights = {**PCONV_WEIGHTS, **(weights or {})}

    def forward(self, output: torch.Tensor, target: torch.Tensor, hole_mask: torch.Tensor):
        hole = hole_mask.expand_as(output)
        valid = 1 - hole
        composite = hole * output + valid * target
        terms = {
            "valid": (valid * (output - target)).abs().mean(),
            "hole": (hole * (output - target)).abs().mean(),
        }
        feats_out = self.vgg(output)
        feats_comp = self.vgg(composite)
        with torch.no_grad():
            feats_gt = self.vgg(target)
        terms["perceptual"] = sum(
            (o - g).abs().mean() + (c - g).abs().mean() for o, c, g in zip(feats_out, feats_comp, feats_gt)
        )
        grams_gt = [gram_matrix(g) for g in feats_gt]
        terms["style_out"] = sum((gram_matrix(o) - g).abs().mean() for o, g in zip(feats_out, grams_gt))
        terms["style_comp"] = sum((gram_matrix(c) - g).abs().mean() for c, g in zip(feats_comp, grams_gt))
        terms["tv"] = hole_tv(composite, hole_mask)
        w = self.weights
        total = (w["valid"] * terms["valid"] + w["hole"] * terms["hole"] + w["perceptual"] * terms["perceptual"]
                 + w["style"] * (terms["style_out"] + terms["style_comp"]) + w["tv"] * terms["tv"])
        return total, terms


def hinge_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """SN-PatchGAN discriminator loss as DeepFill v2's code computes it:
    0.5 mean(relu(1 - D(real))) + 0.5 mean(relu(1 + D(fake)))."""
    return 0.5 * F.relu(1 - real_logits).mean() + 0.5 * F.relu(1 + fake_logits).mean()


def deepfill_g_loss(fake_logits: torch.Tensor, coarse: torch.Tensor, fine: torch.Tensor, target: torch.Tensor,
                    gan_weight: float = 1.0, l1_weight: float = 1.0) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Generator loss: -mean(D(fake)) plus the L1 of the coarse and the fine output over the
    whole image (weights 1, as released)."""
    terms = {
        "gan": -fake_logits.mean(),
        "l1_coarse": (coarse - target).abs().mean(),
        "l1_fine": (fine - target).abs().mean(),
    }
    return gan_weight * terms["gan"] + l1_weight * (terms["l1_coarse"] + terms["l1_fine"]), terms
