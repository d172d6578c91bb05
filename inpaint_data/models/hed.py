"""HED (Xie & Tu 2015): VGG16 conv1_1..conv5_3, a 1x1 side output after each block upsampled
bilinearly to the input size, and a 1x1 fusion of the five (docs/references.md, section 3).

Input: N x 3 x H x W, BGR in 0..255 minus the Caffe mean (see `preprocess`). Any size: pooling
uses ceil mode (Keras "same"), side outputs are resized to the exact input size.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .layers import CAFFE_BGR_MEAN, vgg_conv_blocks
from .precision import autocast, check_precision

#: Convolutions per VGG16 block and their channels.
VGG_BLOCKS = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))


class HED(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = vgg_conv_blocks(VGG_BLOCKS)
        self.sides = nn.ModuleList(nn.Conv2d(width, 1, 1) for _, width in VGG_BLOCKS)
        self.fuse = nn.Conv2d(len(VGG_BLOCKS), 1, 1)

    def side_logits(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The five side-output logits, each at the input's size."""
        size = x.shape[-2:]
        sides = []
        for i, (convs, side) in enumerate(zip(self.blocks, self.sides)):
            if i:
                x = F.max_pool2d(x, 2, 2, ceil_mode=True)
            for conv in convs:
                x = F.relu(conv(x), inplace=True)
            s = side(x)
            sides.append(s if i == 0 else F.interpolate(s, size=size, mode="bilinear", align_corners=False))
        return sides

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Fused edge probability, N x 1 x H x W in [0, 1]."""
        sides = self.side_logits(x)
        return torch.sigmoid(self.fuse(torch.cat(sides, dim=1)))


def preprocess(images: np.ndarray) -> torch.Tensor:
    """RGB uint8 N x H x W x 3 (or one H x W x 3) to HED's input: BGR, 0..255, minus the mean."""
    if images.ndim == 3:
        images = images[None]
    x = torch.from_numpy(np.ascontiguousarray(images[..., ::-1])).float()
    x -= torch.tensor(CAFFE_BGR_MEAN)
    return x.permute(0, 3, 1, 2).contiguous()


def detect_edges(
    model: HED,
    images: list[np.ndarray],
    batch_size: int = 8,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
) -> list[np.ndarray]:
    """Fused HED edge probabilities (float32 H x W in [0, 1]) for RGB uint8 images of any sizes.

    Images are batched with others of the same size, so no padding changes the result.
    fp16/bf16 run under autocast on CUDA only. channels_last throughout: oneDNN's CPU
    convolutions and CUDA's tensor cores are both faster in it (1.3x on CPU here).
    """
    device = torch.device(device)
    check_precision(precision)
    if precision != "fp32" and device.type != "cuda":
        raise ValueError(f"{precision} needs a CUDA device; use fp32 on {device.type}")
    memory_format = torch.channels_last
    model = model.to(device=device, memory_format=memory_format)
    by_size: dict[tuple[int, int], list[int]] = {}
    for i, image in enumerate(images):
        by_size.setdefault(image.shape[:2], []).append(i)
    out: list[np.ndarray | None] = [None] * len(images)
    with torch.inference_mode(), autocast(device.type, precision):
        for indices in by_size.values():
            for start in range(0, len(indices), batch_size):
                chunk = indices[start : start + batch_size]
                x = preprocess(np.stack([images[i] for i in chunk])).to(device, memory_format=memory_format)
                edges = model(x).float().cpu().numpy()[:, 0]
                for i, e in zip(chunk, edges):
                    out[i] = e
    return out  # type: ignore[return-value]
