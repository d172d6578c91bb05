"""`inpaint-data preview`: training samples exactly as the trainer draws them, as one grid."""

from __future__ import annotations

import itertools

import numpy as np

from ...datasets.images import is_tagged_png, write_image
from ...datasets.manifest import refuse_foreign
from ...datasets.torch import MaskSource, PairSpec, ShardedTrainingDataset
from ...report import image_grid


def preview_grid(path: str, spec: PairSpec, count: int, epoch: int = 0) -> tuple[np.ndarray, int]:
    """A grid (RGB) of `count` samples of the shards at `path`: masked image (holes white) |
    mask | sketch (when `spec.sketch`), one row each; and how many samples it shows."""
    dataset = ShardedTrainingDataset(path, spec)
    dataset.set_epoch(epoch)
    rows = []
    for s in itertools.islice(iter(dataset), count):
        image = ((s["image"].transpose(1, 2, 0) + 1) * 127.5).round().astype(np.uint8)
        hole = s["mask"][0] > 0
        masked = image.copy()
        masked[hole] = (255, 255, 255)
        tiles = [masked, (hole * 255).astype(np.uint8)]
        if "sketch" in s:
            tiles.append((s["sketch"][0] * 255).astype(np.uint8))
        rows.append(tiles)
    if not rows:
        raise ValueError(f"{path} holds no samples")
    return image_grid(rows), len(rows)


def pair_spec(size: int, mask_style: str, mask_dir: str | None, sketch: bool, seed: int) -> PairSpec:
    masks = MaskSource(path=mask_dir) if mask_dir else MaskSource(style=mask_style)
    return PairSpec(size=size, masks=masks, sketch=sketch, seed=seed)


def write_preview(path: str, spec: PairSpec, count: int, out_file: str, epoch: int = 0, overwrite: bool = False) -> int:
    """The preview grid written to `out_file` (a PNG we tag as ours: a re-run replaces it, any
    other existing file needs `overwrite`); returns the number of samples shown."""
    refuse_foreign(out_file, is_tagged_png, overwrite)
    grid, shown = preview_grid(path, spec, count, epoch)
    write_image(out_file, grid, tag=True)
    return shown
