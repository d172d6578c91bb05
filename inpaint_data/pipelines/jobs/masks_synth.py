"""The free-form mask job. Sample i of seed s draws everything from default_rng([s, i]), so the
output is the same for any number of workers, shard sizes or restarts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ...datasets.records import Sample, sample_key
from ...maskgen.ratios import (
    MAX_LAYERS,
    NVIDIA_BIN_LABELS,
    bin_range,
    fit_hole_ratio,
    hole_ratio,
    nvidia_bin,
    nvidia_cell,
    touches_border,
)
from ...maskgen.styles import draw_mask, max_hole_ratio
from .engine import run_job
from .job import JobOptions, JobResult
from .shards import ShardPlan, plan_shards

PREFIX = "masks"
BALANCES = ("nvidia",)


@dataclass(frozen=True)
class FreeFormSpec:
    """Everything that decides the masks of a free-form job."""

    style: str
    height: int
    width: int
    seed: int = 0
    options: dict[str, Any] = field(default_factory=dict)
    hole_range: tuple[float, float] | None = None
    balance: str | None = None
    dilate: bool = False
    invert: bool = False


def free_form_sample(spec: FreeFormSpec, index: int) -> Sample:
    """Mask number `index` of the job, with its json record."""
    rng = np.random.default_rng([spec.seed, index])
    chosen: list[str] = []

    def draw(h: int, w: int, r: np.random.Generator) -> np.ndarray:
        mask, component = draw_mask(spec.style, h, w, r, **spec.options)
        chosen.append(component)
        return mask

    meta: dict[str, Any] = {"index": index, "seed": spec.seed, "style": spec.style}
    if spec.balance == "nvidia" or spec.hole_range is not None:
        target_bin, border = nvidia_cell(index) if spec.balance else (None, None)
        mask, info = fit_hole_ratio(
            draw, spec.height, spec.width, rng,
            bin_range(target_bin) if spec.balance else spec.hole_range,
            border=border, dilate=spec.dilate, max_ratio=max_hole_ratio(spec.style, **spec.options),
            max_layers=MAX_LAYERS,
        )
        meta.update(info)
        if spec.balance:
            meta["target_bin"] = NVIDIA_BIN_LABELS[target_bin]
    else:
        mask = draw(spec.height, spec.width, rng)
    ratio = hole_ratio(mask)
    meta.update(
        component=chosen[-1],
        hole_ratio=ratio,
        bin=nvidia_bin(ratio),
        border=touches_border(mask),
        height=spec.height,
        width=spec.width,
        hole_value=0 if spec.invert else 255,
    )
    return Sample(key=sample_key(index), mask=255 - mask if spec.invert else mask, meta=meta)


def free_form_samples(plan: ShardPlan, spec: FreeFormSpec) -> Iterator[Sample]:
    """The samples of one shard."""
    for i in range(plan.start, plan.stop):
        yield free_form_sample(spec, i)


def check_spec(spec: FreeFormSpec) -> None:
    """Fail before any work when the spec cannot be met: a bad style or option, or a hole
    range or NVIDIA cell the style cannot reach (raises ValueError saying which)."""
    if spec.balance is not None and spec.balance not in BALANCES:
        raise ValueError(f"unknown balance {spec.balance!r}; expected one of {BALANCES}")
    if spec.balance and spec.hole_range:
        raise ValueError("use either a hole range or a balance, not both")
    for index in range(12 if spec.balance else 1):  # every NVIDIA cell once
        try:
            free_form_sample(spec, index)
        except ValueError as e:
            raise ValueError(f"style {spec.style!r}: {e}") from None


def run_free_form_masks(out_dir: str | Path, spec: FreeFormSpec, *, count: int,
                        options: JobOptions = JobOptions()) -> JobResult:
    """Write `count` masks of `spec` to `out_dir` (1000 a shard by default); re-running resumes."""
    check_spec(spec)
    shard_size = options.size(1000)
    job = {"name": "masks-free-form", "format": options.fmt, "count": count, "shard_size": shard_size, **asdict(spec)}
    return run_job(out_dir, job, plan_shards(count, shard_size), partial(free_form_samples, spec=spec), prefix=PREFIX,
                   options=options)
