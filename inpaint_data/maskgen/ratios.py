"""Hole ratio, the NVIDIA hole-ratio bins and the border rule of the partial-convolution test set."""

from __future__ import annotations

import numpy as np

#: Upper edges of the six NVIDIA bins (0.01,0.1], (0.1,0.2], ..., (0.5,0.6].
NVIDIA_BIN_EDGES = (0.01, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
NVIDIA_BIN_LABELS = tuple(
    f"({lo:g},{hi:g}]" for lo, hi in zip(NVIDIA_BIN_EDGES[:-1], NVIDIA_BIN_EDGES[1:])
)
#: Margin without holes of the "no border" masks, in pixels at a 512 px short side.
BORDER_MARGIN_AT_512 = 50


def hole_ratio(mask: np.ndarray) -> float:
    """Fraction of hole pixels (non-zero) in a H x W mask."""
    return float(np.count_nonzero(mask)) / mask.size


def nvidia_bin(ratio: float) -> int | None:
    """Index 0..5 of the NVIDIA bin holding `ratio`, or None outside (0.01, 0.6]."""
    if not NVIDIA_BIN_EDGES[0] < ratio <= NVIDIA_BIN_EDGES[-1]:
        return None
    return int(np.searchsorted(NVIDIA_BIN_EDGES, ratio, side="left")) - 1


def border_margin(height: int, width: int) -> int:
    """The no-border margin scaled with the short side (50 px at 512, 25 px at 256)."""
    return int(round(BORDER_MARGIN_AT_512 * min(height, width) / 512))


def touches_border(mask: np.ndarray) -> bool:
    """True when a hole pixel lies within the scaled margin of the image border."""
    h, w = mask.shape
    m = border_margin(h, w)
    if m == 0:
        return False
    inner = mask[m : h - m, m : w - m]
    return int(np.count_nonzero(mask)) != int(np.count_nonzero(inner))


def bin_histogram(ratios) -> dict[str, int]:
    """Counts per NVIDIA bin label, plus "outside" for ratios in no bin."""
    counts = {label: 0 for label in NVIDIA_BIN_LABELS}
    counts["outside"] = 0
    for r in ratios:
        b = nvidia_bin(r)
        counts["outside" if b is None else NVIDIA_BIN_LABELS[b]] += 1
    return counts
