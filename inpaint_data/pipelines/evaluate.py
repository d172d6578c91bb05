"""Evaluation as the papers report it: every test image paired with a fixed mask, filled, and
scored on the composite per hole-ratio bin (NVIDIA's, LaMa's or CoModGAN's), with and without
border holes: L1, L2, PSNR, SSIM per image, LPIPS per image, FID and P-IDS / U-IDS per row."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..datasets.codec import decode_sample
from ..datasets.geometry import crop, crop_box, resize_short_side
from ..datasets.images import (
    MAX_PIXELS,
    ImageError,
    find_images,
    read_gray8,
    read_rgb,
    write_image,
)
from ..datasets.readers import detect_format, read_samples, shard_paths, shard_records
from ..fileio import atomic_write_bytes, dumps_json
from ..maskgen.ratios import bin_labels, hole_ratio, ratio_bin, touches_border
from ..metrics import l1, l2, psnr, ssim
from ..report import image_grid
from ..set_metrics import fid, inception_discriminative_scores
from .eval_scoring import FeatureScorer

GROUPS = ("all", "border", "no border")
#: PSNR of a fill equal to the truth is infinite; it is reported as this many dB (JSON has no inf).
PSNR_CAP = 100.0


def _is_shard_folder(path: str) -> bool:
    try:
        return Path(path).is_dir() and bool(shard_paths(path))
    except ValueError:
        return False


def _shard_images(path: str) -> Iterator[tuple[str, np.ndarray]]:
    """Images of a shard folder, shard by shard, in key order within each shard (one shard in
    memory at a time; our jobs number keys across shards, so this is key order overall)."""
    for shard in shard_paths(path, detect_format(path)):
        samples = [decode_sample(key, members) for key, members in shard_records(shard)]
        yield from sorted(((s.key, s.image) for s in samples if s.image is not None), key=lambda t: t[0])


def load_images(path: str, skipped: list[dict] | None = None,
                max_pixels: int | None = MAX_PIXELS) -> Iterator[tuple[str, np.ndarray]]:
    """(key, RGB image) from an output folder of shards or from image files, in key order, read
    one at a time; unreadable files are left out and appended to `skipped` as {"path", "reason"}."""
    if _is_shard_folder(path):
        yield from _shard_images(path)
        return
    for file, key in sorted(find_images([path]), key=lambda t: t[1]):
        try:
            yield key, read_rgb(file, max_pixels)
        except ImageError as e:
            if skipped is not None:
                skipped.append({"path": file, "reason": str(e)})


@dataclass(frozen=True)
class PackedMask:
    """A hole mask kept at one bit a pixel (12,000 masks at 256 x 256: 98 MB, not 786 MB)."""

    key: str
    shape: tuple[int, int]
    bits: np.ndarray

    @classmethod
    def pack(cls, key: str, hole: np.ndarray) -> "PackedMask":
        return cls(key, tuple(hole.shape), np.packbits(hole, axis=None))

    def hole(self) -> np.ndarray:
        return np.unpackbits(self.bits, count=self.shape[0] * self.shape[1]).reshape(self.shape).astype(bool)


def load_masks(path: str, skipped: list[dict] | None = None,
               max_pixels: int | None = MAX_PIXELS) -> list[PackedMask]:
    """Bit-packed holes from a mask output folder (json hole_value respected) or PNG files, in
    key order; unreadable mask files are left out and appended to `skipped` as {"path", "reason"}."""
    masks = []
    if _is_shard_folder(path):
        for s in read_samples(path):
            if s.mask is not None:
                hole = s.mask == 0 if s.meta.get("hole_value", 255) == 0 else s.mask > 127
                masks.append(PackedMask.pack(s.key, hole))
    else:
        for file, key in find_images([path]):
            try:
                masks.append(PackedMask.pack(key, read_gray8(file, max_pixels) > 127))
            except ImageError as e:
                if skipped is not None:
                    skipped.append({"path": file, "reason": str(e)})
    if not masks:
        raise ValueError(f"no readable masks in {path}")
    return sorted(masks, key=lambda m: m.key)


@dataclass
class Case:
    key: str
    mask_key: str
    ratio: float
    bin: int | None
    border: bool
    metrics: dict[str, float]


@dataclass
class Evaluation:
    """The scored cases, the (input | output | truth) strips of the worst and best by PSNR, and
    per feature network the features of the truths and of the composites (rows as cases)."""

    cases: list[Case]
    strips: list[tuple[Case, np.ndarray]]
    features: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def fit_image(image: np.ndarray, h: int, w: int) -> np.ndarray:
    """Resize the short side and centre-crop an image to h x w."""
    side = max(h, w)
    if min(image.shape[:2]) != side:
        image = resize_short_side(image, side)
    top, left = crop_box(*image.shape[:2], side, "center")
    return np.ascontiguousarray(crop(image, top, left, side)[:h, :w])


def _pairs(images: str, masks: list[PackedMask], skipped, max_pixels) -> Iterator[tuple[str, np.ndarray, PackedMask]]:
    """(image key, image, mask) for k = 0 .. max(N, M) - 1: image k mod N with mask k mod M, the
    images read one at a time (and read again from the start while masks remain)."""
    k = 0
    for key, image in load_images(images, skipped, max_pixels):
        yield key, image, masks[k % len(masks)]
        k += 1
    while 0 < k < len(masks):  # fewer images than masks
        for key, image in load_images(images, None, max_pixels):
            if k == len(masks):
                return
            yield key, image, masks[k]
            k += 1


def _batches(pairs, batch_size: int):
    """Runs of up to `batch_size` pairs whose masks have one size (models take one size a batch)."""
    batch: list = []
    for pair in pairs:
        if batch and (len(batch) == batch_size or pair[2].shape != batch[0][2].shape):
            yield batch
            batch = []
        batch.append(pair)
    if batch:
        yield batch


def evaluate(images: str, masks: str, fill: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
             keep_worst_best: int = 4, skipped: list[dict] | None = None, max_pixels: int | None = MAX_PIXELS,
             fill_batch: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None, batch_size: int = 16,
             bins: str = "nvidia", scorer: FeatureScorer | None = None) -> Evaluation:
    """Score a filler on max(images, masks) pairs: pair k is image k mod N with mask k mod M, both
    in key order (so a few images can cover a whole mask set); images are resized and
    centre-cropped to the mask size. `fill(image, hole) -> filled uint8` fills one image,
    `fill_batch(images, holes)` a batch of one size. Memory: one batch of images, the masks at
    one bit a pixel, and per case the scorer's features. Unreadable images and masks are left
    out and appended to `skipped`."""
    if fill_batch is None:
        def fill_batch(batch_images, holes):
            return np.stack([fill(image, hole) for image, hole in zip(batch_images, holes)])
    mask_list = load_masks(masks, skipped, max_pixels)
    cases, strips = [], []
    features: dict[str, tuple[list, list]] = {}
    for batch in _batches(_pairs(images, mask_list, skipped, max_pixels), batch_size):
        holes = np.stack([m.hole() for _, _, m in batch])
        truths = np.stack([fit_image(image, *m.shape) for _, image, m in batch])
        filled = fill_batch(truths, holes)
        extra = scorer.score(truths, filled) if scorer else {}
        for name, (real, fake) in extra.pop("features", {}).items():
            features.setdefault(name, ([], []))
            features[name][0].append(real)
            features[name][1].append(fake)
        for i, (key, _, mask) in enumerate(batch):
            truth, out, hole = truths[i], filled[i], holes[i]
            ratio = hole_ratio(hole)
            case = Case(key, mask.key, ratio, ratio_bin(ratio, bins), touches_border(hole.astype(np.uint8)), {
                "l1": 100 * l1(out, truth), "l2": 100 * l2(out, truth), "psnr": min(psnr(out, truth), PSNR_CAP),
                "ssim": ssim(out, truth), **{name: float(values[i]) for name, values in extra.items()}})
            cases.append(case)
            masked = truth.copy()
            masked[hole] = 255
            strips.append((case, np.hstack([masked, out, truth])))
            if len(strips) > 4 * keep_worst_best:  # keep memory flat: only candidates for the grid
                strips.sort(key=lambda t: t[0].metrics["psnr"])
                strips = strips[:keep_worst_best] + strips[-keep_worst_best:]
    strips.sort(key=lambda t: t[0].metrics["psnr"])
    chosen = strips[:keep_worst_best] + strips[-keep_worst_best:] if len(strips) > 2 * keep_worst_best else strips
    stacked = {name: (np.concatenate(real), np.concatenate(fake)) for name, (real, fake) in features.items()}
    return Evaluation(cases, chosen, stacked)


#: Per-case metrics averaged in each row (those present), and the set metrics after them.
CASE_METRICS = ("l1", "l2", "psnr", "ssim", "lpips_alex", "lpips_vgg")
SET_METRICS = ("fid", "p_ids", "u_ids")


def summarise(cases: list[Case], bins: str = "nvidia",
              features: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> list[dict]:
    """Rows per (bin, group) with the mean per-case metrics and, with Inception features, FID
    (at least 2 cases) and P-IDS / U-IDS of the row's cases in the "all" group (the papers do
    not split them by border); bins with no case are left out."""
    rows = []
    labels = bin_labels(bins)
    inception = (features or {}).get("inception")
    for b, label in [*enumerate(labels), (None, "all bins")]:
        for group in GROUPS:
            chosen = [i for i, c in enumerate(cases) if (b is None or c.bin == b)
                      and (group == "all" or c.border == (group == "border"))]
            if not chosen:
                continue
            row = {"bin": label, "group": group, "count": len(chosen)}
            for name in CASE_METRICS:
                if name in cases[chosen[0]].metrics:
                    row[name] = float(np.mean([cases[i].metrics[name] for i in chosen]))
            if inception is not None and group == "all":
                real, fake = inception[0][chosen], inception[1][chosen]
                row["fid"] = fid(real, fake) if len(chosen) >= 2 else None
                row["p_ids"], row["u_ids"] = inception_discriminative_scores(real, fake)
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
    names = [n for n in (*CASE_METRICS, *SET_METRICS) if rows and n in rows[-1]]
    writer = csv.DictWriter(table, fieldnames=["bin", "group", "count", *names])
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(out / "metrics.csv", table.getvalue().encode())
    if strips:
        write_image(out / "worst_best.png", image_grid([[strip] for _, strip in strips], background=255))
