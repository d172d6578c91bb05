"""`inpaint-data eval` and `inpaint-data inpaint`."""

from __future__ import annotations

from pathlib import Path

import click

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
        raise click.BadParameter(str(e), param_hint="--model") from None
    return filler.fill, f"model {model} ({filler.config['model']})"


@click.command("eval")
@click.option("--images", required=True, type=click.Path(exists=True), help="Test image shards or an image folder.")
@click.option("--masks", required=True, type=click.Path(exists=True, file_okay=False),
              help="Mask shards (e.g. `masks --balance nvidia`) or a folder of mask PNGs (255 = hole).")
@click.option("--model", type=click.Path(exists=True, dir_okay=False), help="A model from `inpaint-data export`.")
@click.option("--baseline", type=click.Choice(BASELINES), help="OpenCV inpainting or mean colour, no model needed.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
@click.option("--device", default="cpu", show_default=True)
def evaluate_command(images, masks, model, baseline, out_dir, device):
    """Per NVIDIA hole-ratio bin and border/no-border: L1 (%), L2 (%), PSNR, SSIM on the composite.

    Image i (in key order) gets mask i mod M; images are resized and centre-cropped to the mask
    size. Writes metrics.json, metrics.csv and worst_best.png (worst and best by PSNR).
    """
    from ..pipelines.evaluate import evaluate, summarise, write_report

    fill, what = _filler(model, baseline, device)
    try:
        cases, strips = evaluate(images, masks, fill)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    if not cases:
        raise click.UsageError(f"no images in {images}")
    rows = summarise(cases)
    write_report(out_dir, rows, cases, strips, {"images": images, "masks": masks, "filler": what})
    click.echo(f"{len(cases)} images, {what}")
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
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
@click.option("--device", default="cpu", show_default=True)
def inpaint(images, masks, sketches, model, baseline, out_dir, device):
    """Fill the holes of images of any size; known pixels are kept bit for bit. Writes PNGs."""
    import cv2
    import numpy as np

    from ..datasets.images import ImageError, find_images, read_rgb

    fill, what = _filler(model, baseline, device)

    def lookup(path, image_path, key):
        """One file for every image, or the file in a folder named like the image (stem or key)."""
        if path is None:
            return None
        p = Path(path)
        if p.is_file():
            return cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
        names = {Path(image_path).stem, key}
        found = sorted(f for f in p.iterdir() if f.stem in names)
        return cv2.imread(str(found[0]), cv2.IMREAD_GRAYSCALE) if found else None

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    done = 0
    for path, key in find_images([images]):
        try:
            image = read_rgb(path)
        except ImageError as e:
            click.echo(f"skipped {path}: {e}", err=True)
            continue
        mask = lookup(masks, path, key)
        if mask is None:
            click.echo(f"skipped {path}: no mask named {key}", err=True)
            continue
        if mask.shape != image.shape[:2]:
            mask = cv2.resize(mask, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_NEAREST)
        hole = mask > 127
        sketch = lookup(sketches, path, key)
        if sketch is not None and sketch.shape != hole.shape:
            sketch = cv2.resize(sketch, (hole.shape[1], hole.shape[0]), interpolation=cv2.INTER_NEAREST)
        result = fill(image, hole, None if sketch is None else sketch > 153)  # DeepFill's 0.6 threshold
        cv2.imwrite(str(out / f"{key}.png"), cv2.cvtColor(np.ascontiguousarray(result), cv2.COLOR_RGB2BGR))
        done += 1
    click.echo(f"{done} images filled with {what} into {out}")
