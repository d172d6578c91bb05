"""The free-form mask job: sample i of seed s is drawn from default_rng([s, i]), so the output
is the same for any number of workers, shard sizes or restarts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets.records import Sample, sample_key
from ..maskgen.ratios import hole_ratio, nvidia_bin, touches_border
from ..maskgen.styles import draw_mask
from .distributor import JobResult, run_sharded_job
from .shards import ShardPlan, plan_shards

PREFIX = "masks"


def free_form_samples(
    plan: ShardPlan, *, style: str, height: int, width: int, seed: int, options: dict[str, Any]
) -> Iterator[Sample]:
    """The samples of one shard: a mask and its json record each."""
    for i in range(plan.start, plan.stop):
        mask = draw_mask(style, height, width, np.random.default_rng([seed, i]), **options)
        ratio = hole_ratio(mask)
        meta = {
            "index": i,
            "seed": seed,
            "style": style,
            "hole_ratio": ratio,
            "bin": nvidia_bin(ratio),
            "border": touches_border(mask),
            "height": height,
            "width": width,
        }
        yield Sample(key=sample_key(i), mask=mask, meta=meta)


def run_free_form_masks(
    out_dir: str | Path,
    *,
    style: str,
    count: int,
    height: int,
    width: int,
    fmt: str = "webdataset",
    seed: int = 0,
    shard_size: int = 1000,
    workers: int | None = None,
    options: dict[str, Any] | None = None,
    command: str | None = None,
    on_shard: Callable[[dict[str, Any]], None] | None = None,
    ray_address: str | None = None,
) -> JobResult:
    """Write `count` masks of `style` at height x width to `out_dir`; resumes a killed run."""
    options = dict(options or {})
    draw_mask(style, height, width, np.random.default_rng(0), **options)  # fail fast on bad options
    job = {
        "name": "masks-free-form",
        "format": fmt,
        "style": style,
        "count": count,
        "height": height,
        "width": width,
        "seed": seed,
        "shard_size": shard_size,
        "options": options,
    }
    produce = partial(free_form_samples, style=style, height=height, width=width, seed=seed, options=options)
    return run_sharded_job(
        out_dir,
        job,
        plan_shards(count, shard_size),
        produce,
        prefix=PREFIX,
        workers=workers,
        command=command,
        on_shard=on_shard,
        ray_address=ray_address,
    )
