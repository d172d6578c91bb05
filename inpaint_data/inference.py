"""Filling holes: OpenCV baselines and exported models, on uint8 images of any size. The known
pixels of the result are the input's, bit for bit."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

BASELINES = ("telea", "navier-stokes", "mean-fill")


def composite_uint8(filled: np.ndarray, image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The filled pixels in the hole, the original ones elsewhere (H x W x 3 uint8, hole bool H x W)."""
    return np.where(hole[..., None], filled, image)


def baseline_fill(image: np.ndarray, hole: np.ndarray, method: str, radius: int = 5) -> np.ndarray:
    """OpenCV's Telea or Navier-Stokes inpainting, or the mean colour of the known pixels."""
    if method == "mean-fill":
        known = ~hole
        mean = image[known].mean(0) if known.any() else np.full(3, 127.5)
        filled = np.broadcast_to(np.round(mean).astype(np.uint8), image.shape)
    elif method in ("telea", "navier-stokes"):
        flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
        filled = cv2.inpaint(np.ascontiguousarray(image), hole.astype(np.uint8) * 255, radius, flag)
    else:
        raise ValueError(f"unknown baseline {method!r}; expected one of {BASELINES}")
    return composite_uint8(filled, image, hole)


class ModelFiller:
    """An exported model (`inpaint-data export`) as a hole filler for images of any size: each
    image is padded (reflect) to the model's multiple, filled, cropped back and composited."""

    def __init__(self, path: str | Path, device: str = "cpu"):
        import torch

        from .models.exported import load_model
        from .models.registry import model_entry

        self.model, self.config = load_model(path, device)
        self.entry = model_entry(self.config["model"])
        self.device = torch.device(device)
        self.multiple = self.entry.multiple(self.config)
        self.sketch = bool(self.config.get("sketch"))

    def fill(self, image: np.ndarray, hole: np.ndarray, sketch: np.ndarray | None = None) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        h, w = hole.shape
        ph, pw = -h % self.multiple, -w % self.multiple
        x = torch.from_numpy(image).permute(2, 0, 1)[None].float().to(self.device) / 127.5 - 1
        m = torch.from_numpy(hole.astype(np.float32))[None, None].to(self.device)
        mode = "reflect" if ph < h and pw < w else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
        m = F.pad(m, (0, pw, 0, ph), value=0.0)
        s = None
        if self.sketch:
            s = torch.zeros_like(m) if sketch is None else F.pad(
                torch.from_numpy((sketch > 0).astype(np.float32))[None, None].to(self.device), (0, pw, 0, ph))
            s = s * m
        with torch.no_grad():
            out = self.entry.predict(self.model, x, m, s)
        out = out[0, :, :h, :w].clamp(-1, 1)
        filled = ((out + 1) * 127.5).round().byte().permute(1, 2, 0).cpu().numpy()
        return composite_uint8(filled, image, hole)
