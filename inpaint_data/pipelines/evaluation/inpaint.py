"""The inpaint job: fill the holes of a folder (or file) of images with a model or a baseline,
one PNG per image under `out`. Runs in this process.

Nothing a user owns is touched: an `out` that holds an input is refused, and so are existing
PNGs there unless `overwrite` is set (both checked before the first image is filled). Each
output is written under a temporary name and renamed; unreadable images or masks are skipped
and reported, never fatal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ... import storage
from ...datasets.images import (
    MAX_PIXELS,
    ImageError,
    find_images,
    read_gray8,
    read_rgb,
    write_image,
)
from ...edges.sketch import DEEPFILL_THRESHOLD
from ...errors import InputError
from ...highres import HighResPolicy, fill_high_res
from ...inference import composite_uint8, describe_filler, make_filler, without_hole

Fill = Callable[..., np.ndarray]


@dataclass(frozen=True)
class InpaintJob:
    images: str
    masks: str  # one mask file for every image, or a folder of masks named like the images
    out: str
    sketches: str | None = None  # likewise, for DeepFill v2 with the sketch channel
    overwrite: bool = False
    max_pixels: int | None = MAX_PIXELS
    model: str | None = None  # an exported model or torchscript:PATH (inference.parse_model) ...
    baseline: str | None = None  # ... or a baseline's name
    device: str = "cpu"
    trust_code: bool = False  # a torchscript: model runs only with the user's consent
    hd: str = "auto"  # how an image larger than the model's training size is filled (highres.py)


@dataclass
class InpaintPlan:
    job: InpaintJob
    items: list[tuple[str, str]]  # (image path, key)
    shared_mask: np.ndarray | None = None  # the one mask, when `masks` is a file


@dataclass
class InpaintResult:
    filled: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    filler: str = ""  # what filled them, e.g. "baseline telea"
    strategies: dict[str, int] = field(default_factory=dict)  # images filled per --hd strategy


def _inside(location: str, folder: str) -> bool:
    """Whether `location` is `folder` or below it (absolute paths, or URLs: storage.absolute)."""
    return location == folder or location.startswith(folder.rstrip("/") + "/")


def plan_inpaint(job: InpaintJob) -> InpaintPlan:
    """The images to fill, after every check that needs no filling: raises InputError when `out`
    holds an input, when outputs exist without `overwrite`, or when a single --mask is unreadable."""
    items = find_images([job.images])
    if not items:
        raise InputError(f"no images found in {job.images}")
    out = storage.absolute(job.out)
    if storage.is_file(job.out):
        raise InputError(f"--out {job.out} is a file")
    for given in [job.images, job.masks] + ([job.sketches] if job.sketches else []):
        where = storage.absolute(given)
        if _inside(where, out) or _inside(out, where):
            raise InputError(f"--out {job.out} and input {given} overlap; choose an --out outside the inputs")
    if not job.overwrite:
        written = set(storage.list_names(job.out))
        existing = [key for _, key in items if f"{key}.png" in written]
        if existing:
            raise InputError(f"{len(existing)} outputs already exist in {job.out} (e.g. {existing[0]}.png); "
                             "add --overwrite to replace them")
    shared = None
    if storage.is_file(job.masks):
        try:
            shared = read_gray8(job.masks, job.max_pixels)
        except ImageError as e:
            raise InputError(f"--mask {job.masks}: {e}") from None
    return InpaintPlan(job, items, shared)


def _files_by_stem(folder: str) -> dict[str, str]:
    """stem -> location of the files in `folder` (the first name in sorted order per stem),
    listed once for the whole job."""
    index: dict[str, str] = {}
    for name in storage.list_files(folder):
        index.setdefault(Path(name).stem, str(storage.join(folder, name)))
    return index


def _named_like(index: dict[str, str], folder: str, image_path: str, key: str, max_pixels: int | None,
                required: bool = True) -> np.ndarray | None:
    """The file of `folder` (its `index`) named like the image (stem or key), decoded; when there
    is none, ImageError if `required`, else None."""
    found = sorted(index[n] for n in {Path(storage.name_of(image_path)).stem, key} if n in index)
    if not found:
        if required:
            raise ImageError(f"no mask named {key} in {folder}")
        return None
    try:
        return read_gray8(found[0], max_pixels)
    except ImageError as e:
        raise ImageError(f"{found[0]}: {e}") from None


def _fit(array: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if array.shape == shape:
        return array
    return cv2.resize(array, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)


def run_inpaint(job: InpaintJob) -> InpaintResult:
    """Load the job's filler, check everything (plan_inpaint), then fill every image. InputError
    before anything is written; `inference.FillerError` when the model file does not load."""
    fill, _, filler = make_filler(job.model, job.baseline, job.device, job.trust_code)
    # a baseline fills any size as it is; a model's training size scales IOPaint's constants
    policy = (HighResPolicy("original") if filler is None else
              HighResPolicy(job.hd, getattr(filler, "train_size", None) or HighResPolicy.train_size))
    result = fill_planned(plan_inpaint(job), fill, policy)
    result.filler = describe_filler(job.model, job.baseline, filler)
    return result


def fill_planned(plan: InpaintPlan, fill: Fill, policy: HighResPolicy = HighResPolicy("original")) -> InpaintResult:
    """Fill every planned image; `fill(image, hole, sketch)` returns the filled RGB uint8 image,
    applied to the whole image, its crops or a smaller copy as `policy` says (highres.py)."""
    job, result = plan.job, InpaintResult()
    storage.make_dirs(job.out)
    masks = _files_by_stem(job.masks) if plan.shared_mask is None else {}
    one_sketch = job.sketches is not None and storage.is_file(job.sketches)
    sketches = _files_by_stem(job.sketches) if job.sketches is not None and not one_sketch else {}
    for path, key in plan.items:
        try:
            image = read_rgb(path, job.max_pixels)
            mask = plan.shared_mask
            if mask is None:
                mask = _named_like(masks, job.masks, path, key, job.max_pixels)
            sketch = None
            if one_sketch:
                sketch = read_gray8(job.sketches, job.max_pixels)
            elif job.sketches is not None:
                sketch = _named_like(sketches, job.sketches, path, key, job.max_pixels, required=False)
        except ImageError as e:
            result.skipped.append((path, str(e)))
            continue
        hole = _fit(mask, image.shape[:2]) > 127
        if sketch is not None:
            sketch = _fit(sketch, hole.shape) > round(DEEPFILL_THRESHOLD * 255)
        # the filler sees no pixel of the hole
        filled, strategy = fill_high_res(fill, without_hole(image, hole), hole, sketch, policy)
        write_image(storage.join(job.out, f"{key}.png"), composite_uint8(filled, image, hole))
        result.filled += 1
        result.strategies[strategy] = result.strategies.get(strategy, 0) + 1
    return result
