"""Named mixtures of the basic generators: DeepFill v2's and LaMa's training masks and LaMa's
evaluation presets (saicinpainting configs; docs/references.md, section 2)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .boxes import box_mask, lama_boxes
from .ratios import hole_ratio
from .strokes import deepfill_strokes, lama_irregular

DrawFn = Callable[[int, int, np.random.Generator], np.ndarray]

#: LaMa evaluation presets: irregular kwargs, box probability and box kwargs.
LAMA_PRESETS: dict[str, tuple[dict, float, dict | None]] = {
    "lama-thin-256": (dict(min_times=4, max_times=50, max_width=10, max_angle=4, max_len=40), 0.0, None),
    "lama-medium-256": (
        dict(min_times=4, max_times=5, max_width=50, max_angle=4, max_len=100),
        0.3,
        dict(margin=0, min_size=10, max_size=50, min_times=1, max_times=5),
    ),
    "lama-thick-256": (
        dict(min_times=1, max_times=5, max_width=100, max_angle=4, max_len=200),
        0.3,
        dict(margin=10, min_size=30, max_size=150, min_times=1, max_times=3),
    ),
    "lama-thin-512": (dict(min_times=4, max_times=70, max_width=20, max_angle=4, max_len=100), 0.0, None),
    "lama-medium-512": (
        dict(min_times=4, max_times=10, max_width=100, max_angle=4, max_len=200),
        0.3,
        dict(margin=0, min_size=30, max_size=150, min_times=1, max_times=5),
    ),
    "lama-thick-512": (
        dict(min_times=1, max_times=5, max_width=250, max_angle=4, max_len=450),
        0.3,
        dict(margin=10, min_size=30, max_size=300, min_times=1, max_times=4),
    ),
}
#: LaMa's evaluation sets drop masks covering more than this (max_tamper_area).
LAMA_MAX_TAMPER_AREA = 0.5
#: big-lama's training mix (abl-04-256-mh-dist): half irregular, half boxes.
LAMA_TRAIN = (
    dict(min_times=1, max_times=5, max_width=100, max_angle=4, max_len=200),
    1.0,
    dict(margin=10, min_size=30, max_size=150, min_times=1, max_times=4),
)
#: Tries before a capped preset gives up on finding a mask under its cap.
MAX_REDRAWS = 1000


def choose(rng: np.random.Generator, weights: Sequence[float]) -> int:
    """Index drawn with the given (unnormalised) weights, as numpy.random.choice(p=...)."""
    p = np.asarray(weights, np.float64)
    return int(rng.choice(len(p), p=p / p.sum()))


def lama_mixed(
    height: int,
    width: int,
    rng: np.random.Generator,
    irregular: dict,
    box_proba: float,
    box: dict | None,
    max_area: float = 1.0,
) -> np.ndarray:
    """LaMa's MixedMaskGenerator over irregular strokes (weight 1) and boxes (weight box_proba),
    redrawn while the mask covers more than `max_area`."""
    for _ in range(MAX_REDRAWS):
        if box and choose(rng, [1.0, box_proba]) == 1:
            mask = lama_boxes(height, width, rng, **box)
        else:
            mask = lama_irregular(height, width, rng, **irregular)
        if hole_ratio(mask) <= max_area:
            return mask
    raise ValueError(f"no mask under {max_area:.0%} holes in {MAX_REDRAWS} draws at {height}x{width}")


def lama_preset(height: int, width: int, rng: np.random.Generator, name: str) -> np.ndarray:
    """One of LaMa's evaluation presets (sizes in pixels, as LaMa defines them), capped at 50%."""
    irregular, box_proba, box = LAMA_PRESETS[name]
    return lama_mixed(height, width, rng, irregular, box_proba, box, LAMA_MAX_TAMPER_AREA)


def lama_train(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """big-lama's training masks: irregular strokes or boxes with equal probability."""
    irregular, box_proba, box = LAMA_TRAIN
    return lama_mixed(height, width, rng, irregular, box_proba, box)


def deepfill_train(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """DeepFill v2's training masks: the union of its random box and its brush strokes."""
    box = box_mask(height, width, rng)
    return np.maximum(box, deepfill_strokes(height, width, rng))
