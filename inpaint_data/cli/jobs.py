"""What every job command shows: a progress bar while shards finish and a summary at the end."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import click
from tqdm import tqdm

from ..pipelines.distributor import JobResult


@contextlib.contextmanager
def shard_progress(total: int, unit: str) -> Iterator:
    """A tqdm bar over samples; yields the `on_shard` callback for run_sharded_job."""
    bar = tqdm(total=total, unit=unit, dynamic_ncols=True, file=sys.stderr, disable=None)

    def on_shard(stats: dict) -> None:
        bar.update(stats["stop"] - stats["start"] if total else 1)

    try:
        yield on_shard
    finally:
        bar.close()


def print_summary(result: JobResult, what: str) -> None:
    rate = result.count / result.seconds if result.seconds else 0.0
    click.echo(
        f"{result.count} {what} in {result.shards} shards at {result.out_dir} "
        f"({result.shards_written} written, {result.shards_skipped} already done) "
        f"in {result.seconds:.1f} s"
        + (f", {rate:.3g}/s" if result.shards_written else "")
    )
    if result.hole_ratio_mean is not None:
        click.echo(f"hole ratio: mean {result.hole_ratio_mean:.3f}, sd {result.hole_ratio_sd:.3f}")
        click.echo("NVIDIA bins: " + ", ".join(f"{k} {v}" for k, v in result.bins.items()))
    if result.skipped:
        click.echo("skipped: " + ", ".join(f"{k} {v}" for k, v in result.skipped.items()))
    if result.errors:
        click.echo(f"{len(result.errors)} inputs skipped (see _*.stats.json):", err=True)
        for e in result.errors[:5]:
            click.echo(f"  {e['path']}: {e['reason']}", err=True)
