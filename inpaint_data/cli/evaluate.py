"""`inpaint-data eval` and `inpaint-data inpaint`."""

from __future__ import annotations

from pathlib import Path

import click

from ..datasets.images import MAX_PIXELS
from ..inference import BASELINES, TRUST_FLAG
from ..maskgen.ratios import BIN_SCHEMES
from ..protocols import PROTOCOLS
from .params import LocationType


def _per_net(values, flag: str) -> dict[str, str]:
    """("alex=a.pth", "vgg=v.pth") -> {"alex": "a.pth", "vgg": "v.pth"}."""
    files = {}
    for value in values:
        net, sep, path = value.partition("=")
        if not sep or net not in ("alex", "vgg"):
            raise click.BadParameter(f"{value!r}: expected alex=PATH or vgg=PATH", param_hint=flag)
        files[net] = path
    return files


MODEL_HELP = ("A model from `inpaint-data export`, or torchscript:PATH for a TorchScript model in LaMa's "
              "to_jit.py convention (`export --torchscript`, big-lama.pt): image in [0, 1], mask 1 = hole; "
              f"a TorchScript file is a program and needs {TRUST_FLAG}.")
TRUST_HELP = ("Run a --model torchscript:PATH: TorchScript is code (it may read or write any file you can), "
              "not data; give this only for files you trust. Exported models (.pt) are data and need no flag.")


@click.command("eval")
@click.option("--images", required=True, type=LocationType(exists=True), help="Test image shards or an image folder.")
@click.option("--masks", type=LocationType(exists=True, file_okay=False),
              help="Mask shards (e.g. `masks --balance nvidia`) or a folder of mask PNGs (255 = hole).")
@click.option("--protocol", type=click.Choice(list(PROTOCOLS)),
              help="A published set-up instead of --masks: its image list (found in the --images folder), mask "
                   "style and size (one mask per image, drawn into --out/masks-N), seed and bins. "
                   "See docs/evaluation.md.")
@click.option("--first", type=click.IntRange(min=1),
              help="--protocol: only the first N images of its list (a quick check, not the published protocol).")
@click.option("--model", help=MODEL_HELP)
@click.option("--baseline", type=click.Choice(BASELINES),
              help="OpenCV inpainting (Telea, Navier-Stokes), mean colour, or PatchMatch (needs "
                   "`pip install \"inpaint-data[patchmatch]\"`); no model needed.")
@click.option("--predictions", type=LocationType(exists=True, file_okay=False),
              help="Score images another tool saved instead of filling: for image K with mask M the file named "
                   "K_M, K (ours, MAT's, CoModGAN's) or M (LaMa's predict.py), any image extension, at the mask's "
                   "size. A pair without one is an error naming it.")
@click.option(TRUST_FLAG, "trust_code", is_flag=True, help=TRUST_HELP)
@click.option("--out", "out_dir", type=LocationType(file_okay=False), required=True)
@click.option("--overwrite", is_flag=True, help="Replace report files in --out that an evaluation did not write.")
@click.option("--bins", type=click.Choice(sorted(BIN_SCHEMES)), default="nvidia", show_default=True,
              help="Hole-ratio bins of the table: NVIDIA's six (0.01-0.6), LaMa's ten 10 % bins, "
                   "CoModGAN's five 0.2 bins.")
@click.option("--inception-weights", type=LocationType(exists=True, dir_okay=False),
              help="pytorch-fid's pt_inception-2015-12-05-6726825d.pth: adds FID, P-IDS and U-IDS.")
@click.option("--lpips-backbone", multiple=True, metavar="NET=PATH",
              help="alex=alexnet-owt-7be5be79.pth or vgg=vgg16-397923af.pth (torchvision's ImageNet weights; "
                   "the heads come from `pip install --no-deps lpips==0.1.4`): adds LPIPS. Repeatable.")
@click.option("--lpips-heads", multiple=True, metavar="NET=PATH",
              help="alex=alex.pth or vgg=vgg.pth: the lpips 0.1.4 wheel's weights/v0.1 files, when the lpips "
                   "package is not installed. Repeatable.")
@click.option("--batch-size", type=click.IntRange(min=1), default=16, show_default=True,
              help="Images filled and scored at once.")
@click.option("--max-pixels", type=click.IntRange(min=1), default=MAX_PIXELS, show_default=True,
              help="Skip (and record) images and masks whose header claims more pixels than this.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:1, ... for the model and metrics.")
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="0: score in this process. N: N Ray actors (Ray Data map_batches over chunks of pairs; one GPU "
                   "each with --device cuda), on the cluster of --ray-address; the same numbers either way.")
@click.option("--table", "table_format", type=click.Choice(["markdown", "latex"]),
              help="Also print the results as the papers print them: bins as rows, metrics as columns "
                   "(every image of a bin). LaTeX uses booktabs' rules.")
@click.pass_context
def evaluate_command(ctx, images, masks, protocol, first, model, baseline, predictions, trust_code, out_dir,
                     overwrite, bins, inception_weights, lpips_backbone, lpips_heads, batch_size, max_pixels,
                     device, workers, table_format):
    """Per hole-ratio bin and border/no-border: L1 (%), L2 (%), PSNR, SSIM on the composite, and
    LPIPS, FID, P-IDS and U-IDS when their weights are given.

    Image i (in key order) gets mask i mod M; images are resized and centre-cropped to the mask
    size. Writes metrics.json, metrics.csv and worst_best.png (worst and best by PSNR).
    """
    from ..inference import FillerError
    from ..pipelines.evaluation.evaluate import EvalSpec
    from ..pipelines.evaluation.protocols import run_protocol
    from ..pipelines.evaluation.run import run_evaluation
    from ..pipelines.evaluation.scoring import MetricWeights
    from ..pipelines.options import RunOptions
    from .progress import progress

    if (masks is None) == (protocol is None):
        raise click.UsageError("give --masks or --protocol")
    if first and not protocol:
        raise click.UsageError("--first goes with --protocol")
    weights = MetricWeights(inception=inception_weights, lpips_backbones=_per_net(lpips_backbone, "--lpips-backbone"),
                            lpips_heads=_per_net(lpips_heads, "--lpips-heads"))
    spec = EvalSpec(model=model, baseline=baseline, predictions=predictions, weights=weights, device=device,
                    bins=bins, batch_size=batch_size, max_pixels=max_pixels, trust_code=trust_code)
    with progress(None, "pairs") as bar:
        options = RunOptions(workers=workers, ray_address=ctx.obj.get("ray_address") if ctx.obj else None,
                             on_progress=bar.update, on_total=bar.set_total)
        try:
            if protocol:
                report = run_protocol(protocol, images, out_dir, spec, options, overwrite, first)
            else:
                report = run_evaluation(images, masks, out_dir, spec, options, overwrite)
        except FillerError as e:
            raise click.ClickException(str(e)) from None
        except ValueError as e:
            raise click.UsageError(str(e)) from None
    for line in report.left_out:
        click.echo(line, err=True)
    for s in report.skipped:
        click.echo(f"skipped {s['path']}: {s['reason']}", err=True)
    click.echo(f"{report.cases} images, {report.filler}"
               + (f", {len(report.skipped)} inputs skipped" if report.skipped else ""))
    _print_table(report.rows)
    if table_format:
        from ..pipelines.evaluation.tables import results_table

        click.echo("\n" + results_table(report.rows, table_format) + "\n")
    click.echo(f"wrote {Path(out_dir) / 'metrics.json'}, metrics.csv, worst_best.png")


#: Column title and format of each metric in the terminal table.
COLUMNS = {"l1": ("L1 %", ".2f"), "l2": ("L2 %", ".2f"), "psnr": ("PSNR", ".2f"), "ssim": ("SSIM", ".3f"),
           "l1_hole": ("L1 hole", ".2f"),
           "lpips_alex": ("LPIPS-A", ".4f"), "lpips_vgg": ("LPIPS-V", ".4f"), "fid": ("FID", ".2f"),
           "p_ids": ("P-IDS", ".3f"), "u_ids": ("U-IDS", ".3f"), "lpips_fid100_f1": ("F1", ".4f")}


def _print_table(rows: list[dict]) -> None:
    names = [n for n in COLUMNS if n in rows[-1]]
    click.echo(f"{'bin':<12}{'group':<11}{'n':>6}" + "".join(f"{COLUMNS[n][0]:>9}" for n in names))
    for r in rows:
        cells = "".join(f"{'-':>9}" if r.get(n) is None else f"{r[n]:>9{COLUMNS[n][1]}}" for n in names)
        click.echo(f"{r['bin']:<12}{r['group']:<11}{r['count']:>6}" + cells)


@click.command()
@click.argument("images", type=LocationType(exists=True))
@click.option("--mask", "masks", required=True, type=LocationType(exists=True),
              help="One mask PNG for every image, or a folder of masks named like the images (255 = hole).")
@click.option("--sketch", "sketches", type=LocationType(exists=True), default=None,
              help="deepfillv2 with sketch: an edge PNG or a folder named like the images.")
@click.option("--model", help=MODEL_HELP)
@click.option("--baseline", type=click.Choice(BASELINES))
@click.option(TRUST_FLAG, "trust_code", is_flag=True, help=TRUST_HELP)
@click.option("--out", "out_dir", type=LocationType(file_okay=False), required=True,
              help="Folder for the filled PNGs ({key}.png); it may not hold any input.")
@click.option("--overwrite", is_flag=True, help="Replace PNGs already in --out (default: refuse).")
@click.option("--max-pixels", type=click.IntRange(min=1), default=MAX_PIXELS, show_default=True,
              help="Refuse images and masks whose header claims more pixels than this.")
@click.option("--device", default="cpu", show_default=True)
@click.option("--hd", type=click.Choice(["auto", "original", "crop", "resize"]), default="auto", show_default=True,
              help="Images larger than the model's training size, as IOPaint fills them: original (whole image), "
                   "crop (each hole with a margin), resize (a smaller copy, the hole pasted back). auto: original "
                   "up to 800 px long side for a model trained at 256 (scaled with its size), else crop, or resize "
                   "when the crops would cover over half the image. Baselines always fill the original.")
def inpaint(images, masks, sketches, model, baseline, trust_code, out_dir, overwrite, max_pixels, device, hd):
    """Fill the holes of images of any size; known pixels are kept bit for bit. Writes PNGs.

    Unreadable images and masks are skipped and listed; the exit status is non-zero when no
    image was filled.
    """
    from ..inference import FillerError
    from ..pipelines.evaluation.inpaint import InpaintJob, run_inpaint

    job = InpaintJob(images=images, masks=masks, sketches=sketches, out=out_dir, overwrite=overwrite,
                     max_pixels=max_pixels, model=model, baseline=baseline, device=device, trust_code=trust_code,
                     hd=hd)
    try:
        result = run_inpaint(job)
    except FillerError as e:
        raise click.ClickException(str(e)) from None
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    for path, reason in result.skipped:
        click.echo(f"skipped {path}: {reason}", err=True)
    if not result.filled:
        raise click.ClickException(f"no image filled ({len(result.skipped)} skipped)")
    click.echo(f"{result.filled} images filled with {result.filler} into {out_dir}"
               + (f", {len(result.skipped)} skipped" if result.skipped else "")
               + (" (" + ", ".join(f"{n} {s}" for s, n in sorted(result.strategies.items())) + ")"
                  if set(result.strategies) - {"original"} else ""))
