"""`run_job`, the one entry point of every data job: what it makes is the job's spec, how it
runs its `JobOptions` and what it returns a `JobResult` (job.py).

`run_job` checks and locks the output folder, removes what killed writers left (before and after
the shards: on an object store a dead client's last request can still land), skips shards whose
stats exist (a re-run resumes), then writes the rest: in this process when at most one shard is
left and no cluster is named, or when `workers=0`; else on Ray (see distributor). Both paths call
the same `write_shard`, so the bytes are the same; the in-process path only saves Ray's start.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ... import storage
from ...datasets.manifest import check_job, claim_output, finish_manifest, output_lock
from ...datasets.writers import read_stats, remove_temps, stats_name
from ...errors import InputError
from ..ray_runtime import check_address, ray_address
from .job import JobOptions, JobResult, Totals
from .shards import Produce, ShardPlan, write_shard


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
    if options.fmt == "files" and storage.is_remote(out_dir):
        raise InputError(f"--format files writes a folder per shard, which an object store cannot show whole (its "
                         f"objects appear one at a time); write {storage.redact(str(out_dir))} as webdataset or "
                         "parquet")
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
        if options.workers == 0 or (len(head) < 2 and not ray_address(options.ray_address)):
            for plan in todo:
                stats = write_shard(out_dir, options.fmt, prefix, plan, produce)
                totals.add(stats, written=True)
                options.progress(stats)
        else:
            from .distributor import write_shards_on_ray  # imports Ray: only when a job goes there

            write_shards_on_ray(out_dir, prefix, todo, produce, options, totals, resources)
        remove_temps(out_dir)  # again: a killed writer's last upload can land after our first sweep
        result = totals.result(out_dir, time.perf_counter() - started)
        if input_list and input_list[1] is None:
            result.reused_list = str(storage.join(out_dir, input_list[0]))
        finish_manifest(out_dir, result.totals(), options.command)
    return result
