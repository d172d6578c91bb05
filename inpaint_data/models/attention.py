"""Contextual attention (Yu et al. 2018), as DeepFill v2 uses it, with per-sample masks.

Every position of the foreground is matched (cosine similarity of 3x3 patches, at 1/rate
resolution) against the background patches that lie wholly outside the hole; the scores are
fused along both image axes to favour coherent matches, soft-maxed, and the matched background
patches (2*rate wide, at full resolution) are pasted back with a transposed convolution.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _diagonal_sum(x: torch.Tensor, k: int) -> torch.Tensor:
    """Convolution of N x A x B with a k x k identity kernel (zero padding), as shifted adds."""
    out = x.clone()
    for d in range(1, k // 2 + 1):
        out[:, d:, d:] += x[:, :-d, :-d]
        out[:, :-d, :-d] += x[:, d:, d:]
    return out


def _fuse(scores: torch.Tensor, fh: int, fw: int, bh: int, bw: int, k: int) -> torch.Tensor:
    """The official score fusion: an identity kernel over the (foreground, background) score
    image in row-major order, then again in column-major order (wrap-around included)."""
    n = scores.shape[0]
    x = _diagonal_sum(scores, k)
    x = x.view(n, fh, fw, bh, bw).permute(0, 2, 1, 4, 3).reshape(n, fw * fh, bw * bh)
    x = _diagonal_sum(x, k)
    return x.view(n, fw, fh, bw, bh).permute(0, 2, 1, 4, 3).reshape(n, fh * fw, bh * bw)


class ContextualAttention(nn.Module):
    """forward(foreground, background, hole_mask) -> (output, offsets).

    foreground/background: N x C x H x W features (H, W divisible by rate); hole_mask: N x 1 x H x W,
    1 = hole, one mask per sample. offsets: N x 2 x H/rate x W/rate, (dy, dx) of the best match,
    in units of the 1/rate grid. `batch_chunk` bounds memory (scores are N x P x P floats,
    P = H*W/rate^2); None processes the whole batch at once.
    """

    def __init__(self, ksize: int = 3, stride: int = 1, rate: int = 2, fuse_k: int = 3,
                 softmax_scale: float = 10.0, fuse: bool = True, batch_chunk: int | None = None):
        super().__init__()
        if stride != 1:
            raise ValueError("only stride 1 is supported (as DeepFill v2 uses it)")
        self.ksize, self.rate, self.fuse_k = ksize, rate, fuse_k
        self.softmax_scale, self.fuse, self.batch_chunk = softmax_scale, fuse, batch_chunk

    def forward(self, foreground: torch.Tensor, background: torch.Tensor, hole_mask: torch.Tensor):
        chunk = self.batch_chunk or foreground.shape[0]
        outs, offsets = [], []
        for start in range(0, foreground.shape[0], chunk):
            sl = slice(start, start + chunk)
            o, off = self._attend(foreground[sl], background[sl], hole_mask[sl])
            outs.append(o)
            offsets.append(off)
        return torch.cat(outs), torch.cat(offsets)

    def _attend(self, f: torch.Tensor, b: torch.Tensor, mask: torch.Tensor):
        n, c, h, w = f.shape
        r, k = self.rate, self.ksize
        raw = 2 * r
        # background patches at full resolution, for pasting: N x L x C x 2r x 2r
        raw_w = F.unfold(b, raw, stride=r, padding=(raw - r) // 2)
        # matching at 1/rate
        f_s = F.interpolate(f, scale_factor=1 / r, mode="nearest")
        b_s = F.interpolate(b, scale_factor=1 / r, mode="nearest")
        m_s = F.interpolate(mask, scale_factor=1 / r, mode="nearest")
        fh, fw = f_s.shape[-2:]
        bh, bw = b_s.shape[-2:]
        patches = F.unfold(b_s, k, padding=k // 2)  # N x C*k*k x L
        # max(|w|, 1e-4) as released, but clamped before the sqrt: the sqrt of an all-zero patch
        # (common after ReLU) has an infinite gradient, which turns into NaN
        norms = patches.pow(2).sum(1, keepdim=True).clamp_min(1e-8).sqrt()
        patches = patches / norms
        usable = (F.unfold(m_s, k, padding=k // 2).mean(1) == 0).to(f.dtype)  # N x L: wholly background
        queries = F.unfold(f_s, k, padding=k // 2)  # N x C*k*k x P
        scores = torch.bmm(queries.transpose(1, 2), patches)  # N x P x L
        if self.fuse:
            scores = _fuse(scores, fh, fw, bh, bw, self.fuse_k)
        scores = scores * usable[:, None]
        attention = torch.softmax(scores * self.softmax_scale, dim=2) * usable[:, None]
        best = attention.argmax(dim=2)  # N x P
        offsets = torch.stack([best // bw, best % bw], 1).view(n, 2, fh, fw)
        grid_y = torch.arange(fh, device=f.device).view(1, fh, 1)
        grid_x = torch.arange(fw, device=f.device).view(1, 1, fw)
        offsets = offsets - torch.stack([grid_y.expand(n, fh, fw), grid_x.expand(n, fh, fw)], 1)
        # paste back (the official transposed convolution): every position's attention-weighted
        # sum of raw background patches, overlapped and added at stride `rate`, divided by 4
        columns = torch.bmm(raw_w, attention.transpose(1, 2))  # N x C*2r*2r x P
        out = F.fold(columns, (h, w), raw, stride=r, padding=(raw - r) // 2) / 4.0
        return out, offsets


def flow_picture(offsets: torch.Tensor, scale: int = 1) -> torch.Tensor:
    """Attention offsets (N x 2 x h x w, dy dx) to an RGB picture in [0, 1]: hue = direction,
    saturation = length relative to the longest (no offset = white); upsampled by `scale`."""
    dy, dx = offsets[:, 0].float(), offsets[:, 1].float()
    hue = (torch.atan2(dy, dx) / (2 * math.pi)) % 1.0
    length = torch.sqrt(dx * dx + dy * dy)
    saturation = length / length.flatten(1).amax(1).clamp_min(1).view(-1, 1, 1)
    channels = []
    for shift in (5, 3, 1):  # HSV -> RGB with V = 1
        k = (shift + hue * 6) % 6
        channels.append(1 - saturation * torch.minimum(k, 4 - k).clamp(0, 1))
    rgb = torch.stack(channels, 1)
    if scale > 1:
        rgb = F.interpolate(rgb, scale_factor=scale, mode="nearest")
    return rgb
