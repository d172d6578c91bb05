"""`inpaint-data eval` and `inpaint-data inpaint`."""

from __future__ import annotations

from pathlib import Path

import click

from ..datasets.images import MAX_PIXELS
from ..inference import BASELINES


def _filler(model, baseline, device):
    from ..inference import ModelFiller, baseline_fill

    if (model is None) == (baseline is None):
        raise click.UsageError("give --model or --baseline")
    if baseline:
        return lambda image, hole, sketch=None: baseline_fill(image, hole, baseline), f"baseline {baseline}"
    try:
        filler = ModelFiller(model, device)
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    return filler.fill, f"model {model} ({filler.config['model']})"


@click.command("eval")
@click.option("--images", required=True, type=click.Path(exists=True), help="Test image shards or an image folder.")
@click.option("--masks", required=True, type=click.Path(exists=True, file_okay=False),
              help="Mask shards (e.g. `masks --balance nvidia`) or a folder of mask PNGs (255 = hole).")
@click.option("--model", type=click.Path(exists=True, dir_okay=False), help="A model from `inpaint-data export`.")
@click.option("--baseline", type=click.Choice(BASELINES), help="OpenCV inpainting or mean colour, no model needed.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
@click.option("--max-pixels", type=click.IntRange(min=1), default=MAX_PIXELS, show_default=True,
              help="Skip (and record) images and masks whose header claims more pixels than this.")
@click.option("--device", default="cpu", show_default=True)
def evaluate_command(images, masks, model, baseline, out_dir, max_pixels, device):
    """Per NVIDIA hole-ratio bin and border/no-border: L1 (%), L2 (%), PSNR, SSIM on the composite.

    Image i (in key order) gets mask i mod M; images are resized and centre-cropped to the mask
    size. Writes metrics.json, metrics.csv and worst_best.png (worst and best by PSNR).
    """
    from ..pipelines.evaluate import evaluate, summarise, write_report

    fill, what = _filler(model, baseline, device)
    skipped: list[dict] = []
    try:
        cases, strips = evaluate(images, masks, fill, skipped=skipped, max_pixels=max_pixels)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    for s in skipped:
        click.echo(f"skipped {s['path']}: {s['reason']}", err=True)
    if not cases:
        raise click.UsageError(f"no readable images in {images}")
    rows = summarise(cases)
    write_report(out_dir, rows, cases, strips, {"images": images, "masks": masks, "filler": what, "skipped": skipped})
    click.echo(f"{len(cases)} images, {what}" + (f", {len(skipped)} inputs skipped" if skipped else ""))
    click.echo(f"{'bin':<12}{'group':<11}{'n':>6}{'L1 %':>8}{'L2 %':>8}{'PSNR':>8}{'SSIM':>8}")
    for r in rows:
        click.echo(f"{r['bin']:<12}{r['group']:<11}{r['count']:>6}{r['l1']:>8.2f}{r['l2']:>8.2f}"
                   f"{r['psnr']:>8.2f}{r['ssim']:>8.3f}")
    click.echo(f"wrote {Path(out_dir) / 'metrics.json'}, metrics.csv, worst_best.png")


@click.command()
@click.argument("images", type=click.Path(exists=True))
@click.option("--mask", "masks", required=True, type=click.Path(exists=True),
              help="One mask PNG for every image, or a folder of masks named like the images (255 = hole).")
@click.option("--sketch", "sketches", type=click.Path(exists=True), default=None,
              help="deepfillv2 with sketch: an edge PNG or a folder named like the images.")
@click.option("--model", type=click.Path(exists=True, dir_okay=False), help="A model from `inpaint-data export`.")
@click.option("--baseline", type=click.Choice(BASELINES))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Folder for the filled PNGs ({key}.png); it may not hold any input.")
@click.option("--overwrite", is_flag=True, help="Replace PNGs already in --out (default: refuse).")
@click.option("--max-pixels", type=click.IntRange(min=1), default=MAX_PIXELS, show_default=True,
              help="Refuse images and masks whose header claims more pixels than this.")
@click.option("--device", default="cpu", show_default=True)
def inpaint(images, masks, sketches, model, baseline, out_dir, overwrite, max_pixels, device):
    """Fill the holes of images of any size; known pixels are kept bit for bit. Writes PNGs.

    Unreadable images and masks are skipped and listed; the exit status is non-zero when no
    image was filled.
    """
    from ..pipelines.inpaint import InpaintJob, plan_inpaint, run_inpaint

    fill, what = _filler(model, baseline, device)
    job = InpaintJob(images=images, masks=masks, sketches=sketches, out=out_dir, overwrite=overwrite,
                     max_pixels=max_pixels)
    try:
        plan = plan_inpaint(job)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    result = run_inpaint(plan, fill)
    for path, reason in result.skipped:
        click.echo(f"skipped {path}: {reason}", err=True)
    if not result.filled:
        raise click.ClickException(f"no image filled ({len(result.skipped)} skipped)")
    click.echo(f"{result.filled} images filled with {what} into {out_dir}"
               + (f", {len(result.skipped)} skipped" if result.skipped else ""))
