"""The unit of every data job: a shard of samples, produced and written by one worker.

A job is a list of ShardPlans. `write_shard` runs one of them anywhere (a Ray task, a benchmark,
a test): it draws the samples from a `produce` function, writes them through the data plane and
writes the shard's stats last. It is Ray-free; the distributor schedules it.
"""

from __future__ import annotations

import socket
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ...datasets.file_list import read_rows
from ...datasets.records import Sample, SampleError, Skipped
from ...datasets.writers import open_shard_writer, write_stats
from ...maskgen.ratios import bin_histogram


@dataclass(frozen=True)
class ShardPlan:
    """Shard `index` covers items start..stop-1 of `source`: sample numbers of a synthetic job,
    frame numbers of one video (`source` its path), rows of a file list (`file_list` its
    location, see datasets.file_list), or the inputs listed in `items`."""

    index: int
    start: int
    stop: int
    source: str = ""
    items: tuple = ()
    file_list: str = ""
    roots: tuple[str, ...] | None = None  # where the file list's rows may point (file_list.input_roots)


Produce = Callable[[ShardPlan], Iterable[Sample | SampleError | Skipped]]


def plan_shards(count: int, shard_size: int) -> Iterator[ShardPlan]:
    """Split samples 0..count-1 into consecutive shards of `shard_size` (the last may be short).
    Lazy: a job of 10**10 samples starts at once and never holds its plan list."""
    if count < 1 or shard_size < 1:
        raise ValueError(f"count and shard_size must be >= 1, got {count} and {shard_size}")
    return (ShardPlan(i, start, min(start + shard_size, count)) for i, start in enumerate(range(0, count, shard_size)))


def plan_file_list_shards(location: str, count: int, shard_size: int, items=None,
                          roots: tuple[str, ...] | None = None) -> Iterator[ShardPlan]:
    """Shards of `shard_size` rows of a file list of `count` rows, lazily (the driver never holds
    the inputs; each task reads its rows, inside the job's input `roots`). `items(plan)`, if
    given, gives a value per row, which plan_inputs appends to the row."""
    for index, start in enumerate(range(0, count, shard_size)):
        plan = ShardPlan(index, start, min(start + shard_size, count), file_list=str(location), roots=roots)
        yield replace(plan, items=tuple(items(plan))) if items else plan


def plan_inputs(plan: ShardPlan) -> list:
    """The inputs of an item shard: its file list's rows (path, key[, its value in `items`]), or
    its `items`."""
    if plan.file_list:
        rows = read_rows(plan.file_list, plan.start, plan.stop, plan.roots)
        return [(*row, value) for row, value in zip(rows, plan.items)] if plan.items else rows
    return list(plan.items)


def write_shard(
    out_dir: str | Path, fmt: str, prefix: str, plan: ShardPlan, produce: Produce, node: str | None = None
) -> dict[str, Any]:
    """Produce and write one shard, then its stats; returns the stats. The stats name the host
    and `node` (the Ray node id, from the distributor) that wrote the shard."""
    started = time.perf_counter()
    errors: list[dict[str, str]] = []
    skipped: Counter[str] = Counter()
    ratios: list[float] = []
    with open_shard_writer(fmt, out_dir, prefix, plan.index) as writer:
        for item in produce(plan):
            if isinstance(item, SampleError):
                errors.append({"path": item.path, "reason": item.reason})
                continue
            if isinstance(item, Skipped):
                skipped[item.reason] += 1
                continue
            writer.write(item)
            if "hole_ratio" in item.meta:
                ratios.append(float(item.meta["hole_ratio"]))
    stats = {
        "shard": plan.index,
        "start": plan.start,
        "stop": plan.stop,
        "source": plan.source,
        "count": writer.count,
        "errors": errors,
        "skipped": dict(sorted(skipped.items())),
        "seconds": round(time.perf_counter() - started, 4),
        "host": socket.gethostname(),
        "node": node,
        "bins": bin_histogram(ratios),
        "hole_ratio_sum": sum(ratios),
        "hole_ratio_sq_sum": sum(r * r for r in ratios),
    }
    write_stats(out_dir, prefix, plan.index, stats)
    return stats
