"""What every job command shares: the --format/--shard-size/--workers options, the JobOptions
built from them, progress while shards finish (a bar, or log lines without a terminal), one-line
errors and a summary at the end."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from ..datasets.manifest import ManifestMismatch
from ..datasets.writers import FORMATS

FORMAT_HELP = "files: a folder per shard; webdataset: tar shards; parquet: one row per sample."
RELIST_HELP = ("List the inputs again instead of reading the file list (.files.parquet) the first run into this "
               "--out wrote; the job is refused if they changed.")


def job_options(shard_size: int | None, unit: str = "samples"):
    """The options every job command takes; `shard_size` None leaves out --shard-size (jobs
    that shard by their input)."""
    options = [
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="webdataset", show_default=True,
                     help=FORMAT_HELP),
        click.option("--workers", type=click.IntRange(min=0), default=None,
                     help="Shards written at once. Default: the cluster's CPUs. 0: one at a time in this "
                          "process, without Ray (a job with one shard left runs so anyway)."),
    ]
    if shard_size is not None:
        options.insert(1, click.option("--shard-size", type=click.IntRange(min=1), default=shard_size,
                                       show_default=True, help=f"{unit.capitalize()} per shard (one Ray task each)."))

    def decorate(fn):
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate


def command_line() -> str:
    return " ".join(["inpaint-data", *sys.argv[1:]])


def run_job_command(ctx: click.Context, run: Callable, what: str, *, unit: str, total: int | None = None,
                    fmt: str = "webdataset", shard_size: int | None = None, workers: int | None = None) -> None:
    """Run `run(options)` (a pipelines job) with the command line's JobOptions under a progress
    bar over `total` `unit`s (None: counted in shards, unless the job reports its total once
    planned through JobOptions.on_total), then print the summary of its JobResult.
    Our errors (InputError, OSError) become one line in the command group."""
    from ..pipelines.jobs.job import JobOptions
    from .progress import progress

    bar = progress(total, unit)
    by_items = {"on": total is not None}

    def on_total(n: int, unit: str | None = None) -> None:  # a job that knows its total once planned
        bar.set_total(n, unit)
        by_items["on"] = True

    def on_shard(stats: dict) -> None:
        bar.update(stats["stop"] - stats["start"] if by_items["on"] else 1)
        bar.skip(len(stats.get("errors", ())))

    options = JobOptions(fmt=fmt, shard_size=shard_size, workers=workers, ray_address=ctx.obj.get("ray_address"),
                         command=command_line(), on_progress=on_shard, on_total=on_total)
    try:
        result = run(options)
    except ManifestMismatch as e:
        raise click.UsageError(str(e)) from None
    finally:
        bar.close()
    print_summary(result, what)


def print_summary(result, what: str) -> None:
    """A JobResult in a few lines (one block per part for a job of several outputs)."""
    for name, part in result.parts.items():
        click.echo(f"[{name}] ", nl=False)
        print_summary(part, what)
    if result.parts:
        return
    rate = result.count / result.seconds if result.seconds else 0.0
    click.echo(
        f"{result.count} {what} in {result.shards} shards at {result.out_dir} "
        f"({result.shards_written} written, {result.shards_skipped} already done) "
        f"in {result.seconds:.1f} s"
        + (f", {rate:.3g}/s" if result.shards_written else "")
    )
    if result.reused_list:
        click.echo(f"inputs: the list of the first run ({result.reused_list}); inputs added since are not "
                   "in it (--relist to list them again)")
    if result.hole_ratio_mean is not None:
        click.echo(f"hole ratio: mean {result.hole_ratio_mean:.3f}, sd {result.hole_ratio_sd:.3f}")
        click.echo("NVIDIA bins: " + ", ".join(f"{k} {v}" for k, v in result.bins.items()))
    if result.skipped:
        click.echo("skipped: " + ", ".join(f"{k} {v}" for k, v in result.skipped.items()))
    if result.errors:
        click.echo(f"{len(result.errors)} inputs skipped (see .*.stats.json):", err=True)
        for e in result.errors[:5]:
            click.echo(f"  {e['path']}: {e['reason']}", err=True)
