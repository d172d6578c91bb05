"""Masks generated and written per second on one core, by output format and size.

Runs each shard in this process (no Ray), so the figures are per core; a Ray job runs one such
shard per CPU. Prints JSON. Usage: python benchmarks/masks_write.py [--count N] [--style box]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from functools import partial

import numpy as np

from inpaint_data.datasets.records import MASK_PNG_PARAMS, encode_png
from inpaint_data.datasets.writers import FORMATS
from inpaint_data.maskgen.styles import draw_mask
from inpaint_data.pipelines.masks_synth import free_form_samples
from inpaint_data.pipelines.shards import ShardPlan, write_shard


def _rate(n: int, fn) -> float:
    started = time.perf_counter()
    fn()
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--style", default="box")
    args = parser.parse_args()
    results = []
    for size in (256, 512):
        produce = partial(free_form_samples, style=args.style, height=size, width=size, seed=0, options={})
        plan = ShardPlan(0, 0, args.count)
        masks = [draw_mask(args.style, size, size, np.random.default_rng([0, i])) for i in range(200)]
        row = {
            "size": size,
            "generate_only_per_s": round(_rate(args.count, lambda: sum(1 for _ in produce(plan))), 1),
            "png_encode_only_per_s": round(_rate(len(masks), lambda: [encode_png(m, MASK_PNG_PARAMS) for m in masks]), 1),
        }
        for fmt in FORMATS:
            with tempfile.TemporaryDirectory() as out:
                row[f"{fmt}_per_s"] = round(_rate(args.count, lambda: write_shard(out, fmt, "masks", plan, produce)), 1)
        results.append(row)
    print(json.dumps({"benchmark": "masks_write", "style": args.style, "count": args.count,
                      "cores": 1, "machine": platform.processor() or platform.machine(),
                      "results": results}, indent=2))


if __name__ == "__main__":
    main()
