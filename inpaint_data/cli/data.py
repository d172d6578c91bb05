"""`inpaint-data shard` (images into training shards) and `inpaint-data preview`."""

from __future__ import annotations

import click

from ..datasets.images import MAX_PIXELS
from ..maskgen.styles import STYLES
from .jobs import RELIST_HELP, job_options, run_job_command
from .params import MAX_SIZE, LocationType


@click.command()
@click.argument("inputs", nargs=-1, required=True, metavar="IMAGES...")
@click.option("--out", "out_dir", type=LocationType(file_okay=False), required=True,
              help="Output folder (train/ and val/ inside with --val-fraction); re-running resumes.")
@click.option("--size", type=click.IntRange(min=0, max=MAX_SIZE), default=256, show_default=True,
              help="Short side after resizing; 0 keeps the images as they are.")
@click.option("--crop", type=click.Choice(["center", "random", "none"]), default="center", show_default=True,
              help="Square crop of --size after resizing (random: seeded per image).")
@click.option("--ext", type=click.Choice(["jpg", "png"]), default="jpg", show_default=True,
              help="Stored encoding (images already at the right size and encoding are kept as they are).")
@click.option("--quality", type=click.IntRange(1, 100), default=95, show_default=True, help="JPEG quality.")
@click.option("--edges", "edges_dir", type=LocationType(exists=True, file_okay=False), default=None,
              help="An `inpaint-data edges` output: edge maps joined by key, resized and cropped with the image.")
@click.option("--val-fraction", type=click.FloatRange(0, 1, max_open=True), default=0.0, show_default=True,
              help="Share of images (chosen by key hash and seed) written to OUT/val.")
@job_options(shard_size=1000, unit="images")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--max-pixels", type=click.IntRange(min=1), default=MAX_PIXELS, show_default=True,
              help="Skip (and record) images whose header claims more pixels than this.")
@click.option("--relist", is_flag=True, help=RELIST_HELP)
@click.pass_context
def shard(ctx, inputs, out_dir, size, crop, ext, quality, edges_dir, val_fraction, fmt, shard_size, workers, seed,
          max_pixels, relist):
    """Images (folder trees, globs or .txt lists of paths) into training shards.

    \b
    Example (Places2-style tree, 256 px, 1% validation, with HED edges):
      inpaint-data edges --hed places/ --out places_edges/
      inpaint-data shard places/ --edges places_edges/ --size 256 --val-fraction 0.01 --out places_shards/
    """
    from ..pipelines.jobs.shard import ShardSpec, run_shard_images

    spec = ShardSpec(size=size or None, crop=crop, ext=ext, quality=quality, seed=seed, max_pixels=max_pixels)
    def run(options):
        try:
            return run_shard_images(out_dir, list(inputs), spec, edges_dir=edges_dir, val_fraction=val_fraction,
                                    options=options, relist=relist)
        except FileNotFoundError as e:
            raise click.BadParameter(str(e), param_hint="IMAGES") from None

    run_job_command(ctx, run, "images", unit="shards", fmt=fmt, shard_size=shard_size, workers=workers)


@click.command()
@click.argument("path", type=LocationType(exists=True, file_okay=False))
@click.option("--size", type=click.IntRange(min=16, max=MAX_SIZE), default=256, show_default=True,
              help="Training size.")
@click.option("--mask-style", type=click.Choice(sorted(STYLES)), default="deepfill-train", show_default=True)
@click.option("--masks", "mask_dir", type=LocationType(exists=True, file_okay=False), default=None,
              help="Take masks from this mask folder instead of drawing --mask-style.")
@click.option("--sketch", is_flag=True, help="Show the sketch (needs edges in the shards).")
@click.option("--count", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--epoch", type=int, default=0, show_default=True)
@click.option("--out", "out_file", type=LocationType(dir_okay=False), default="preview.png", show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace an existing --out that an earlier preview did not write.")
def preview(path, size, mask_style, mask_dir, sketch, count, seed, epoch, out_file, overwrite):
    """A grid PNG of training samples as the trainer sees them: masked image | mask | sketch."""
    from ..pipelines.training.preview import pair_spec, write_preview

    try:
        shown = write_preview(path, pair_spec(size, mask_style, mask_dir, sketch, seed), count, out_file, epoch,
                              overwrite)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    click.echo(f"wrote {out_file} ({shown} samples)")
