"""The `inpaint-data` command group."""

from __future__ import annotations

import click

from .. import __version__
from .data import preview, shard
from .demo import demo
from .edges import edges, weights
from .evaluate import evaluate_command, inpaint
from .masks import masks
from .train import export, train


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
