"""`inpaint-data masks`: make mask data sets."""

from __future__ import annotations

import sys

import click

from ..datasets.manifest import ManifestMismatch
from ..datasets.writers import FORMATS
from ..maskgen.styles import STYLES
from .params import RangeType, SizeType
from .report import print_summary, shard_progress


@click.command()
@click.option("--free-form", "free_form", is_flag=True, help="Draw synthetic masks of a --style.")
@click.option("--style", type=click.Choice(sorted(STYLES)), default="box", show_default=True,
              help="Mask style (box: DeepFill v2's training box).")
@click.option("--count", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Number of masks.")
@click.option("--size", type=SizeType(), default="512", show_default=True,
              help="Mask size: 512 or WIDTHxHEIGHT (at least 32 px a side).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Output folder; re-running the same command there resumes.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="webdataset", show_default=True,
              help="files: a folder per shard; webdataset: tar shards; parquet: one row per mask.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Mask i is drawn from numpy default_rng([seed, i]).")
@click.option("--shard-size", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Masks per shard (one Ray task each).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Shards written at once. Default: the cluster's CPUs.")
@click.option("--box-size", type=RangeType(float, 0.0, 1.0), default="0.375:0.5", show_default=True,
              help="box: side as a fraction of the canvas side, MIN:MAX (DeepFill v2: 96..128 px at 256).")
@click.option("--box-count", type=RangeType(int, 1, None), default="1", show_default=True,
              help="box: boxes per mask, N or MIN:MAX.")
@click.pass_context
def masks(ctx, free_form, style, count, size, out_dir, fmt, seed, shard_size, workers, box_size, box_count):
    """Make a mask data set (PNG, 255 = hole, plus a json record per mask).

    \b
    Example:
      inpaint-data masks --free-form --style box --count 10000 --size 256 --out masks/ --format webdataset
    """
    if not free_form:
        raise click.UsageError("say which masks to make: --free-form")
    if box_size[0] <= 0:
        raise click.BadParameter("the box side must be above 0", param_hint="--box-size")
    from ..pipelines.masks_synth import run_free_form_masks

    options = {"size": list(box_size), "count": list(box_count)} if style == "box" else {}
    height, width = size
    with shard_progress(count, "mask") as on_shard:
        try:
            result = run_free_form_masks(
                out_dir, style=style, count=count, height=height, width=width, fmt=fmt, seed=seed,
                shard_size=shard_size, workers=workers, options=options,
                command=" ".join(["inpaint-data", *sys.argv[1:]]), on_shard=on_shard,
                ray_address=ctx.obj.get("ray_address"),
            )
        except ManifestMismatch as e:
            raise click.UsageError(str(e)) from None
    print_summary(result, "masks")
