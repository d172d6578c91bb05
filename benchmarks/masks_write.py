"""Masks generated and written per second on one core: by output format, and by style against
a baseline that draws DeepFill v2's strokes with PIL ImageDraw and saves one PNG file per mask
(how the official scripts are used).

Each shard runs in this process (no Ray), so the figures are per core; a Ray job runs one shard
per CPU. Prints JSON. Usage: python benchmarks/masks_write.py [--count N]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import tempfile
import time
from functools import partial

import numpy as np
from PIL import Image, ImageDraw

from inpaint_data.datasets.codec import encode_gray_png
from inpaint_data.datasets.writers import FORMATS
from inpaint_data.maskgen.styles import STYLES
from inpaint_data.pipelines.jobs.masks_synth import FreeFormSpec, free_form_sample, free_form_samples
from inpaint_data.pipelines.jobs.shards import ShardPlan, write_shard


def _rate(n: int, fn) -> float:
    started = time.perf_counter()
    fn()
    return round(n / (time.perf_counter() - started), 1)


def pil_brush_strokes(height: int, width: int, rng: np.random.Generator) -> Image.Image:
    """The baseline: DeepFill v2's generator as released, PIL drawing one vertex at a time."""
    mask = Image.new("L", (width, height), 0)
    radius = math.sqrt(height * height + width * width) / 8
    for _ in range(rng.integers(1, 4)):
        n = rng.integers(4, 12)
        a_min = 2 * math.pi / 5 - rng.uniform(0, 2 * math.pi / 15)
        a_max = 2 * math.pi / 5 + rng.uniform(0, 2 * math.pi / 15)
        angles = [2 * math.pi - rng.uniform(a_min, a_max) if i % 2 == 0 else rng.uniform(a_min, a_max)
                  for i in range(n)]
        vertex = [(int(rng.integers(0, width)), int(rng.integers(0, height)))]
        for a in angles:
            r = np.clip(rng.normal(radius, radius // 2), 0, 2 * radius)
            vertex.append((int(np.clip(vertex[-1][0] + r * math.cos(a), 0, width)),
                           int(np.clip(vertex[-1][1] + r * math.sin(a), 0, height))))
        draw = ImageDraw.Draw(mask)
        w = int(rng.uniform(12, 40))
        draw.line(vertex, fill=255, width=w)
        for x, y in vertex:
            draw.ellipse((x - w // 2, y - w // 2, x + w // 2, y + w // 2), fill=255)
    return mask


def baseline(size: int, count: int, out: str) -> None:
    for i in range(count):
        pil_brush_strokes(size, size, np.random.default_rng([0, i])).save(os.path.join(out, f"{i:06d}.png"))


def by_format(size: int, count: int) -> dict:
    spec = FreeFormSpec(style="box", height=size, width=size, options={})
    plan = ShardPlan(0, 0, count)
    masks = [free_form_sample(spec, i).mask for i in range(200)]
    encode_only = _rate(200, lambda: [encode_gray_png(m) for m in masks])
    row = {"size": size, "style": "box", "png_encode_only_per_s": encode_only}
    for fmt in FORMATS:
        with tempfile.TemporaryDirectory() as out:
            produce = partial(free_form_samples, spec=spec)
            row[f"{fmt}_per_s"] = _rate(count, partial(write_shard, out, fmt, "masks", plan, produce))
    return row


def by_style(size: int, count: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as out:
        base = _rate(count, lambda: baseline(size, count, out))
    for style in STYLES:
        spec = FreeFormSpec(style=style, height=size, width=size)
        plan = ShardPlan(0, 0, count)
        with tempfile.TemporaryDirectory() as out:
            produce = partial(free_form_samples, spec=spec)
            rate = _rate(count, partial(write_shard, out, "webdataset", "masks", plan, produce))
        rows.append({"size": size, "style": style, "webdataset_per_s": rate, "baseline_pil_files_per_s": base,
                     "vs_baseline": round(rate / base, 2)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    report = {
        "benchmark": "masks_write",
        "count": args.count,
        "cores": 1,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "by_format": [by_format(size, args.count) for size in (256, 512)],
        "by_style": [row for size in (256, 512) for row in by_style(size, args.count)],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
