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


#: Reporting bins of later papers: LaMa's ten 10 % bins (bin/calc_dataset_stats.py:
#: searchsorted(linspace(0, 1, 11), ratio) - 1, clipped: (lo, hi], 0 in the first) and CoModGAN's
#: five 0.2 hole ranges (metric_defaults.py h0..h4; its masks lie strictly inside them, reported
#: here as [lo, hi), 1.0 in the last). NVIDIA's six are (lo, hi] from 0.01, as the paper reports.
BIN_SCHEMES = {
    "nvidia": NVIDIA_BIN_EDGES,
    "lama": tuple(round(0.1 * i, 1) for i in range(11)),
    "comodgan": (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
}


def bin_labels(scheme: str = "nvidia") -> tuple[str, ...]:
    """Printed labels of a scheme's bins: "(0.1,0.2]" for NVIDIA and LaMa, "[0.2,0.4)" for CoModGAN."""
    edges = scheme_edges(scheme)
    if scheme == "nvidia":
        return NVIDIA_BIN_LABELS
    pairs = list(zip(edges[:-1], edges[1:]))
    if scheme == "lama":
        return tuple(f"{'[' if lo == 0 else '('}{lo:g},{hi:g}]" for lo, hi in pairs)
    return tuple(f"[{lo:g},{hi:g}{']' if hi == 1 else ')'}" for lo, hi in pairs)


def scheme_edges(scheme: str) -> tuple[float, ...]:
    try:
        return BIN_SCHEMES[scheme]
    except KeyError:
        raise ValueError(f"unknown bins {scheme!r}; expected one of {sorted(BIN_SCHEMES)}") from None


def ratio_bin(ratio: float, scheme: str = "nvidia") -> int | None:
    """Index of the scheme's bin holding `ratio`, or None when no bin holds it."""
    if scheme == "nvidia":
        return nvidia_bin(ratio)
    edges = scheme_edges(scheme)
    if not edges[0] <= ratio <= edges[-1]:
        return None
    side = "left" if scheme == "lama" else "right"
    return int(np.clip(np.searchsorted(edges, ratio, side=side) - 1, 0, len(edges) - 2))


def known_distance(mask: np.ndarray) -> float | None:
    """LaMa's "Dist 2known" (bin/calc_dataset_stats.py): the mean Euclidean distance, in pixels,
    from each hole pixel to the nearest known pixel. None for a mask with no hole or no known pixel."""
    from scipy.ndimage import distance_transform_edt

    hole = mask > 0
    if not hole.any() or hole.all():
        return None
    return float(distance_transform_edt(hole)[hole].mean())


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
#: Draws that may miss the inner region of a no-border mask before one is drawn on it (cut there);
#: ten times as many once a draw of the same mask has fitted (the style can fit, it was unlucky).
PLACEMENT_TRIES = 50
#: Draws a grown mask may unite, and draws in a row that may overshoot the range before it stops.
MAX_LAYERS = 64
LAYER_MISSES = 20


def nvidia_cell(index: int) -> tuple[int, bool]:
    """The (bin, with_border) cell of sample `index` in a balanced set: 12 cells in turn, so
    every bin gets the same count, half with border holes and half without."""
    cell = index % (2 * (len(NVIDIA_BIN_EDGES) - 1))
    return cell // 2, cell % 2 == 0


def bin_range(b: int) -> tuple[float, float]:
    return NVIDIA_BIN_EDGES[b], NVIDIA_BIN_EDGES[b + 1]


def draw_inside(
    draw, height: int, width: int, margin: int, rng: np.random.Generator, tries: int = PLACEMENT_TRIES
) -> tuple[np.ndarray, bool]:
    """One draw whose holes keep `margin` px from the border, without straight cuts: drawn on the
    whole canvas and moved to a random place inside the margin when its holes fit there and do
    not touch the canvas edge (where the style itself cuts them). After `tries` misses (styles
    whose lines cross the canvas, e.g. PConv-Keras), drawn on the inner canvas. Returns the mask
    and whether a whole draw was placed."""
    inner_h, inner_w = height - 2 * margin, width - 2 * margin
    out = np.zeros((height, width), np.uint8)
    for _ in range(tries):
        mask = draw(height, width, rng)
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if len(rows) == 0:
            return mask, True
        top, bottom, left, right = rows[0], rows[-1], cols[0], cols[-1]
        bh, bw = bottom - top + 1, right - left + 1
        if top == 0 or left == 0 or bottom == height - 1 or right == width - 1 or bh > inner_h or bw > inner_w:
            continue
        y = margin + int(rng.integers(0, inner_h - bh + 1))
        x = margin + int(rng.integers(0, inner_w - bw + 1))
        out[y : y + bh, x : x + bw] = mask[top : bottom + 1, left : right + 1]
        return out, True
    out[margin : height - margin, margin : width - margin] = draw(inner_h, inner_w, rng)
    return out, False


def add_layers(mask: np.ndarray, draw_one, lo: float, hi: float, max_layers: int) -> tuple[np.ndarray, int]:
    """Unite further draws of the style with `mask` until its hole ratio passes `lo`: more strokes
    (boxes, shapes) of the same generator, never wider ones. A draw that would overshoot `hi` is
    left out; LAYER_MISSES of those in a row, or `max_layers` draws, end it. Returns (mask, draws)."""
    layers, misses = 1, 0
    ratio = hole_ratio(mask)
    while ratio <= lo and layers < max_layers and misses < LAYER_MISSES:
        merged = np.maximum(mask, draw_one())
        merged_ratio = hole_ratio(merged)
        if merged_ratio > hi:
            misses += 1
            continue
        mask, ratio, layers, misses = merged, merged_ratio, layers + 1, 0
    return mask, layers


def fit_hole_ratio(
    draw,
    height: int,
    width: int,
    rng: np.random.Generator,
    hole_range: tuple[float, float],
    border: bool | None = None,
    dilate: bool = False,
    max_ratio: float = 1.0,
    max_layers: int = 1,
) -> tuple[np.ndarray, dict]:
    """Draw masks until one has lo < hole ratio <= hi (and the border status asked for).

    `draw(height, width, rng)` makes one mask. A mask without border holes is placed inside the
    no-border margin (`draw_inside`). With `dilate`, a mask with too few holes is grown into the
    range instead of being thrown away: first by uniting up to `max_layers` draws of the style
    (`add_layers`), then, as a last resort, by dilating it to a ratio drawn uniformly in the range
    (capped at `max_ratio`). Returns the mask and {"attempts", "layers", "dilation"} (the dilation
    radius in px, 0 if none).
    """
    from .augment import dilate_to_ratio

    lo, hi = hole_range
    hi = min(hi, max_ratio)
    if not 0 <= lo < hi <= 1:
        raise ValueError(f"hole range ({lo}, {hi}] is empty (this style allows at most {max_ratio:g})")
    margin = border_margin(height, width) if border is False else 0
    placed = {"whole": False, "cut": False}

    def draw_one() -> np.ndarray:
        if not margin:
            return draw(height, width, rng)
        tries = 10 * PLACEMENT_TRIES if placed["whole"] else 0 if placed["cut"] else PLACEMENT_TRIES
        mask, whole = draw_inside(draw, height, width, margin, rng, tries)
        placed["whole" if whole else "cut"] = True
        return mask

    for attempt in range(1, MAX_ATTEMPTS + 1):
        mask = draw_one()
        layers, radius = 1, 0.0
        ratio = hole_ratio(mask)
        if dilate and ratio <= lo and max_layers > 1:
            mask, layers = add_layers(mask, draw_one, lo, hi, max_layers)
            ratio = hole_ratio(mask)
        if dilate and ratio <= lo:
            grown = dilate_to_ratio(mask, float(rng.uniform(lo, hi)), margin)
            if grown is not None:
                mask, radius = grown
                ratio = hole_ratio(mask)
        if lo < ratio <= hi and (border is None or border == touches_border(mask)):
            return mask, {"attempts": attempt, "layers": layers, "dilation": radius}
    how = "drawing and growing" if dilate else "drawing (try --dilate)"
    raise ValueError(
        f"no mask with hole ratio in ({lo:g}, {hi:g}]"
        + ("" if border is None else (" with" if border else " without") + " border holes")
        + f" after {MAX_ATTEMPTS} tries of {how} at {width}x{height}"
    )
