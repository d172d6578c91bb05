"""The `inpaint-data` command group."""

from __future__ import annotations

import click

from .. import __version__
from ..errors import InputError, first_line
from .data import preview, shard
from .demo import demo
from .edges import edges, weights
from .evaluate import evaluate_command, inpaint
from .masks import masks
from .train import export, train


def one_line(error: BaseException) -> str:
    """A user-facing message for an InputError or an OSError (which file, and why)."""
    if isinstance(error, OSError) and not isinstance(error, InputError) and error.strerror:
        where = f"{error.filename}: " if error.filename else ""
        return f"{where}{error.strerror}"
    return first_line(error, 500)


class CommandGroup(click.Group):
    """Our errors about the user's input, and OS errors (a read-only or full disk, a missing
    folder), end a command with one line and exit status 1, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (InputError, OSError) as e:
            raise click.ClickException(one_line(e)) from None


@click.group(cls=CommandGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="inpaint-data")
@click.option(
    "--ray-address",
    envvar="RAY_ADDRESS",
    default=None,
    metavar="ADDRESS",
    help="Ray cluster to join (e.g. ray://head:10001 or auto). Default: $RAY_ADDRESS, "
    "else a local Ray with this machine's cores.",
)
@click.pass_context
def main(ctx: click.Context, ray_address: str | None) -> None:
    """Make training data for image inpainting: masks, edges and shards, on Ray."""
    ctx.ensure_object(dict)
    ctx.obj["ray_address"] = ray_address


main.add_command(demo)
main.add_command(masks)
main.add_command(edges)
main.add_command(weights)
main.add_command(shard)
main.add_command(preview)
main.add_command(train)
main.add_command(export)
main.add_command(evaluate_command)
main.add_command(inpaint)
