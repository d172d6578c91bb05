"""Hole-ratio and shape distributions of the released mask generators, for tests/maskgen/test_large_masks.py:
co-mod-gan's training/mask_generator.py (RandomMask, whole range and the h1 bucket), MAT's
datasets/mask_generator_512.py and _512_small.py, and LaMa's OutpaintingMaskGenerator
(saicinpainting/training/data/masks.py), 2,000 masks each at 512 x 512 (LaMa's at 512 x 384 too,
where its height/width quirk shows), seeded numpy. Shapes: for each mask its number of holes
(8-connected components) and its hole boundary per hole pixel (pixels of the hole with a known
4-neighbour, over hole pixels: thin strokes score high, blocks low), summarised as the ratios are.

Usage, with the three repositories checked out (their sources are not copied here):
    python tests/data/large_masks/make_reference.py CO_MOD_GAN MAT LAMA
"""

import importlib.util
import json
import sys
import types
from pathlib import Path

import numpy as np

COUNT = 2000


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# imports the generators do not use for these masks
sys.modules["tensorflow"] = types.ModuleType("tensorflow")
for name in ("saicinpainting", "saicinpainting.evaluation", "saicinpainting.evaluation.masks",
             "saicinpainting.evaluation.masks.mask", "saicinpainting.utils"):
    sys.modules[name] = types.ModuleType(name)
sys.modules["saicinpainting.evaluation.masks.mask"].SegmentationMask = None
sys.modules["saicinpainting.utils"].LinearRamp = None

comod_root, mat_root, lama_root = map(Path, sys.argv[1:4])
comod = load(comod_root / "training" / "mask_generator.py", "comod")
mat_large = load(mat_root / "datasets" / "mask_generator_512.py", "mat_large")
mat_small = load(mat_root / "datasets" / "mask_generator_512_small.py", "mat_small")
lama = load(lama_root / "saicinpainting" / "training" / "data" / "masks.py", "lama_masks")
outpaint = lama.OutpaintingMaskGenerator()


def hole_ratio_of_random_mask(mask):
    return float(1 - mask.mean())  # RandomMask: 1 = known


def summary(ratios):
    r = np.asarray(ratios)
    return {"count": len(r), "mean": float(r.mean()), "sd": float(r.std()),
            "deciles": np.quantile(r, np.linspace(0.1, 0.9, 9)).tolist()}


def shape(hole: np.ndarray) -> tuple[int, float]:
    """(holes, boundary pixels per hole pixel) of a boolean hole mask (tests/maskgen/test_large_masks.py
    computes the same with the same definitions)."""
    import cv2

    holes = cv2.connectedComponents(hole.astype(np.uint8), connectivity=8)[0] - 1
    padded = np.pad(hole, 1, constant_values=True)  # the image's edge is not a boundary
    inner = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    area = np.count_nonzero(hole)
    return holes, float(np.count_nonzero(hole & ~inner) / area) if area else 0.0


def summaries(holes):
    """Ratio, number of holes and boundary per hole pixel of boolean hole masks."""
    shapes = [shape(h) for h in holes]
    return {**summary([h.mean() for h in holes]), "holes": summary([s[0] for s in shapes]),
            "boundary": summary([s[1] for s in shapes])}


np.random.seed(0)
out = {
    "comodgan": summaries([comod.RandomMask(512)[0] < 0.5 for _ in range(COUNT)]),
    "comodgan-h1": summaries([comod.RandomMask(512, [0.2, 0.4])[0] < 0.5 for _ in range(COUNT)]),
    "mat-large": summaries([mat_large.RandomMask(512)[0] < 0.5 for _ in range(COUNT)]),
    "mat-small": summaries([mat_small.RandomMask(512)[0] < 0.5 for _ in range(COUNT)]),
    "lama-outpainting": summaries([outpaint(np.zeros((3, 512, 512)))[0] > 0.5 for _ in range(COUNT)]),
    "lama-outpainting-384x512": summaries([outpaint(np.zeros((3, 384, 512)))[0] > 0.5 for _ in range(COUNT)]),
}
(Path(__file__).parent / "reference.json").write_text(json.dumps(out, indent=1) + "\n")
print(json.dumps({k: (round(v["mean"], 3), round(v["sd"], 3)) for k, v in out.items()}))
