"""What every data job shares: how it runs (`JobOptions`), what it returns (`JobResult`), and
the sums of its shard stats (`Totals`). The engine (engine.py) and the Ray side
(distributor.py) both import this module, and neither imports the other at import time."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...maskgen.ratios import NVIDIA_BIN_LABELS
from ..options import RunOptions


@dataclass(frozen=True, kw_only=True)
class JobOptions(RunOptions):
    """How a data job runs: the RunOptions every kind of work takes (workers: shards written at
    once; on_progress: each new shard's stats as it finishes) and the output's layout: fmt and
    shard_size (part of the job's identity; shard_size is ignored by jobs that shard by their
    input, such as video chunks). on_total is called by jobs whose total is known only once
    planned (video frames from the probe, images from the file list), with the sum of their
    plans' stop - start, and the unit when it is not the command's."""

    fmt: str = "webdataset"
    shard_size: int | None = None

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
