"""Training samples per second on one core (decode + crop/flip + mask + sketch), from webdataset
and parquet image shards, at 256 and 512, with masks drawn on the fly or read from mask shards.
Prints JSON. Usage: python benchmarks/training_data.py [--images 400]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import torch

from inpaint_data.datasets.records import Sample
from inpaint_data.datasets.torch import MaskSource, PairSpec, ShardedTrainingDataset
from inpaint_data.pipelines.jobs.masks_synth import FreeFormSpec, free_form_samples
from inpaint_data.pipelines.jobs.shards import ShardPlan, write_shard


def make_shards(root: Path, fmt: str, size: int, count: int) -> Path:
    """JPEG images a little larger than `size` (as `inpaint-data shard` leaves them), with edges."""
    rng = np.random.default_rng(0)
    out = root / f"{fmt}{size}"
    out.mkdir()
    base = cv2.resize(rng.integers(0, 256, (size // 8, size // 8, 3), dtype=np.uint8), (size, size))

    def produce(plan):
        for i in range(plan.start, plan.stop):
            image = np.roll(base, i, axis=1)
            jpg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
            edge = cv2.Canny(image, 100, 200)
            yield Sample(key=f"{i:06d}", image=jpg, image_ext="jpg", edge=edge, meta={})

    for shard, start in enumerate(range(0, count, 100)):
        write_shard(out, fmt, "images", ShardPlan(shard, start, min(start + 100, count)), produce)
    return out


def rate(path: Path, spec: PairSpec) -> float:
    dataset = ShardedTrainingDataset(str(path), spec)
    next(iter(dataset))
    started = time.perf_counter()
    n = sum(1 for _ in dataset)
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=400)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        mask_dir = root / "masks"
        mask_dir.mkdir()
        write_shard(mask_dir, "webdataset", "masks", ShardPlan(0, 0, 500),
                    partial(free_form_samples, spec=FreeFormSpec(style="deepfill-train", height=512, width=512)))
        for size in (256, 512):
            for fmt in ("webdataset", "parquet"):
                path = make_shards(root, fmt, size, args.images)
                for label, masks in (("deepfill-train drawn", MaskSource(style="deepfill-train")),
                                     ("mask shards", MaskSource(path=str(mask_dir)))):
                    for sketch in (False, True):
                        spec = PairSpec(size=size, masks=masks, sketch=sketch)
                        rows.append({"size": size, "format": fmt, "masks": label, "sketch": sketch,
                                     "samples_per_s": round(rate(path, spec), 1)})
    print(json.dumps({"benchmark": "training_data", "cores": 1, "images": args.images,
                      "machine": f"{platform.machine()}, {os.cpu_count()} cores", "results": rows}, indent=2))


if __name__ == "__main__":
    main()
