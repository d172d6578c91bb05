"""`inpaint-data shard` (images into training shards) and `inpaint-data preview`."""

from __future__ import annotations

import sys

import click

from ..datasets.images import MAX_PIXELS
from ..datasets.manifest import ManifestMismatch
from ..datasets.writers import FORMATS
from ..maskgen.styles import STYLES
from .report import print_summary, shard_progress


@click.command()
@click.argument("inputs", nargs=-1, required=True, metavar="IMAGES...")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Output folder (train/ and val/ inside with --val-fraction); re-running resumes.")
@click.option("--size", type=click.IntRange(min=0), default=256, show_default=True,
              help="Short side after resizing; 0 keeps the images as they are.")
@click.option("--crop", type=click.Choice(["center", "random", "none"]), default="center", show_default=True,
              help="Square crop of --size after resizing (random: seeded per image).")
@click.option("--ext", type=click.Choice(["jpg", "png"]), default="jpg", show_default=True,
              help="Stored encoding (images already at the right size and encoding are kept as they are).")
@click.option("--quality", type=click.IntRange(1, 100), default=95, show_default=True, help="JPEG quality.")
@click.option("--edges", "edges_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="An `inpaint-data edges` output: edge maps joined by key, resized and cropped with the image.")
@click.option("--val-fraction", type=click.FloatRange(0, 1, max_open=True), default=0.0, show_default=True,
              help="Share of images (chosen by key hash and seed) written to OUT/val.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="webdataset", show_default=True)
@click.option("--shard-size", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=None)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--max-pixels", type=click.IntRange(min=1), default=MAX_PIXELS, show_default=True,
              help="Skip (and record) images whose header claims more pixels than this.")
@click.pass_context
def shard(ctx, inputs, out_dir, size, crop, ext, quality, edges_dir, val_fraction, fmt, shard_size, workers, seed,
          max_pixels):
    """Images (folder trees, globs or .txt lists of paths) into training shards.

    \b
    Example (Places2-style tree, 256 px, 1% validation, with HED edges):
      inpaint-data edges --hed places/ --out places_edges/
      inpaint-data shard places/ --edges places_edges/ --size 256 --val-fraction 0.01 --out places_shards/
    """
    from ..pipelines.shard import ShardSpec, run_shard_images

    spec = ShardSpec(size=size or None, crop=crop, ext=ext, quality=quality, seed=seed, max_pixels=max_pixels)
    with shard_progress(None, "shard") as on_shard:
        try:
            results = run_shard_images(out_dir, list(inputs), spec, fmt=fmt, shard_size=shard_size,
                                       edges_dir=edges_dir, val_fraction=val_fraction, workers=workers,
                                       command=" ".join(["inpaint-data", *sys.argv[1:]]), on_shard=on_shard,
                                       ray_address=ctx.obj.get("ray_address"))
        except ManifestMismatch as e:
            raise click.UsageError(str(e)) from None
        except FileNotFoundError as e:
            raise click.BadParameter(str(e), param_hint="IMAGES") from None
    for name, result in results.items():
        click.echo(f"[{name}] ", nl=False)
        print_summary(result, "images")


@click.command()
@click.argument("path", type=click.Path(exists=True, file_okay=False))
@click.option("--size", type=click.IntRange(min=16), default=256, show_default=True, help="Training size.")
@click.option("--mask-style", type=click.Choice(sorted(STYLES)), default="deepfill-train", show_default=True)
@click.option("--masks", "mask_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="Take masks from this mask folder instead of drawing --mask-style.")
@click.option("--sketch", is_flag=True, help="Show the sketch (needs edges in the shards).")
@click.option("--count", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--epoch", type=int, default=0, show_default=True)
@click.option("--out", "out_file", type=click.Path(dir_okay=False), default="preview.png", show_default=True)
def preview(path, size, mask_style, mask_dir, sketch, count, seed, epoch, out_file):
    """A grid PNG of training samples as the trainer sees them: masked image | mask | sketch."""
    import itertools

    import numpy as np

    from ..datasets.images import write_image
    from ..datasets.torch import MaskSource, PairSpec, ShardedTrainingDataset

    masks = MaskSource(path=mask_dir) if mask_dir else MaskSource(style=mask_style)
    dataset = ShardedTrainingDataset(path, PairSpec(size=size, masks=masks, sketch=sketch, seed=seed))
    dataset.set_epoch(epoch)
    try:
        samples = list(itertools.islice(iter(dataset), count))
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    rows = []
    for s in samples:
        image = ((s["image"].transpose(1, 2, 0) + 1) * 127.5).round().astype(np.uint8)
        hole = s["mask"][0] > 0
        masked = image.copy()
        masked[hole] = (255, 255, 255)
        tiles = [masked, np.repeat((hole * 255).astype(np.uint8)[..., None], 3, 2)]
        if "sketch" in s:
            tiles.append(np.repeat((s["sketch"][0] * 255).astype(np.uint8)[..., None], 3, 2))
        rows.append(np.hstack([np.pad(t, ((2, 2), (2, 2), (0, 0)), constant_values=128) for t in tiles]))
    write_image(out_file, np.vstack(rows))
    click.echo(f"wrote {out_file} ({len(samples)} samples)")
