"""`inpaint-data train MODEL` and `inpaint-data export RUN_DIR`."""

from __future__ import annotations

import json
from dataclasses import fields

import click

from .. import storage
from ..errors import first_line
from ..maskgen.styles import STYLES
from ..models.registry import MODELS
from ..pipelines.training.config import default_help
from .params import MAX_SIZE, LocationType
from .progress import progress


def _load_config_file(path: str) -> dict:
    """The settings of a YAML or JSON --config file; a one-line error when it does not parse."""
    import yaml

    try:
        text = storage.read_bytes(path).decode()
    except UnicodeDecodeError as e:
        raise click.BadParameter(f"{path} is not UTF-8 text ({first_line(e, 120)})", param_hint="--config") from None
    try:
        settings = yaml.safe_load(text) if path.endswith((".yaml", ".yml")) else json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as e:
        raise click.BadParameter(f"{path} does not parse: {first_line(e, 200)}", param_hint="--config") from None
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        raise click.BadParameter(f"{path} must hold a mapping of settings, not a {type(settings).__name__}",
                                 param_hint="--config")
    return settings


@click.command()
@click.argument("model", type=click.Choice(list(MODELS)))
@click.option("--config", "config_file", type=LocationType(exists=True, dir_okay=False), default=None,
              help="YAML or JSON file of these options (underscores for dashes); options given here win.")
@click.option("--data", type=LocationType(exists=True, file_okay=False), help="Image shards (`inpaint-data shard`).")
@click.option("--val-data", type=LocationType(exists=True, file_okay=False),
              help="Validation shards (default: --data).")
@click.option("--masks", type=LocationType(exists=True, file_okay=False), help="Mask shards to pair with the images.")
@click.option("--mask-style", type=click.Choice(sorted(STYLES)), help="Else: masks drawn per sample [deepfill-train].")
@click.option("--sketch/--no-sketch", default=None, help="deepfillv2: the sketch channel (needs edges in the shards).")
@click.option("--size", type=click.IntRange(min=1, max=MAX_SIZE), help=f"Training size {default_help('size')}.")
@click.option("--batch-size", type=int, help=f"Per worker {default_help('batch_size')}.")
@click.option("--steps", type=click.IntRange(min=1), help="Optimiser steps in all (or --epochs).")
@click.option("--epochs", type=click.IntRange(min=1))
@click.option("--lr", type=float,
              help=f"Adam learning rate {default_help('lr')}; with --finetune {default_help('finetune_lr')}.")
@click.option("--betas", type=str, help=f"Adam betas B1,B2 {default_help('betas')}.")
@click.option("--workers", type=int, help="Ray Train workers (DDP); 0 runs in this process [1].")
@click.option("--gpus-per-worker", type=float, help="[0]")
@click.option("--cpus-per-worker", type=float, help="[fits the workers on the cluster's CPUs]")
@click.option("--precision", type=click.Choice(["fp32", "bf16", "fp16"]), help="Autocast dtype [fp32].")
@click.option("--seed", type=int)
@click.option("--finetune/--no-finetune", default=None, help="pconv: stage 2, encoder BN frozen, lr 5e-5.")
@click.option("--init", type=LocationType(exists=True, dir_okay=False), help="Start from these weights (fine-tuning).")
@click.option("--width", type=int, help=f"pconv channel width {default_help('width')}.")
@click.option("--layers", type=int, help="pconv levels [8 at 512, 7 at 256].")
@click.option("--cnum", type=int, help=f"deepfillv2 generator width {default_help('cnum')}.")
@click.option("--dcnum", type=int, help=f"deepfillv2 discriminator width {default_help('dcnum')}.")
@click.option("--recipe", type=click.Choice(["stable", "released"]),
              help="deepfillv2: stable (adversarial weight 0.1, R1 and a moving average; docs/training.md) "
                   "or the released code's settings; pconv has one recipe [stable].")
@click.option("--gan-weight", type=float, help="deepfillv2: weight of the adversarial loss [stable 0.1, released 1].")
@click.option("--gan-warmup", type=int, help="deepfillv2: first steps with the L1 terms alone, D resting [0].")
@click.option("--d-lr", type=float, help="deepfillv2: the discriminator's learning rate [--lr].")
@click.option("--r1-weight", type=float, help="deepfillv2: R1 penalty weight gamma on real images "
                                              "[stable 1, released 0].")
@click.option("--ema", type=float, help="Decay of the generator's moving average, used for validation and export "
                                        "[deepfillv2 stable 0.999; released and pconv 0: off].")
@click.option("--keep", type=int, help="Checkpoints kept [3].")
@click.option("--log-every", type=int)
@click.option("--val-every", type=int)
@click.option("--sample-every", type=int)
@click.option("--checkpoint-every", type=int)
@click.option("--num-val", type=int, help="Fixed validation images [8].")
@click.option("--vgg-weights", type=LocationType(exists=True, dir_okay=False),
              help="pconv: torchvision ImageNet VGG16 state_dict (default: the HED backbone).")
@click.option("--random-vgg", is_flag=True, default=None, help="pconv: untrained VGG for the loss (tests only).")
@click.option("--out", type=LocationType(file_okay=False), help="Run folder or URL; the same command again resumes.")
@click.pass_context
def train(ctx, model, config_file, **options):
    """Train a MODEL (pconv: PConv-UNet, deepfillv2: DeepFill v2) on Ray Train, on one CPU or a GPU
    cluster (--ray-address). Defaults in [brackets] are the papers' settings per model.

    \b
    Examples:
      inpaint-data train deepfillv2 --data shards/train --val-data shards/val --steps 100000 --out runs/df
      inpaint-data --ray-address auto train deepfillv2 --data /nfs/shards --workers 8 \\
          --gpus-per-worker 1 --precision bf16 --sketch --out /nfs/runs/df
      inpaint-data train pconv --data shards/train --steps 5000 --finetune --init runs/pc/best.pt --out runs/pc2
    """
    from ..pipelines.training.run import TrainConfig, run_training

    settings = {"model": model, **(_load_config_file(config_file) if config_file else {})}
    settings = {str(k).replace("-", "_"): v for k, v in settings.items()}
    settings.update({k: v for k, v in options.items() if v is not None})
    if isinstance(settings.get("betas"), str):
        try:
            settings["betas"] = tuple(float(b) for b in settings["betas"].split(","))
        except ValueError:
            raise click.BadParameter("use B1,B2 such as 0.5,0.999", param_hint="--betas") from None
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise click.UsageError(f"unknown settings in the config: {', '.join(unknown)}")
    for required in ("data", "out"):
        if not settings.get(required):
            raise click.UsageError(f"missing --{required}")
    try:
        config = TrainConfig(**settings).resolved()
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    at = {"step": 0}

    def on_metrics(metrics: dict) -> None:
        bar.update(max(0, metrics["step"] - at["step"]))
        at["step"] = max(at["step"], metrics["step"])

    with progress(config.steps, "step") as bar:
        try:
            last = run_training(config, ray_address=ctx.obj.get("ray_address"), on_metrics=on_metrics)
        except ValueError as e:
            raise click.UsageError(str(e)) from None
    shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in last.items()}
    click.echo(f"run at {config.out}: " + ", ".join(f"{k} {v}" for k, v in shown.items()))


@click.command()
@click.argument("run_dir", type=LocationType(exists=True))
@click.option("--out", "out_file", type=LocationType(dir_okay=False), required=True, help="model.pt to write.")
@click.option("--which", type=click.Choice(["best", "latest"]), default="best", show_default=True,
              help="best by validation L1, or the latest checkpoint.")
@click.option("--torchscript", is_flag=True,
              help="Write a TorchScript model in LaMa's to_jit.py convention instead: forward(image, mask), "
                   "image B x 3 x H x W in [0, 1], mask B x 1 x H x W with 1 = hole, returns the composite in "
                   "[0, 1]; H and W multiples of the model's size step (eval/inpaint pad). RUN_DIR may also be "
                   "a model file from `export`.")
@click.option("--trace-size", type=click.IntRange(min=8), default=256, show_default=True,
              help="--torchscript: side of the example traced (rounded up to the model's size step).")
@click.option("--overwrite", is_flag=True, help="Replace an existing --out that `export` did not write.")
def export(run_dir, out_file, which, torchscript, trace_size, overwrite):
    """An inference checkpoint (weights + model config) from a training run, or a TorchScript model
    that eval and inpaint take as --model torchscript:PATH (and other tools as they take big-lama.pt)."""
    from ..pipelines.training.checkpoints import export_model, export_torchscript

    if not torchscript and not storage.is_dir(run_dir):
        raise click.UsageError(f"{run_dir} is not a run folder (a model file is taken with --torchscript)")
    try:
        info = (export_torchscript(run_dir, out_file, which, trace_size, overwrite) if torchscript
                else export_model(run_dir, out_file, which, overwrite))
    except FileNotFoundError as e:
        raise click.UsageError(str(e)) from None
    click.echo(f"wrote {out_file}: {info['model_config']} at step {info['step']}"
               + (f", TorchScript, sizes in steps of {info['multiple']} px" if torchscript else ""))
