"""Runs a sharded job on Ray: one task per unfinished shard, a bounded number in flight.

Shards whose stats exist are skipped, so a re-run resumes. A task whose worker dies is retried
by Ray; the retry rebuilds the shard under a fresh temporary name, so nothing is duplicated.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ray

from ..datasets.manifest import check_job, claim_output, finish_manifest, output_lock
from ..datasets.writers import read_stats, remove_temps
from ..maskgen.ratios import NVIDIA_BIN_LABELS
from .ray_runtime import check_address, cluster_cpus, init_ray
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


class Totals:
    """Sums of shard stats, added one shard at a time: a job of millions of shards never holds
    their stats in memory."""

    def __init__(self) -> None:
        self.count = self.shards = self.written = 0
        self.errors: list[tuple[int, dict[str, str]]] = []
        self.skipped: dict[str, int] = {}
        self.bins = {label: 0 for label in (*NVIDIA_BIN_LABELS, "outside")}
        self.ratio_sum = self.ratio_sq_sum = 0.0

    def add(self, stats: dict[str, Any], written: bool) -> None:
        self.count += stats["count"]
        self.shards += 1
        self.written += written
        self.errors.extend((stats["shard"], e) for e in stats["errors"])
        for reason, n in stats.get("skipped", {}).items():
            self.skipped[reason] = self.skipped.get(reason, 0) + n
        for label, n in stats["bins"].items():
            self.bins[label] = self.bins.get(label, 0) + n
        self.ratio_sum += stats["hole_ratio_sum"]
        self.ratio_sq_sum += stats["hole_ratio_sq_sum"]

    def result(self, out_dir: Path, seconds: float) -> JobResult:
        measured = sum(self.bins.values())
        mean = sd = None
        if measured:
            mean = self.ratio_sum / measured
            sd = max(0.0, self.ratio_sq_sum / measured - mean * mean) ** 0.5
        return JobResult(
            out_dir=out_dir,
            count=self.count,
            shards=self.shards,
            shards_written=self.written,
            shards_skipped=self.shards - self.written,
            seconds=seconds,
            errors=[e for _, e in sorted(self.errors, key=lambda t: t[0])],
            skipped=dict(sorted(self.skipped.items())),
            bins=self.bins,
            hole_ratio_mean=mean,
            hole_ratio_sd=sd,
        )


def _stop(pending: list) -> None:
    """Cancel the shard tasks still running (a failed or interrupted job) and wait for them."""
    for ref in pending:
        ray.cancel(ref, force=True)
    if pending:
        ray.wait(pending, num_returns=len(pending), timeout=30)


def run_sharded_job(
    out_dir: str | Path,
    job: dict[str, Any],
    plans: Iterable[ShardPlan],
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

    `job` identifies the output (see datasets.manifest); `plans` may be a lazy iterable (it is
    walked once, never held). `on_shard` is called with each new shard's stats as it finishes
    (for progress bars). Before anything is written the folder is checked to be new, empty or
    this job's, and the Ray address to be reachable; then the folder is locked for this process,
    claimed, and Ray is started (or joined at `ray_address`). `resources` are the Ray resources of
    each shard task (default one CPU), e.g. {"num_cpus": 1, "num_gpus": 0.5}.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    fmt = job["format"]
    check_job(out_dir, job)
    check_address(ray_address)
    with output_lock(out_dir):
        claim_output(out_dir, job, command)
        remove_temps(out_dir)
        init_ray(ray_address)
        limit = max(1, workers or cluster_cpus())
        task = _shard_task.options(**resources) if resources else _shard_task
        totals = Totals()
        pending: list[ray.ObjectRef] = []

        def collect(num_returns: int) -> None:
            nonlocal pending
            ready, pending = ray.wait(pending, num_returns=num_returns)
            for ref in ready:
                stats = ray.get(ref)
                totals.add(stats, written=True)
                if on_shard is not None:
                    on_shard(stats)

        try:
            for plan in plans:
                stats = read_stats(out_dir, prefix, plan.index)
                if stats is not None:
                    totals.add(stats, written=False)
                    continue
                if len(pending) >= limit:
                    collect(1)
                pending.append(task.remote(str(out_dir), fmt, prefix, plan, produce))
            while pending:
                collect(1)
        except ray.exceptions.RayTaskError as e:
            _stop(pending)  # no task may outlive the lock: a re-run cleans up after them
            cause = getattr(e, "cause", None)
            raise (cause if isinstance(cause, Exception) else e) from None
        except BaseException:
            _stop(pending)
            raise
        result = totals.result(out_dir, time.perf_counter() - started)
        finish_manifest(out_dir, result.totals(), command)
    return result
