"""What a mask set looks like: hole-ratio statistics per NVIDIA bin, a contact sheet of masks
and a hole-ratio histogram, both as images (uint8 arrays) a caller can save, or written with
the statistics by `write_mask_report` (`masks stats` and the demo)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from .. import storage
from ..errors import InputError
from ..maskgen.ratios import (
    NVIDIA_BIN_EDGES,
    NVIDIA_BIN_LABELS,
    bin_histogram,
    hole_ratio,
    known_distance,
    nvidia_bin,
)
from ..report import histogram_chart
from .images import write_image
from .readers import read_samples


@dataclass
class MaskSetStats:
    count: int
    hole_ratio_mean: float
    hole_ratio_sd: float
    bins: dict[str, int]
    border_by_bin: dict[str, int]
    styles: dict[str, int] = field(default_factory=dict)
    #: LaMa's distance from hole pixels to the nearest known pixel, per mask: mean, median, min, max.
    known_distance: dict[str, float] = field(default_factory=dict)


def mask_set_stats(path: str | Path, keep: int = 0) -> tuple[MaskSetStats, list[np.ndarray], np.ndarray]:
    """Statistics of every mask of an output folder, the first `keep` masks (255 = hole), and
    all hole ratios. Ratios come from each record's json, or from the mask when it has none."""
    ratios, borders, styles, kept, distances = [], [], Counter(), [], []
    for sample in read_samples(path):
        meta = sample.meta
        mask = sample.mask
        if meta.get("hole_value", 255) == 0:
            mask = 255 - mask
        ratios.append(float(meta["hole_ratio"]) if "hole_ratio" in meta else hole_ratio(mask))
        borders.append(bool(meta.get("border", False)))
        styles[meta.get("component", meta.get("style", "unknown"))] += 1
        distance = known_distance(mask > 127)
        if distance is not None:
            distances.append(distance)
        if len(kept) < keep:
            kept.append(mask)
    r = np.asarray(ratios, np.float64)
    border_by_bin = {label: 0 for label in NVIDIA_BIN_LABELS}
    for ratio, border in zip(ratios, borders):
        b = nvidia_bin(ratio)
        if b is not None and border:
            border_by_bin[NVIDIA_BIN_LABELS[b]] += 1
    stats = MaskSetStats(
        count=len(r),
        hole_ratio_mean=float(r.mean()) if len(r) else 0.0,
        hole_ratio_sd=float(r.std()) if len(r) else 0.0,
        bins=bin_histogram(ratios),
        border_by_bin=border_by_bin,
        styles=dict(sorted(styles.items())),
        known_distance={"mean": float(np.mean(distances)), "median": float(np.median(distances)),
                        "min": float(np.min(distances)), "max": float(np.max(distances))} if distances else {},
    )
    return stats, kept, r


def contact_sheet(masks: list[np.ndarray], columns: int = 8, thumb: int = 128, gap: int = 4) -> np.ndarray:
    """Masks side by side (holes white on black) on a grey background, each with its ratio."""
    if not masks:
        raise ValueError("no masks to show")
    rows = -(-len(masks) // columns)
    sheet = np.full((rows * (thumb + gap) + gap, columns * (thumb + gap) + gap), 96, np.uint8)
    for n, mask in enumerate(masks):
        h, w = mask.shape
        scale = thumb / max(h, w)
        small = cv2.resize(mask, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        y, x = gap + (n // columns) * (thumb + gap), gap + (n % columns) * (thumb + gap)
        sheet[y : y + small.shape[0], x : x + small.shape[1]] = small
        cv2.putText(sheet, f"{hole_ratio(mask):.2f}", (x + 3, y + thumb - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, 160, 1,
                    cv2.LINE_AA)
    return sheet


def histogram_image(ratios: np.ndarray, bins: int = 60) -> np.ndarray:
    """A histogram of hole ratios over [0, 0.6+], the NVIDIA bin edges marked (RGB)."""
    top = max(0.6, float(ratios.max()) if len(ratios) else 0.6)
    return histogram_chart(ratios, f"hole ratios of {len(ratios)} masks", "hole ratio", bins=bins,
                           value_range=(0.0, top), marks=NVIDIA_BIN_EDGES, mark_label="NVIDIA bin edges")


def write_mask_report(path: storage.Location, sheet: storage.Location, histogram: storage.Location,
                      keep: int = 64, columns: int = 8, thumb: int = 128) -> MaskSetStats:
    """The statistics of the mask set at `path`, with a contact sheet of its first `keep` masks
    written to `sheet` and its hole-ratio histogram to `histogram` (PNGs, folders made).
    InputError when the folder holds no masks."""
    stats, kept, ratios = mask_set_stats(path, keep=keep)
    if stats.count == 0:
        raise InputError(f"{path} holds no masks")
    sheet_image = contact_sheet(kept, columns=columns, thumb=thumb)
    for target, image in ((sheet, sheet_image), (histogram, histogram_image(ratios))):
        storage.make_dirs(storage.parent_of(target))
        write_image(target, image)
    return stats
