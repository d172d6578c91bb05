"""The registry of free-form mask styles: name -> drawing function (height, width, rng, **options)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .boxes import box_mask

MaskFn = Callable[..., np.ndarray]

STYLES: dict[str, MaskFn] = {
    "box": box_mask,
}


def draw_mask(style: str, height: int, width: int, rng: np.random.Generator, **options) -> np.ndarray:
    """A uint8 H x W mask (255 = hole) of the named style, all randomness drawn from `rng`."""
    try:
        fn = STYLES[style]
    except KeyError:
        raise ValueError(f"unknown mask style {style!r}; expected one of {sorted(STYLES)}") from None
    return fn(height, width, rng, **options)
