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


#: Draws per mask before a hole-ratio target is declared out of the style's reach.
MAX_ATTEMPTS = 500


def nvidia_cell(index: int) -> tuple[int, bool]:
    """The (bin, with_border) cell of sample `index` in a balanced set: 12 cells in turn, so
    every bin gets the same count, half with border holes and half without."""
    cell = index % (2 * (len(NVIDIA_BIN_EDGES) - 1))
    return cell // 2, cell % 2 == 0


def bin_range(b: int) -> tuple[float, float]:
    return NVIDIA_BIN_EDGES[b], NVIDIA_BIN_EDGES[b + 1]


def fit_hole_ratio(
    draw,
    height: int,
    width: int,
    rng: np.random.Generator,
    hole_range: tuple[float, float],
    border: bool | None = None,
    dilate: bool = False,
    max_ratio: float = 1.0,
) -> tuple[np.ndarray, dict]:
    """Draw masks until one has lo < hole ratio <= hi (and the border status asked for).

    `draw(height, width, rng)` makes one mask. A mask without border holes is drawn on the
    canvas less the no-border margin and padded back. With `dilate`, a mask with too few holes
    is grown to a ratio drawn uniformly in the range (capped at `max_ratio`) instead of being
    thrown away. Returns the mask and {"attempts", "dilation"} (radius in px, 0 if none).
    """
    from .augment import dilate_to_ratio

    lo, hi = hole_range
    hi = min(hi, max_ratio)
    if not 0 <= lo < hi <= 1:
        raise ValueError(f"hole range ({lo}, {hi}] is empty (this style allows at most {max_ratio:g})")
    margin = border_margin(height, width) if border is False else 0
    for attempt in range(1, MAX_ATTEMPTS + 1):
        if margin:
            mask = np.zeros((height, width), np.uint8)
            mask[margin : height - margin, margin : width - margin] = draw(height - 2 * margin, width - 2 * margin, rng)
        else:
            mask = draw(height, width, rng)
        radius = 0.0
        ratio = hole_ratio(mask)
        if dilate and ratio <= lo:
            grown = dilate_to_ratio(mask, float(rng.uniform(lo, hi)), margin)
            if grown is not None:
                mask, radius = grown
                ratio = hole_ratio(mask)
        if lo < ratio <= hi and (border is None or border == touches_border(mask)):
            return mask, {"attempts": attempt, "dilation": radius}
    how = "drawing and dilating" if dilate else "drawing (try --dilate)"
    raise ValueError(
        f"no mask with hole ratio in ({lo:g}, {hi:g}]"
        + ("" if border is None else (" with" if border else " without") + " border holes")
        + f" after {MAX_ATTEMPTS} tries of {how} at {width}x{height}"
    )
