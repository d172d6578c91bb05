"""Filling holes: OpenCV baselines and exported models, on uint8 images of any size. The known
pixels of the result are the input's, bit for bit."""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from . import storage
from .errors import InputError, first_line

BASELINES = ("telea", "navier-stokes", "mean-fill", "patchmatch")
#: PatchMatch's patches: 7 x 7 pixels (radius 3), Barnes et al. 2009's size; the search is seeded
#: alike for every image, so a fill depends on the image and the hole alone.
PATCHMATCH_RADIUS = 3
PATCHMATCH_SEED = 0


def _patchmatch(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """PatchMatch (Barnes et al. 2009), the classical baseline of the DeepFill papers, by the
    pypatchmatch package (an optional dependency: `pip install "inpaint-data[patchmatch]"`)."""
    try:
        from patchmatch import patch_match
    except ImportError:
        raise InputError('baseline patchmatch needs the pypatchmatch package: pip install "inpaint-data[patchmatch]"') \
            from None
    if not patch_match.patchmatch_available:
        raise InputError("baseline patchmatch: pypatchmatch is installed but its native library did not load")
    patch_match.set_random_seed(PATCHMATCH_SEED)
    return patch_match.inpaint(np.ascontiguousarray(image), hole.astype(np.uint8), patch_size=PATCHMATCH_RADIUS)


def composite_uint8(filled: np.ndarray, image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The filled pixels in the hole, the original ones elsewhere (H x W x 3 uint8, hole bool H x W)."""
    return np.where(hole[..., None], filled, image)


def without_hole(images: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """`images` (... x H x W x 3) with the hole's pixels zeroed: what every filler is given, so
    that none can score by returning the truth it was handed (cv2.inpaint keeps the hole's pixels
    when nothing is known; a model may copy its input)."""
    return np.where(holes[..., None], np.uint8(0), images)


def baseline_fill(image: np.ndarray, hole: np.ndarray, method: str, radius: int = 5) -> np.ndarray:
    """OpenCV's Telea or Navier-Stokes inpainting, PatchMatch, or the mean colour of the known
    pixels; the hole's pixels are zeroed first."""
    image = without_hole(image, hole)
    if method == "mean-fill":
        known = ~hole
        mean = image[known].mean(0) if known.any() else np.full(3, 127.5)
        filled = np.broadcast_to(np.round(mean).astype(np.uint8), image.shape)
    elif method in ("telea", "navier-stokes"):
        flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
        filled = cv2.inpaint(np.ascontiguousarray(image), hole.astype(np.uint8) * 255, radius, flag)
    elif method == "patchmatch":
        filled = _patchmatch(image, hole)
    else:
        raise ValueError(f"unknown baseline {method!r}; expected one of {BASELINES}")
    return composite_uint8(filled, image, hole)


def _padded(x, m, multiple: int, mode: str = "reflect"):
    """Pad image and mask tensors on the bottom and right to a multiple of `multiple`
    (models.padding: "reflect", or LaMa's "symmetric")."""
    from .models.padding import pad_to_multiple

    return pad_to_multiple(x, m, multiple, mode)


def _to_tensors(images: np.ndarray, holes: np.ndarray, device):
    """B x H x W x 3 uint8 and B x H x W bool -> B x 3 x H x W float in 0..255 and B x 1 x H x W, 1 = hole."""
    import torch

    x = torch.from_numpy(without_hole(images, holes)).permute(0, 3, 1, 2).float().to(device)
    m = torch.from_numpy(np.ascontiguousarray(holes, dtype=np.float32))[:, None].to(device)
    return x, m


def _to_uint8(out, images: np.ndarray, holes: np.ndarray, signed: bool) -> np.ndarray:
    """A B x 3 x H' x W' output in [-1, 1] (`signed`) or [0, 1], cropped to H x W and composited
    into the inputs."""
    h, w = holes.shape[1:]
    out = out[:, :, :h, :w]
    out = (out.clamp(-1, 1) + 1) * 127.5 if signed else out.clamp(0, 1) * 255
    filled = out.round().byte().permute(0, 2, 3, 1).cpu().numpy()
    return np.where(holes[..., None], filled, images)


class ModelFiller:
    """An exported model (`inpaint-data export`) as a hole filler for images of any size: each
    batch is padded to the model's multiple (as its entry says), filled, cropped back and composited."""

    def __init__(self, path: str | Path, device: str = "cpu"):
        import torch

        from .models.exported import load_exported
        from .models.registry import model_entry

        self.model, self.config, self.train_size = load_exported(path, device)
        self.entry = model_entry(self.config["model"])
        self.device = torch.device(device)
        self.multiple = self.entry.multiple(self.config)
        self.sketch = bool(self.config.get("sketch"))

    def fill_batch(self, images: np.ndarray, holes: np.ndarray, sketches: np.ndarray | None = None) -> np.ndarray:
        """B images of one size (B x H x W x 3 uint8, holes B x H x W bool) -> B filled composites."""
        import torch
        import torch.nn.functional as F

        x, m = _to_tensors(images, holes, self.device)
        x, m = _padded(x / 127.5 - 1, m, self.multiple, self.entry.padding)
        s = None
        if self.sketch:
            s = torch.zeros_like(m)
            if sketches is not None:
                ph, pw = m.shape[2] - holes.shape[1], m.shape[3] - holes.shape[2]
                s = F.pad(torch.from_numpy((sketches > 0).astype(np.float32))[:, None].to(self.device), (0, pw, 0, ph))
            s = s * m
        with torch.no_grad():
            out = self.entry.predict(self.model, x, m, s)
        return _to_uint8(out, images, holes, signed=True)

    def fill(self, image: np.ndarray, hole: np.ndarray, sketch: np.ndarray | None = None) -> np.ndarray:
        return self.fill_batch(image[None], hole[None], None if sketch is None else sketch[None])[0]


#: TorchScript models in LaMa's `to_jit.py` convention (big-lama.pt as iopaint loads it):
#: forward(image B x 3 x H x W in [0, 1], mask B x 1 x H x W with 1 = hole) -> B x 3 x H x W in
#: [0, 1]. Sizes are padded to this multiple unless the file says otherwise (iopaint pads big-lama to 8).
TORCHSCRIPT_MULTIPLE = 8


#: The flag that consents to running a TorchScript model's code (eval, inpaint).
TRUST_FLAG = "--trust-model-code"


class TorchScriptFiller:
    """A TorchScript model (`export --torchscript`, or one traced elsewhere such as big-lama.pt).
    A TorchScript file is a program: loading and calling it runs its code (it can read and write
    files), so it is loaded only with `trust_code=True`, the user's explicit consent."""

    def __init__(self, path: str | Path, device: str = "cpu", multiple: int | None = None, trust_code: bool = False):
        import json

        import torch

        from .models.exported import TORCHSCRIPT_INFO

        if not trust_code:
            raise InputError(f"torchscript:{storage.redact(str(path))} is a TorchScript program: loading it runs "
                             f"code from the file; give {TRUST_FLAG} if you trust it")
        extra = {TORCHSCRIPT_INFO: ""}
        source = io.BytesIO(storage.read_bytes(path)) if storage.is_remote(path) else str(path)
        try:
            self.model = torch.jit.load(source, map_location=device, _extra_files=extra).eval()
        except (RuntimeError, ValueError) as e:
            raise InputError(f"{path} is not a TorchScript model we can load ({first_line(e, 160)})") from None
        self.info = json.loads(extra[TORCHSCRIPT_INFO]) if extra[TORCHSCRIPT_INFO] else {}
        self.multiple = multiple or self.info.get("multiple", TORCHSCRIPT_MULTIPLE)
        self.train_size = self.info.get("train_size")
        self.device = torch.device(device)
        self.sketch = False

    def fill_batch(self, images: np.ndarray, holes: np.ndarray, sketches: np.ndarray | None = None) -> np.ndarray:
        import torch

        x, m = _to_tensors(images, holes, self.device)
        x, m = _padded(x / 255, m, self.multiple)
        try:
            with torch.no_grad():
                out = self.model(x, m)
        except (RuntimeError, MemoryError) as e:  # its own code failed (torch.jit errors are RuntimeErrors)
            raise InputError(f"the TorchScript model failed on a {tuple(x.shape)} batch: {first_line(e, 200)}") \
                from None
        if not isinstance(out, torch.Tensor) or out.shape != x.shape:
            raise InputError(f"the TorchScript model returned {getattr(out, 'shape', type(out).__name__)} for a "
                             f"{tuple(x.shape)} image; expected the same shape")
        return _to_uint8(out, images, holes, signed=False)

    def fill(self, image: np.ndarray, hole: np.ndarray, sketch: np.ndarray | None = None) -> np.ndarray:
        return self.fill_batch(image[None], hole[None])[0]


#: The --model prefix of a TorchScript file.
TORCHSCRIPT = "torchscript:"


@dataclass(frozen=True)
class ModelChoice:
    """What --model or --baseline names: a baseline (`name` its name), an exported model (data) or
    a TorchScript file (code), `name` the file's location. `str()` gives the --model text back."""

    kind: str  # "baseline", "exported" or "torchscript"
    name: str

    def __str__(self) -> str:
        return TORCHSCRIPT + self.name if self.kind == "torchscript" else self.name

    def at(self, location: str) -> ModelChoice:
        """The same choice with the file at `location` (a baseline is returned as it is)."""
        return self if self.kind == "baseline" else replace(self, name=location)


class FillerError(InputError):
    """The model file named could not be loaded (not one of ours, unsafe, code without consent)."""


def parse_model(model: str | None, baseline: str | None) -> ModelChoice:
    """The one reading of --model / --baseline (exactly one of them): a baseline's name is
    checked, a model file must exist (a path or a URL; `torchscript:` marks TorchScript)."""
    if (model is None) == (baseline is None):
        raise InputError("give --model or --baseline")
    if baseline is not None:
        if baseline not in BASELINES:
            raise InputError(f"unknown baseline {baseline!r}; expected one of {BASELINES}")
        return ModelChoice("baseline", baseline)
    kind = "torchscript" if model.startswith(TORCHSCRIPT) else "exported"
    location = model.removeprefix(TORCHSCRIPT)
    if not storage.is_file(location):
        raise InputError(f"--model {model}: no such file")
    return ModelChoice(kind, location)


def make_filler(model: str | None, baseline: str | None, device: str = "cpu", trust_code: bool = False):
    """(fill(image, hole), fill_batch(images, holes) or None, filler object or None) for an
    exported model, a `torchscript:PATH` model (with `trust_code` only) or a baseline name
    (exactly one of them). FillerError when the file does not load."""
    choice = parse_model(model, baseline)
    if choice.kind == "baseline":
        return (lambda image, hole, sketch=None: baseline_fill(image, hole, choice.name)), None, None
    filler = load_filler(str(choice), device, trust_code)
    return filler.fill, filler.fill_batch, filler


def describe_filler(model: str | None, baseline: str | None, filler) -> str:
    """`baseline telea`, `model run/df.pt (deepfillv2)` or `model torchscript:x.pt (TorchScript)`."""
    if baseline:
        return f"baseline {baseline}"
    return f"model {model} ({filler.config['model'] if hasattr(filler, 'config') else 'TorchScript'})"


def load_filler(model: str, device: str = "cpu", trust_code: bool = False):
    """`torchscript:PATH` -> TorchScriptFiller (refused unless `trust_code`), any other path ->
    ModelFiller (an exported model: plain data). FillerError when the file does not load."""
    try:
        if model.startswith(TORCHSCRIPT):
            return TorchScriptFiller(model.removeprefix(TORCHSCRIPT), device, trust_code=trust_code)
        return ModelFiller(model, device)
    except FillerError:
        raise
    except ValueError as e:
        raise FillerError(str(e)) from None
