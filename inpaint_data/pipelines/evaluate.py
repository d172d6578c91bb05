"""Evaluation as the papers report it: every test image paired with a fixed mask, filled, and
scored on the composite per NVIDIA hole-ratio bin, with and without border holes."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..datasets.geometry import crop, crop_box, resize_short_side
from ..datasets.images import (
    MAX_PIXELS,
    ImageError,
    find_images,
    read_gray8,
    read_rgb,
    write_image,
)
from ..datasets.readers import read_samples, shard_paths
from ..fileio import atomic_write_bytes, dumps_json
from ..maskgen.ratios import NVIDIA_BIN_LABELS, hole_ratio, nvidia_bin, touches_border
from ..metrics import l1, l2, psnr, ssim
from ..report import image_grid

GROUPS = ("all", "border", "no border")
#: PSNR of a fill equal to the truth is infinite; it is reported as this many dB (JSON has no inf).
PSNR_CAP = 100.0


def _is_shard_folder(path: str) -> bool:
    try:
        return Path(path).is_dir() and bool(shard_paths(path))
    except ValueError:
        return False


def load_images(path: str, skipped: list[dict] | None = None,
                max_pixels: int | None = MAX_PIXELS) -> Iterator[tuple[str, np.ndarray]]:
    """(key, RGB image) from an output folder of shards or from image files, sorted by key;
    unreadable files are left out and appended to `skipped` as {"path", "reason"}."""
    if _is_shard_folder(path):
        items = sorted(((s.key, s.image) for s in read_samples(path) if s.image is not None), key=lambda t: t[0])
        yield from items
        return
    for file, key in sorted(find_images([path]), key=lambda t: t[1]):
        try:
            yield key, read_rgb(file, max_pixels)
        except ImageError as e:
            if skipped is not None:
                skipped.append({"path": file, "reason": str(e)})


def load_masks(path: str, skipped: list[dict] | None = None,
               max_pixels: int | None = MAX_PIXELS) -> list[tuple[str, np.ndarray]]:
    """(key, bool hole) from a mask output folder (json hole_value respected) or PNG files;
    unreadable mask files are left out and appended to `skipped` as {"path", "reason"}."""
    masks = []
    if _is_shard_folder(path):
        for s in read_samples(path):
            if s.mask is not None:
                hole = s.mask == 0 if s.meta.get("hole_value", 255) == 0 else s.mask > 127
                masks.append((s.key, hole))
    else:
        for file, key in find_images([path]):
            try:
                masks.append((key, read_gray8(file, max_pixels) > 127))
            except ImageError as e:
                if skipped is not None:
                    skipped.append({"path": file, "reason": str(e)})
    if not masks:
        raise ValueError(f"no readable masks in {path}")
    return sorted(masks, key=lambda t: t[0])


@dataclass
class Case:
    key: str
    mask_key: str
    ratio: float
    bin: int | None
    border: bool
    metrics: dict[str, float]


def fit_image(image: np.ndarray, h: int, w: int) -> np.ndarray:
    """Resize the short side and centre-crop an image to h x w."""
    side = max(h, w)
    if min(image.shape[:2]) != side:
        image = resize_short_side(image, side)
    top, left = crop_box(*image.shape[:2], side, "center")
    return np.ascontiguousarray(crop(image, top, left, side)[:h, :w])


def evaluate(images: str, masks: str, fill: Callable[[np.ndarray, np.ndarray], np.ndarray],
             keep_worst_best: int = 4, skipped: list[dict] | None = None, max_pixels: int | None = MAX_PIXELS
             ) -> tuple[list[Case], list[tuple[Case, np.ndarray]]]:
    """Score `fill(image, hole) -> filled uint8` on max(images, masks) pairs: pair k is image
    k mod N with mask k mod M, both in key order (so a few images can cover a whole mask set);
    images are resized and centre-cropped to the mask size (held in memory at that size).
    Returns the cases and the (input | output | truth) strips of the worst and best by PSNR.
    Unreadable images and masks are left out and appended to `skipped`."""
    mask_list = load_masks(masks, skipped, max_pixels)
    h, w = mask_list[0][1].shape
    image_list = [(key, fit_image(image, h, w)) for key, image in load_images(images, skipped, max_pixels)]
    if not image_list:
        return [], []
    cases, strips = [], []
    for k in range(max(len(image_list), len(mask_list))):
        key, image = image_list[k % len(image_list)]
        mask_key, hole = mask_list[k % len(mask_list)]
        if hole.shape != image.shape[:2]:
            image = fit_image(image, *hole.shape)
        filled = fill(image, hole)
        ratio = hole_ratio(hole)
        case = Case(key, mask_key, ratio, nvidia_bin(ratio), touches_border(hole.astype(np.uint8)), {
            "l1": 100 * l1(filled, image), "l2": 100 * l2(filled, image), "psnr": min(psnr(filled, image), PSNR_CAP),
            "ssim": ssim(filled, image)})
        cases.append(case)
        masked = image.copy()
        masked[hole] = 255
        strips.append((case, np.hstack([masked, filled, image])))
        if len(strips) > 4 * keep_worst_best:  # keep memory flat: only candidates for the grid
            strips.sort(key=lambda t: t[0].metrics["psnr"])
            strips = strips[:keep_worst_best] + strips[-keep_worst_best:]
    strips.sort(key=lambda t: t[0].metrics["psnr"])
    chosen = strips[:keep_worst_best] + strips[-keep_worst_best:] if len(strips) > 2 * keep_worst_best else strips
    return cases, chosen


def summarise(cases: list[Case]) -> list[dict]:
    """Rows per (bin, group) with the mean metrics; bins with no case are left out."""
    rows = []
    labels = [(b, NVIDIA_BIN_LABELS[b]) for b in range(len(NVIDIA_BIN_LABELS))] + [(None, "all bins")]
    for b, label in labels:
        for group in GROUPS:
            chosen = [c for c in cases if (b is None or c.bin == b)
                      and (group == "all" or c.border == (group == "border"))]
            if not chosen:
                continue
            row = {"bin": label, "group": group, "count": len(chosen)}
            for name in ("l1", "l2", "psnr", "ssim"):
                values = [c.metrics[name] for c in chosen]
                row[name] = float(np.mean(values))
            rows.append(row)
    return rows


def write_report(out_dir: str | Path, rows: list[dict], cases: list[Case], strips, info: dict) -> None:
    """metrics.json (strict JSON: PSNR capped at PSNR_CAP, any other non-finite value null),
    metrics.csv and worst_best.png, each written under a temporary name and renamed."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = {**info, "rows": rows, "cases": [c.__dict__ for c in cases]}
    atomic_write_bytes(out / "metrics.json", dumps_json(report, indent=2).encode())
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=["bin", "group", "count", "l1", "l2", "psnr", "ssim"])
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(out / "metrics.csv", table.getvalue().encode())
    if strips:
        write_image(out / "worst_best.png", image_grid([[strip] for _, strip in strips], background=255))
