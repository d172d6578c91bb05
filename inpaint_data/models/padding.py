"""Padding images to a model's size step and back, in TorchScript so that an exported model
(`export --torchscript`) pads itself: a caller may hand it any size, as IOPaint does (it pads
big-lama's inputs to 8 only)."""

from __future__ import annotations

import warnings
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def symmetric(t: Tensor, rows: int, cols: int) -> Tensor:
    """numpy's "symmetric" padding on the bottom and right (the edge pixel repeated, then the
    image mirrored; periodically when the padding is larger than the image), as LaMa's
    `pad_img_to_modulo` pads."""
    for dim, amount in [(-2, rows), (-1, cols)]:
        while amount > 0:
            mirrored = t.flip([dim]).narrow(dim, 0, min(amount, t.shape[dim]))
            t = torch.cat([t, mirrored], dim)
            amount = amount - mirrored.shape[dim]
    return t


def pad_to_multiple(image: Tensor, mask: Tensor, multiple: int, mode: str = "reflect") -> Tuple[Tensor, Tensor]:
    """Image and mask (B x C x H x W) padded on the bottom and right to a multiple of `multiple`.
    "reflect" (replicate where the image is too small to reflect): the padding is known pixels,
    the mask 0 there. "symmetric" (LaMa's predict.py): image and mask mirrored alike."""
    h, w = image.shape[-2], image.shape[-1]
    rows, cols = (multiple - h % multiple) % multiple, (multiple - w % multiple) % multiple
    if rows == 0 and cols == 0:
        return image, mask
    if mode == "symmetric":
        return symmetric(image, rows, cols), symmetric(mask, rows, cols)
    fill = "reflect" if rows < h and cols < w else "replicate"
    return F.pad(image, [0, cols, 0, rows], mode=fill), F.pad(mask, [0, cols, 0, rows], value=0.0)


def crop_to(t: Tensor, like: Tensor) -> Tensor:
    """`t` cropped on the bottom and right to the height and width of `like`."""
    return t[:, :, : like.shape[-2], : like.shape[-1]]


def _scripted(function):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch >= 2.10 deprecates TorchScript; IOPaint runs it
        return torch.jit.script(function)


symmetric = _scripted(symmetric)
pad_to_multiple = _scripted(pad_to_multiple)
crop_to = _scripted(crop_to)
