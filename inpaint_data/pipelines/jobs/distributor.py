"""The Ray side of `job.run_job`: one task per unfinished shard, a bounded number in flight.

A task whose worker dies is retried by Ray; the retry rebuilds the shard under a fresh
temporary name, so nothing is duplicated. A failed or interrupted job cancels its tasks before
the output lock is released.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import ray

from ..ray_runtime import cluster_cpus, init_ray
from .job import JobOptions, Totals
from .shards import Produce, ShardPlan, write_shard

#: Ray retries a shard task this many times when its worker process dies.
TASK_RETRIES = 3


@ray.remote(max_retries=TASK_RETRIES)
def _shard_task(out_dir: str, fmt: str, prefix: str, plan: ShardPlan, produce: Produce) -> dict[str, Any]:
    return write_shard(out_dir, fmt, prefix, plan, produce, node=ray.get_runtime_context().get_node_id())


def _stop(pending: list) -> None:
    """Cancel the shard tasks still running (a failed or interrupted job) and wait for them."""
    for ref in pending:
        ray.cancel(ref, force=True)
    if pending:
        ray.wait(pending, num_returns=len(pending), timeout=30)


def write_shards_on_ray(
    out_dir: Path | str,
    prefix: str,
    plans: Iterable[ShardPlan],
    produce: Produce,
    options: JobOptions,
    totals: Totals,
    resources: dict[str, float] | None = None,
) -> None:
    """Write every shard of `plans` with Ray tasks, at most `options.workers` (default: the
    cluster's CPUs) at once, adding each one's stats to `totals`. Starts a local Ray, or joins
    `options.ray_address`, if not connected yet."""
    init_ray(options.ray_address)
    limit = max(1, options.workers or cluster_cpus())
    task = _shard_task.options(**resources) if resources else _shard_task
    pending: list[ray.ObjectRef] = []

    def collect() -> None:
        nonlocal pending
        ready, pending = ray.wait(pending, num_returns=1)
        for ref in ready:
            stats = ray.get(ref)
            totals.add(stats, written=True)
            options.progress(stats)

    try:
        for plan in plans:
            if len(pending) >= limit:
                collect()
            pending.append(task.remote(str(out_dir), options.fmt, prefix, plan, produce))
        while pending:
            collect()
    except ray.exceptions.RayTaskError as e:
        _stop(pending)  # no task may outlive the lock: a re-run cleans up after them
        cause = getattr(e, "cause", None)
        raise (cause if isinstance(cause, Exception) else e) from None
    except BaseException:
        _stop(pending)
        raise


@ray.remote(max_retries=TASK_RETRIES)
def _batch_task(fn: Callable[[list], list], batch: list) -> list:
    return fn(batch)


def map_batches_on_ray(fn: Callable[[list], list], items: list, batch_size: int, options: JobOptions) -> list:
    """fn over `items` in batches of `batch_size`, one Ray task a batch, at most `options.workers`
    (default: the cluster's CPUs) in flight; the results in the order of `items`. For driver-side
    preparation that must not run one input at a time on the driver (probing videos)."""
    init_ray(options.ray_address)
    limit = max(1, options.workers or cluster_cpus())
    refs: list[ray.ObjectRef] = []
    try:
        for start in range(0, len(items), batch_size):
            if len(refs) >= limit:
                ray.wait(refs, num_returns=len(refs) - limit + 1)  # bound the batches in flight
            refs.append(_batch_task.remote(fn, items[start : start + batch_size]))
        return [value for batch in ray.get(refs) for value in batch]
    except BaseException:
        _stop(refs)  # cancelling a finished task does nothing
        raise
