"""`inpaint-data train MODEL` and `inpaint-data export RUN_DIR`."""

from __future__ import annotations

import click

from .. import storage
from ..maskgen.styles import STYLES
from ..models.registry import MODELS
from .params import MAX_SIZE, LocationType
from .progress import progress

FILE = LocationType(exists=True, dir_okay=False)
FOLDER = LocationType(exists=True, file_okay=False)


def _common_options(entry) -> list:
    """The options every model takes, with this model's defaults; its own are added from its entry."""
    def default(name: str) -> str:
        value = entry.defaults.get(name)
        return f" [{','.join(map(str, value)) if isinstance(value, tuple) else value}]" if value is not None else ""

    finetune = f"; with --finetune{default('finetune_lr')}" if "finetune_lr" in entry.defaults else ""
    return [
        click.option("--config", "config_file", type=FILE, default=None,
                     help="YAML or JSON file of these options (underscores for dashes); options given here win."),
        click.option("--data", type=FOLDER, help="Image shards (`inpaint-data shard`)."),
        click.option("--val-data", type=FOLDER, help="Validation shards (default: --data)."),
        click.option("--masks", type=FOLDER, help="Mask shards to pair with the images."),
        click.option("--mask-style", type=click.Choice(sorted(STYLES)),
                     help=f"Else: masks drawn per sample{default('mask_style')}."),
        click.option("--size", type=click.IntRange(min=1, max=MAX_SIZE), help=f"Training size{default('size')}."),
        click.option("--batch-size", type=int, help=f"Per worker{default('batch_size')}."),
        click.option("--steps", type=click.IntRange(min=1), help="Optimiser steps in all (or --epochs)."),
        click.option("--epochs", type=click.IntRange(min=1)),
        click.option("--lr", type=float, help=f"Adam learning rate{default('lr')}{finetune}."),
        click.option("--betas", type=str, help=f"Adam betas B1,B2{default('betas')}."),
        click.option("--workers", type=int, help="Ray Train workers (DDP); 0 runs in this process [1]."),
        click.option("--gpus-per-worker", type=float, help="[0]"),
        click.option("--cpus-per-worker", type=float, help="[fits the workers on the cluster's CPUs]"),
        click.option("--precision", type=click.Choice(["fp32", "bf16", "fp16"]), help="Autocast dtype [fp32]."),
        click.option("--seed", type=int),
        click.option("--init", type=FILE, help="Start from these weights (fine-tuning)."),
        click.option("--ema", type=float, help="Decay of the generator's moving average, used for validation and "
                                               f"export (0: off) [{entry.default_of('ema') or 0}]."),
        click.option("--keep", type=int, help="Checkpoints kept [3]."),
        click.option("--log-every", type=int),
        click.option("--val-every", type=int),
        click.option("--sample-every", type=int),
        click.option("--checkpoint-every", type=int),
        click.option("--num-val", type=int, help="Fixed validation images [8]."),
        click.option("--out", type=LocationType(file_okay=False),
                     help="Run folder or URL; the same command again resumes."),
    ]


def _model_option(entry, setting):
    """A click option for one of a model's own settings (models/settings.py)."""
    default = entry.default_of(setting.name)
    if default is None and setting.default not in (None, False):
        default = setting.default
    help_text = setting.help + (f" [{default}]" if default is not None and "[" not in setting.help else "")
    if setting.kind is bool:
        return click.option(f"{setting.option}/--no-{setting.option[2:]}", setting.name, default=None, help=help_text)
    kind = FILE if setting.path else click.Choice(setting.choices) if setting.choices else setting.kind
    return click.option(setting.option, setting.name, type=kind, help=help_text)


def _recipe_option(entry):
    described = [f"{recipe} ({', '.join(f'{k} {v}' for k, v in values.items() if v is not None)})"
                 for recipe, values in entry.recipes.items() if values]
    help_text = ("Training recipe (docs/training.md): " + " or ".join(described) if described
                 else "Training recipe: the paper's settings either way") + " [stable]."
    return click.option("--recipe", type=click.Choice(list(entry.recipes)), help=help_text)


def _train_command(name: str, entry) -> click.Command:
    @click.pass_context
    def command(ctx, config_file, **options):
        from ..pipelines.options import RunOptions
        from ..pipelines.training.config import train_config
        from ..pipelines.training.run import run_training

        try:
            config = train_config(name, config_file, **options)
        except ValueError as e:
            raise click.UsageError(str(e)) from None
        at = {"step": 0}

        def on_metrics(metrics: dict) -> None:
            bar.update(max(0, metrics["step"] - at["step"]))
            at["step"] = max(at["step"], metrics["step"])

        with progress(config.steps, "step") as bar:
            try:
                options = RunOptions(ray_address=ctx.obj.get("ray_address"), on_progress=on_metrics)
                last = run_training(config, options).metrics
            except ValueError as e:
                raise click.UsageError(str(e)) from None
        shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in last.items()}
        click.echo(f"run at {config.out}: " + ", ".join(f"{k} {v}" for k, v in shown.items()))

    own = [_recipe_option(entry), *(_model_option(entry, setting) for setting in entry.settings)]
    for option in reversed([*_common_options(entry), *own]):
        command = option(command)
    command.__doc__ = f"""Train {entry.about} Defaults in [brackets] are the paper's settings.

    Runs on Ray Train, on one CPU or a GPU cluster (--ray-address); the same command again resumes.
    """
    return click.command(name, short_help=entry.about.split(":")[0] + ".")(command)


class TrainGroup(click.Group):
    """One subcommand per model of the registry, each with that model's options."""

    def list_commands(self, ctx):
        return list(MODELS)

    def get_command(self, ctx, name):
        return _train_command(name, MODELS[name]) if name in MODELS else None


@click.group(cls=TrainGroup)
def train():
    """Train a MODEL of the registry (listed below) on Ray Train, on one CPU or a GPU cluster
    (--ray-address). `train MODEL --help` lists that model's options; defaults in [brackets] are
    the papers' settings per model.

    \b
    Examples:
      inpaint-data train deepfillv2 --data shards/train --val-data shards/val --steps 100000 --out runs/df
      inpaint-data --ray-address auto train deepfillv2 --data /nfs/shards --workers 8 \\
          --gpus-per-worker 1 --precision bf16 --sketch --out /nfs/runs/df
      inpaint-data train pconv --data shards/train --steps 5000 --finetune --init runs/pc/best.pt --out runs/pc2
    """


@click.command()
@click.argument("run_dir", type=LocationType(exists=True))
@click.option("--out", "out_file", type=LocationType(dir_okay=False), required=True, help="model.pt to write.")
@click.option("--which", type=click.Choice(["best", "latest"]), default="best", show_default=True,
              help="best by validation L1, or the latest checkpoint.")
@click.option("--torchscript", is_flag=True,
              help="Write a TorchScript model in LaMa's to_jit.py convention instead: forward(image, mask), "
                   "image B x 3 x H x W in [0, 1], mask B x 1 x H x W with 1 = hole, returns the composite in "
                   "[0, 1], any size and mask dtype (IOPaint runs it as its LaMa model). RUN_DIR may also be "
                   "a model file from `export`.")
@click.option("--onnx", is_flag=True,
              help="Write an ONNX model in the same convention instead, for 1 x 3 x S x S float images and masks, "
                   "S the --trace-size (pad or resize to it); needs `pip install \"inpaint-data[onnx]\"`. RUN_DIR "
                   "may also be a model file from `export`.")
@click.option("--trace-size", type=click.IntRange(min=8), default=256, show_default=True,
              help="--torchscript: side of the example traced; --onnx: the model's input side (each rounded up to "
                   "the model's size step).")
@click.option("--overwrite", is_flag=True, help="Replace an existing --out that `export` did not write.")
def export(run_dir, out_file, which, torchscript, onnx, trace_size, overwrite):
    """An inference checkpoint (weights + model config) from a training run, a TorchScript model
    that eval and inpaint take as --model torchscript:PATH (and other tools as they take
    big-lama.pt), or an ONNX model for onnxruntime."""
    from ..pipelines.training.checkpoints import export_model, export_onnx_file, export_torchscript

    if torchscript and onnx:
        raise click.UsageError("give --torchscript or --onnx, not both")
    if not (torchscript or onnx) and not storage.is_dir(run_dir):
        raise click.UsageError(f"{run_dir} is not a run folder (a model file is taken with --torchscript or --onnx)")
    try:
        if onnx:
            info = export_onnx_file(run_dir, out_file, which, trace_size, overwrite)
        elif torchscript:
            info = export_torchscript(run_dir, out_file, which, trace_size, overwrite)
        else:
            info = export_model(run_dir, out_file, which, overwrite)
    except FileNotFoundError as e:
        raise click.UsageError(str(e)) from None
    kind = (f", ONNX, 1 x 3 x {info['size']} x {info['size']}" if onnx else
            ", TorchScript, any size (IOPaint takes it as big-lama.pt)" if torchscript else "")
    click.echo(f"wrote {out_file}: {info['model_config']} at step {info['step']}{kind}")


@click.command("import")
@click.argument("source")
@click.option("--out", "out_file", required=True, help="The model file to write (.pt).")
@click.option("--overwrite", is_flag=True, help="Replace an existing --out that `export` or `import` did not write.")
def import_command(source, out_file, overwrite):
    """Released weights as a model file of ours: LaMa's Lightning checkpoint (big-lama/models/best.ckpt,
    lama-fourier, any LaMa run's .ckpt; architecture from the config inside), LaMa's generator
    traced by its to_jit.py (IOPaint's big-lama.pt), or our own export --torchscript file (the
    weights only: the TorchScript program is never loaded). Everything is read as data; no code
    from the file runs. The file works as --model for eval and inpaint, and as --init for train,
    which then also starts from its discriminator and optimiser states when it has them."""
    from ..pipelines.training.checkpoints import import_model

    info = import_model(source, out_file, overwrite)
    source_info = info["source"]
    step = f" (step {source_info['step']})" if source_info.get("step") is not None else ""
    click.echo(f"wrote {out_file}: {info['model_config']} from {source_info.get('format')} {source_info.get('file')}"
               f"{step}; parts: {', '.join(info['parts'])}")
    if info["settings"]:
        click.echo("  its training settings: " + ", ".join(f"{k} {v}" for k, v in info["settings"].items()))
