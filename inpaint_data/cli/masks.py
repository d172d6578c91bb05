"""`inpaint-data masks`: make mask data sets, and `masks stats` to look at one."""

from __future__ import annotations

import click

from ..maskgen.styles import MIXED, STYLES, parse_mix
from .jobs import job_options, run_job_command
from .masks_video import video_options
from .params import MAX_COUNT, LocationType, RangeType, SizeType

STYLE_HELP = "\n".join(f"  {name}: {s.about}" for name, s in STYLES.items())


@click.group(invoke_without_command=True,
             epilog="\b\nStyles:\n" + STYLE_HELP + f"\n  {MIXED}: a weighted choice, see --mix")
@click.option("--free-form", "free_form", is_flag=True, help="Draw synthetic masks of a --style.")
@click.option("--from-video", "videos", multiple=True, metavar="PATH",
              help="Occlusion masks from these videos: a file, a folder or a glob; repeat for more.")
@click.option("--style", type=click.Choice([*STYLES, MIXED]), default="deepfill", show_default=True,
              help="Mask style (listed below).")
@click.option("--mix", default=None, metavar="STYLE:W,...",
              help="mixed: styles and weights, e.g. deepfill:0.5,box:0.5.")
@click.option("--count", type=click.IntRange(1, MAX_COUNT), default=1000, show_default=True,
              help=f"Number of masks (at most {MAX_COUNT:.0e}).")
@click.option("--size", type=SizeType(), default="512", show_default=True,
              help="Mask size: 512 or WIDTHxHEIGHT (at least 32 px a side).")
@click.option("--out", "out_dir", type=LocationType(file_okay=False), default=None,
              help="Output folder (required); re-running the same command there resumes.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Mask i is drawn from numpy default_rng([seed, i]).")
@job_options(shard_size=1000, unit="masks")
@click.option("--hole-range", type=RangeType(float, 0.0, 1.0), default=None,
              help="Keep only masks with LO < hole ratio <= HI (redrawn until inside).")
@click.option("--balance", type=click.Choice(["nvidia"]), default=None,
              help="nvidia: equal counts in the six NVIDIA hole-ratio bins, half of each without "
                   "holes near the border (use a --count divisible by 12).")
@click.option("--dilate/--no-dilate", default=None,
              help="Grow masks with too few holes into the range instead of redrawing them: free-form "
                   "masks by uniting more draws of the style (dilation as a last resort), video masks "
                   "by dilation (as NVIDIA did). Default: on with --balance, off with --hole-range.")
@click.option("--invert", is_flag=True, help="Write 255 = valid, 0 = hole (json hole_value says which).")
@video_options
@click.option("--box-size", type=RangeType(float, 0.0, 1.0), default="0.375:0.5", show_default=True,
              help="box: side as a fraction of the canvas side, MIN:MAX (DeepFill v2: 96..128 px at 256).")
@click.option("--box-count", type=RangeType(int, 1, None), default="1", show_default=True,
              help="box: boxes per mask, N or MIN:MAX.")
@click.pass_context
def masks(ctx, free_form, videos, style, mix, count, size, out_dir, fmt, seed, shard_size, workers, hole_range,
          balance, dilate, invert, box_size, box_count, **video):
    """Make a mask data set (PNG, 255 = hole, plus a json record per mask).

    \b
    Examples:
      inpaint-data masks --free-form --style deepfill --count 10000 --size 256 --out masks/
      inpaint-data masks --free-form --style pconv-keras --balance nvidia --count 12000 --out test/
      inpaint-data masks --free-form --style mixed --mix deepfill:0.5,box:0.5 --out mix/
      inpaint-data masks --from-video videos/ --balance nvidia --out video_masks/
      inpaint-data masks stats masks/
    """
    if ctx.invoked_subcommand is not None:
        return
    if free_form == bool(videos):
        raise click.UsageError("say which masks to make: --free-form or --from-video PATH")
    if out_dir is None:
        raise click.UsageError("missing option --out")
    if balance and hole_range:
        raise click.UsageError("use either --balance or --hole-range, not both")
    dilate = bool(balance) if dilate is None else dilate
    if videos:
        from .masks_video import run_video_command

        run_video_command(ctx, list(videos), size, out_dir, fmt, seed, workers, hole_range, balance, dilate, **video)
        return
    if box_size[0] <= 0:
        raise click.BadParameter("the box side must be above 0", param_hint="--box-size")
    if (style == MIXED) != (mix is not None):
        raise click.UsageError("--mix goes with --style mixed, and --style mixed needs --mix")
    from ..pipelines.jobs.masks_synth import FreeFormSpec, check_spec, run_free_form_masks

    options: dict = {}
    if style == "box":
        options = {"size": tuple(box_size), "count": tuple(box_count)}
    elif style == MIXED:
        try:
            options = {"mix": parse_mix(mix)}
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--mix") from None
    spec = FreeFormSpec(
        style=style, height=size[0], width=size[1], seed=seed, options=options,
        hole_range=hole_range, balance=balance, dilate=dilate, invert=invert,
    )
    try:
        check_spec(spec)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    if balance and count % 12:
        click.echo(f"note: {count} is not divisible by 12; the first cells get one mask more", err=True)
    run_job_command(ctx, lambda options: run_free_form_masks(out_dir, spec, count=count, options=options), "masks",
                    unit="mask", total=count, fmt=fmt, shard_size=shard_size, workers=workers)


@masks.command("stats")
@click.argument("path", type=LocationType(exists=True, file_okay=False))
@click.option("--sheet", "sheet_count", type=click.IntRange(min=1), default=64, show_default=True,
              help="Masks on the contact sheet.")
@click.option("--out", "out_dir", type=LocationType(file_okay=False), default=None,
              help="Where to write the PNGs. Default: PATH itself, hidden (.contact_sheet.png and .histogram.png, so "
                   "that readers of the folder see its shards alone).")
def stats(path, sheet_count, out_dir):
    """Per-bin histogram, hole-ratio mean/sd and LaMa's mean distance from hole pixels to the nearest
    known pixel of a mask set, a contact sheet and a histogram PNG."""
    from .. import storage
    from ..datasets.mask_report import write_mask_report

    target = out_dir or path
    sheet, histogram = storage.join(target, ".contact_sheet.png"), storage.join(target, ".histogram.png")
    try:
        summary = write_mask_report(path, sheet, histogram, keep=sheet_count)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    click.echo(f"{summary.count} masks; hole ratio mean {summary.hole_ratio_mean:.3f}, sd {summary.hole_ratio_sd:.3f}")
    if summary.known_distance:
        d = summary.known_distance
        click.echo("distance from hole pixels to the nearest known pixel (LaMa's Dist 2known), px: "
                   f"mean {d['mean']:.2f}, median {d['median']:.2f}, min {d['min']:.2f}, max {d['max']:.2f}")
    click.echo(f"{'NVIDIA bin':<12}{'masks':>8}{'share':>8}{'border':>8}")
    for label, n in summary.bins.items():
        border = summary.border_by_bin.get(label, "")
        click.echo(f"{label:<12}{n:>8}{n / summary.count:>8.1%}{border:>8}")
    click.echo("styles: " + ", ".join(f"{k} {v}" for k, v in summary.styles.items()))
    for written in (sheet, histogram):
        click.echo(f"wrote {written}")
