"""Runs a sharded job on Ray: one task per unfinished shard, a bounded number in flight.

Shards whose stats exist are skipped, so a re-run resumes. A task whose worker dies is retried
by Ray; the retry rebuilds the shard under a fresh temporary name, so nothing is duplicated.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ray

from ..datasets.manifest import claim_output, finish_manifest
from ..datasets.writers import read_stats, remove_temps
from ..maskgen.ratios import NVIDIA_BIN_LABELS
from .ray_runtime import cluster_cpus, init_ray
from .shards import Produce, ShardPlan, write_shard

#: Ray retries a shard task this many times when its worker process dies.
TASK_RETRIES = 3


@dataclass
class JobResult:
    """What a finished job wrote, summed over every shard (earlier runs included)."""

    out_dir: Path
    count: int
    shards: int
    shards_written: int
    shards_skipped: int
    seconds: float
    errors: list[dict[str, str]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    bins: dict[str, int] = field(default_factory=dict)
    hole_ratio_mean: float | None = None
    hole_ratio_sd: float | None = None

    def totals(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "shards": self.shards,
            "errors": len(self.errors),
            "skipped": self.skipped,
            "bins": self.bins,
            "hole_ratio_mean": self.hole_ratio_mean,
            "hole_ratio_sd": self.hole_ratio_sd,
        }


@ray.remote(max_retries=TASK_RETRIES)
def _shard_task(out_dir: str, fmt: str, prefix: str, plan: ShardPlan, produce: Produce) -> dict[str, Any]:
    return write_shard(out_dir, fmt, prefix, plan, produce)


def summarise(out_dir: Path, all_stats: list[dict[str, Any]], written: int, seconds: float) -> JobResult:
    count = sum(s["count"] for s in all_stats)
    bins = {label: 0 for label in (*NVIDIA_BIN_LABELS, "outside")}
    for s in all_stats:
        for label, n in s["bins"].items():
            bins[label] = bins.get(label, 0) + n
    skipped: dict[str, int] = {}
    for s in all_stats:
        for reason, n in s.get("skipped", {}).items():
            skipped[reason] = skipped.get(reason, 0) + n
    measured = sum(bins.values())
    mean = sd = None
    if measured:
        mean = sum(s["hole_ratio_sum"] for s in all_stats) / measured
        sd = max(0.0, sum(s["hole_ratio_sq_sum"] for s in all_stats) / measured - mean * mean) ** 0.5
    return JobResult(
        out_dir=out_dir,
        count=count,
        shards=len(all_stats),
        shards_written=written,
        shards_skipped=len(all_stats) - written,
        seconds=seconds,
        errors=[e for s in all_stats for e in s["errors"]],
        skipped=dict(sorted(skipped.items())),
        bins=bins,
        hole_ratio_mean=mean,
        hole_ratio_sd=sd,
    )


def run_sharded_job(
    out_dir: str | Path,
    job: dict[str, Any],
    plans: list[ShardPlan],
    produce: Produce,
    *,
    prefix: str,
    workers: int | None = None,
    command: str | None = None,
    on_shard: Callable[[dict[str, Any]], None] | None = None,
    ray_address: str | None = None,
    resources: dict[str, float] | None = None,
) -> JobResult:
    """Write every shard of `plans` under `out_dir` in `job["format"]`, skipping finished ones.

    `job` identifies the output (see datasets.manifest); `on_shard` is called with each new
    shard's stats as it finishes (for progress bars). Ray is started (or joined at
    `ray_address`) only once the output folder is known to be this job's. `resources` are the
    Ray resources of each shard task (default one CPU), e.g. {"num_cpus": 1, "num_gpus": 0.5}.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    fmt = job["format"]
    claim_output(out_dir, job, command)
    remove_temps(out_dir)
    init_ray(ray_address)
    done = {p.index: read_stats(out_dir, prefix, p.index) for p in plans}
    todo = [p for p in plans if done[p.index] is None]
    limit = max(1, workers or cluster_cpus())
    task = _shard_task.options(**resources) if resources else _shard_task
    pending: list[ray.ObjectRef] = []
    queue = list(reversed(todo))
    while queue or pending:
        while queue and len(pending) < limit:
            plan = queue.pop()
            pending.append(task.remote(str(out_dir), fmt, prefix, plan, produce))
        ready, pending = ray.wait(pending, num_returns=1)
        stats = ray.get(ready[0])
        done[stats["shard"]] = stats
        if on_shard is not None:
            on_shard(stats)
    result = summarise(out_dir, [done[p.index] for p in plans], len(todo), time.perf_counter() - started)
    finish_manifest(out_dir, result.totals(), command)
    return result
