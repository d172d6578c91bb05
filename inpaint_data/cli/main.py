"""The `inpaint-data` command group."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys

import click

from ..errors import InputError, first_line
from ..fileio import redact
from ..pipelines.ray_runtime import VERBOSE_ENV

#: name -> (module, attribute, one-line help). Commands are imported when chosen, so `--help`
#: and a typo answer at once, without numpy, OpenCV, torch or Ray.
COMMANDS = {
    "demo": ("demo", "demo", "Run the whole toolkit on the embedded sample data, ending in report.html."),
    "masks": ("masks", "masks", "Make a mask data set: free-form styles or occlusions from video."),
    "edges": ("edges", "edges", "HED or Canny edge maps for DeepFill v2's sketch channel."),
    "weights": ("weights", "weights", "The weights files the toolkit reads, where each was found; fetch HED's."),
    "shard": ("data", "shard", "Images into training shards (train/val), joined with edge maps."),
    "preview": ("data", "preview", "A grid PNG of training samples as the trainer sees them."),
    "train": ("train", "train", "Train a model (PConv-UNet, DeepFill v2, LaMa) on Ray Train."),
    "export": ("train", "export", "An inference checkpoint from a training run."),
    "import": ("train", "import_command",
               "A model file of ours from released weights: LaMa's .ckpt or big-lama.pt, DeepFill v2's snap-N.index."),
    "eval": ("evaluate", "evaluate_command", "Per hole-ratio bin L1, L2, PSNR and SSIM of a model or baseline."),
    "inpaint": ("evaluate", "inpaint", "Fill the holes of images of any size with a model or baseline."),
}


def one_line(error: BaseException) -> str:
    """A user-facing message for an InputError or an OSError (which file, and why)."""
    if isinstance(error, OSError) and not isinstance(error, InputError) and error.strerror:
        where = f"{error.filename}: " if error.filename else ""
        return f"{where}{error.strerror}"
    return first_line(error, 500)


class RedactingStream:
    """A text stream that writes every line without URL secrets (fileio.redact): whatever prints
    (our messages, click's errors, progress bars, warnings) cannot show a `user:secret@` or a
    signed URL's signature."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        return self._stream.write(redact(text) if isinstance(text, str) else text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextlib.contextmanager
def redacted_console():
    """sys.stdout and sys.stderr wrapped in RedactingStream while the block runs."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingStream(out), RedactingStream(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


class CommandGroup(click.Group):
    """Commands loaded when chosen (see COMMANDS). Our errors about the user's input, and OS
    errors (a read-only or full disk, a missing folder), end a command with one line and exit
    status 1, never a traceback."""

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[name]
        return getattr(importlib.import_module(f"{__package__}.{module}"), attribute)

    def format_commands(self, ctx, formatter):
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][2]) for name in self.list_commands(ctx)])

    def main(self, *args, **kwargs):
        with redacted_console():
            return super().main(*args, **kwargs)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (InputError, OSError) as e:
            raise click.ClickException(one_line(e)) from None


@click.group(cls=CommandGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="inpaint-data", prog_name="inpaint-data")
@click.option(
    "--ray-address",
    default=None,
    metavar="ADDRESS",
    help="Ray cluster to join (e.g. ray://head:10001 or auto). Default: $RAY_ADDRESS, "
    "else a local Ray with this machine's cores.",
)
@click.option("--verbose", "-v", is_flag=True,
              help="Show Ray's own output too (its workers' and raylets' log lines, Ray Train's reports) and "
                   "the training loop's per-step log; by default only our progress and summaries.")
@click.pass_context
def main(ctx: click.Context, ray_address: str | None, verbose: bool) -> None:
    """Make training data for image inpainting: masks, edges and shards, on Ray."""
    ctx.ensure_object(dict)
    ctx.obj["ray_address"] = ray_address
    if verbose:
        os.environ[VERBOSE_ENV] = "1"  # read by init_ray, and by the Ray workers it starts
        logging.basicConfig(level=logging.INFO, format="%(message)s")
