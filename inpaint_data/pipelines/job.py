"""One shape for every data job: what it makes (a spec, the job's own), how it runs
(`JobOptions`, shared by all), what it returns (`JobResult`), and `run_job`, the one entry point.

`run_job` checks and locks the output folder, removes what killed writers left (before and after
the shards: on an object store a dead client's last request can still land), skips shards whose
stats exist (a re-run resumes), then writes the rest: in this process when at most one shard is
left and no cluster is named, or when `workers=0`; else on Ray (see distributor). Both paths call
the same `write_shard`, so the bytes are the same; the in-process path only saves Ray's start.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import storage
from ..datasets.manifest import check_job, claim_output, finish_manifest, output_lock
from ..datasets.writers import read_stats, remove_temps, stats_name
from ..maskgen.ratios import NVIDIA_BIN_LABELS
from .ray_runtime import check_address
from .shards import Produce, ShardPlan, write_shard

OnShard = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class JobOptions:
    """How a job runs, whatever it makes (Ray's RunConfig/ScalingConfig in one small record).

    fmt, shard_size: the output's layout (part of the job's identity; shard_size is ignored by
    jobs that shard by their input, such as video chunks). workers: shards written at once;
    None: the cluster's CPUs; 0: one at a time in this process, no Ray. ray_address: a cluster
    to join (None: $RAY_ADDRESS, else this machine). command: the command line, kept in the
    manifest. on_shard: called with each new shard's stats as it finishes (progress bars).
    on_total: called once planned, by jobs whose total is known only then (video frames from the
    probe, images from the file list), with the sum of their plans' stop - start, and the unit
    when it is not the command's.
    """

    fmt: str = "webdataset"
    shard_size: int | None = None
    workers: int | None = None
    ray_address: str | None = None
    command: str | None = None
    on_shard: OnShard | None = field(default=None, compare=False)
    on_total: Callable[..., None] | None = field(default=None, compare=False)

    def size(self, default: int) -> int:
        """The shard size, or the job's `default` when none was asked for."""
        return self.shard_size or default


@dataclass
class JobResult:
    """What a finished job wrote, summed over every shard (earlier runs included). A job with
    several outputs (shard's train and val) sums them and keeps each in `parts`."""

    out_dir: Path | str
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
    parts: dict[str, JobResult] = field(default_factory=dict)
    reused_list: str | None = None  # the file list of an earlier run, read instead of listing again

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


def combine(out_dir: Path | str, parts: dict[str, JobResult]) -> JobResult:
    """One result for a job of several outputs (counts summed; hole ratios are per part)."""
    results = list(parts.values())
    return JobResult(
        out_dir=out_dir,
        count=sum(r.count for r in results),
        shards=sum(r.shards for r in results),
        shards_written=sum(r.shards_written for r in results),
        shards_skipped=sum(r.shards_skipped for r in results),
        seconds=sum(r.seconds for r in results),
        errors=[e for r in results for e in r.errors],
        skipped={k: sum(r.skipped.get(k, 0) for r in results) for k in sorted({k for r in results for k in r.skipped})},
        parts=parts,
    )


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

    def result(self, out_dir: Path | str, seconds: float) -> JobResult:
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


def _unfinished(out_dir: Path | str, prefix: str, plans: Iterable[ShardPlan], totals: Totals) -> Iterator[ShardPlan]:
    """The plans whose shard is not written yet; finished ones are added to `totals`. The
    folder is listed once, so an object store is asked only for the stats that exist."""
    done = {name for name in storage.list_names(out_dir) if name.endswith(".stats.json")}
    for plan in plans:
        stats = read_stats(out_dir, prefix, plan.index) if stats_name(prefix, plan.index) in done else None
        if stats is None:
            yield plan
        else:
            totals.add(stats, written=False)


def run_job(
    out_dir: storage.Location,
    job: dict[str, Any],
    plans: Iterable[ShardPlan],
    produce: Produce,
    *,
    prefix: str,
    options: JobOptions,
    resources: dict[str, float] | None = None,
    input_list: tuple[str, Path | None] | None = None,
) -> JobResult:
    """Write every shard of `plans` under `out_dir` in `options.fmt`, skipping finished ones.

    `out_dir` is a path or a URL (see storage). `job` identifies the output (see
    datasets.manifest; its "format" is `options.fmt`); `plans`
    may be lazy (walked once, never held). Before anything is written the folder is checked to be
    new, empty or this job's, and a named Ray address to answer; then the folder is locked for
    this process and claimed.
    `resources` are the Ray resources of each shard task (default one CPU). `input_list` is the
    job's list of inputs (datasets.file_list): its name in the folder and the local file to put
    there once the folder is claimed, before any shard, or None when the folder's list was read
    back (the result's `reused_list` then names it).
    """
    started = time.perf_counter()
    out_dir = storage.normalise(out_dir)
    check_job(out_dir, job)
    check_address(options.ray_address)
    with output_lock(out_dir):
        claim_output(out_dir, job, options.command)
        remove_temps(out_dir)
        if input_list and input_list[1] is not None:
            storage.put_file(input_list[1], storage.join(out_dir, input_list[0]))
        totals = Totals()
        todo = _unfinished(out_dir, prefix, plans, totals)
        head = list(itertools.islice(todo, 2))
        todo = itertools.chain(head, todo)
        cluster = options.ray_address or os.environ.get("RAY_ADDRESS")
        if options.workers == 0 or (len(head) < 2 and not cluster):
            for plan in todo:
                stats = write_shard(out_dir, options.fmt, prefix, plan, produce)
                totals.add(stats, written=True)
                if options.on_shard is not None:
                    options.on_shard(stats)
        else:
            from .distributor import run_on_ray

            run_on_ray(out_dir, prefix, todo, produce, options, totals, resources)
        remove_temps(out_dir)  # again: a killed writer's last upload can land after our first sweep
        result = totals.result(out_dir, time.perf_counter() - started)
        if input_list and input_list[1] is None:
            result.reused_list = str(storage.join(out_dir, input_list[0]))
        finish_manifest(out_dir, result.totals(), options.command)
    return result
