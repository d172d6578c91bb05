"""The registry of free-form mask styles, and `mixed`, a weighted choice between them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from .boxes import box_mask
from .comodgan import COMODGAN_TRIES, comodgan_mask, lama_outpainting, mat_large, mat_small, random_mask
from .presets import (
    LAMA_MAX_TAMPER_AREA,
    LAMA_PRESETS,
    choose,
    deepfill_train,
    lama_preset,
    lama_train,
)
from .shapes import pconv_keras_mask
from .strokes import deepfill_strokes


@dataclass(frozen=True)
class Style:
    """A named generator: draw(height, width, rng, **options) -> uint8 mask, 255 = hole."""

    draw: Callable[..., np.ndarray]
    about: str
    max_hole_ratio: float = 1.0  # a cap the style itself enforces (LaMa's evaluation presets)


STYLES: dict[str, Style] = {
    "box": Style(box_mask, "DeepFill v2's training box (96..128 px at 256, scaled with the canvas)"),
    "deepfill": Style(deepfill_strokes, "DeepFill v2 brush strokes (1..3 strokes, 12..39 px wide)"),
    "deepfill-train": Style(deepfill_train, "DeepFill v2 training masks: strokes OR its box"),
    "pconv-keras": Style(pconv_keras_mask, "PConv-Keras lines, filled circles and elliptical arcs"),
    "lama-train": Style(lama_train, "big-lama training mix: 50% irregular strokes, 50% boxes"),
    **{
        name: Style(partial(lama_preset, name=name), f"LaMa evaluation preset {name[5:]} (<= 50% holes)",
                    LAMA_MAX_TAMPER_AREA)
        for name in LAMA_PRESETS
    },
    "lama-outpainting": Style(lama_outpainting, "LaMa outpainting: 4..25% strips along random sides"),
    "comodgan": Style(comodgan_mask, "CoModGAN RandomMask: rectangles and 12..47 px strokes, any hole ratio"),
    **{
        f"comodgan-h{i}": Style(partial(random_mask, tries=COMODGAN_TRIES, hole_range=(0.2 * i, 0.2 * (i + 1))),
                                f"CoModGAN evaluation bucket h{i}: holes in ({0.2 * i:g}, {0.2 * (i + 1):g})",
                                0.2 * (i + 1))
        for i in range(5)
    },
    "mat-large": Style(mat_large, "MAT large masks (its mask_generator_512: fewer tries than CoModGAN)"),
    "mat-small": Style(mat_small, "MAT small masks (its mask_generator_512_small)"),
}
MIXED = "mixed"


def parse_mix(text: str) -> dict[str, float]:
    """`deepfill:0.5,box:0.5` -> {"deepfill": 0.5, "box": 0.5}, checked against STYLES."""
    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, weight = part.partition(":")
        if name not in STYLES:
            raise ValueError(f"unknown style {name!r} in the mix; expected one of {sorted(STYLES)}")
        try:
            weights[name] = float(weight) if weight else 1.0
        except ValueError:
            raise ValueError(f"weight {weight!r} of {name!r} is not a number") from None
        if weights[name] < 0:
            raise ValueError(f"weight of {name!r} is negative")
    if not weights or sum(weights.values()) <= 0:
        raise ValueError("the mix needs at least one style with a positive weight, e.g. deepfill:0.5,box:0.5")
    return weights


def draw_mask(
    style: str, height: int, width: int, rng: np.random.Generator, **options
) -> tuple[np.ndarray, str]:
    """A mask of the named style and the style that drew it (for `mixed`, the chosen component).

    `mixed` takes `mix={"deepfill": 0.5, "box": 0.5}`; `box` takes box_mask's options.
    """
    if style == MIXED:
        mix = options["mix"]
        names = sorted(mix)
        style = names[choose(rng, [mix[n] for n in names])]
        options = {}
    try:
        spec = STYLES[style]
    except KeyError:
        raise ValueError(f"unknown mask style {style!r}; expected one of {sorted(STYLES)} or {MIXED}") from None
    return spec.draw(height, width, rng, **options), style


def max_hole_ratio(style: str, **options) -> float:
    """The highest hole ratio the style allows (its own cap; 1 when it has none)."""
    if style == MIXED:
        return max(STYLES[n].max_hole_ratio for n in options["mix"])
    return STYLES[style].max_hole_ratio
