"""Do balanced free-form masks keep their style in the high bins? Per NVIDIA bin and border status,
the shape statistics of masks grown into the bin (more draws of the style united, dilation as a
last resort: the default), of masks grown by dilation alone (the previous behaviour) and of the
style's own undilated draws that fall in that bin by chance (the reference). Prints JSON.

The statistics are `maskgen.shape.shape_stats`: the share of straight boundary runs, the number
of components and the perimeter-to-area ratio.

Usage: python benchmarks/mask_style_stats.py [--style deepfill] [--size 256] [--per-cell 30]
"""

from __future__ import annotations

import argparse
import json
from functools import partial

import numpy as np

from inpaint_data.maskgen.ratios import (
    MAX_LAYERS,
    NVIDIA_BIN_LABELS,
    bin_range,
    fit_hole_ratio,
    hole_ratio,
    nvidia_bin,
    touches_border,
)
from inpaint_data.maskgen.shape import shape_stats
from inpaint_data.maskgen.styles import draw_mask


def summary(masks: list[np.ndarray]) -> dict[str, float] | None:
    if not masks:
        return None
    rows = [shape_stats(m) for m in masks]
    return {"n": len(rows), **{k: round(float(np.mean([r[k] for r in rows])), 3) for k in rows[0]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--style", default="deepfill")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--per-cell", type=int, default=30)
    parser.add_argument("--reference-draws", type=int, default=20000)
    args = parser.parse_args()
    draw = lambda h, w, r: draw_mask(args.style, h, w, r)[0]  # noqa: E731
    size = args.size
    reference: dict[tuple[int, bool], list[np.ndarray]] = {}
    rng = np.random.default_rng(0)
    for _ in range(args.reference_draws):
        mask = draw(size, size, rng)
        b = nvidia_bin(hole_ratio(mask))
        cell = (b, touches_border(mask))
        if b is not None and len(reference.setdefault(cell, [])) < args.per_cell:
            reference[cell].append(mask)
    rows = []
    for b, label in enumerate(NVIDIA_BIN_LABELS):
        for border in (True, False):
            made = {"grown (layers, then dilation)": MAX_LAYERS, "dilation only (before)": 1}
            row = {"bin": label, "border": border, "style's own draws": summary(reference.get((b, border), []))}
            for name, layers in made.items():
                fit = partial(fit_hole_ratio, draw, size, size, hole_range=bin_range(b), border=border, dilate=True,
                              max_layers=layers)
                results = [fit(rng=np.random.default_rng([b, int(border), i])) for i in range(args.per_cell)]
                row[name] = summary([m for m, _ in results])
                row[name]["dilated_share"] = round(float(np.mean([info["dilation"] > 0 for _, info in results])), 3)
                row[name]["layers_mean"] = round(float(np.mean([info["layers"] for _, info in results])), 2)
            rows.append(row)
    print(json.dumps({"benchmark": "mask_style_stats", "style": args.style, "size": size, "per_cell": args.per_cell,
                      "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
