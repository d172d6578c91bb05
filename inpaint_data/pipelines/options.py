"""How any work runs, whatever it makes: `RunOptions`, the one small typed record (as Ray's
ScalingConfig and RunConfig) that data jobs (`jobs.job.JobOptions` adds their output layout),
training and evaluation all take. What decides an output (a job's spec, a training run's
config, an evaluation's spec, including the device and precision where they change the numbers)
is not here: these options change only where and how fast the work runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Called with each finished unit of work: a data job's shard stats, a training run's metrics
#: line, an evaluation's count of pairs scored.
OnProgress = Callable[[Any], None]


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """workers: Ray tasks, actors or trainers at once; None: the work's default (a data job: the
    cluster's CPUs); 0: in this process, no Ray. ray_address: a cluster to join (None:
    $RAY_ADDRESS, else this machine; see ray_runtime.ray_address). command: the command line,
    kept with the output. on_progress: see OnProgress. on_total: called once planned, when the
    total is known only then, with the total and the unit when it is not the command's."""

    workers: int | None = None
    ray_address: str | None = None
    command: str | None = None
    on_progress: OnProgress | None = field(default=None, compare=False)
    on_total: Callable[..., None] | None = field(default=None, compare=False)

    def progress(self, record: Any) -> None:
        if self.on_progress is not None:
            self.on_progress(record)

    def total(self, *args: Any) -> None:
        if self.on_total is not None:
            self.on_total(*args)
