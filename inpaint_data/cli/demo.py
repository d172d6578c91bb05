"""`inpaint-data demo`."""

from __future__ import annotations

import time

import click


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="demo", show_default=True)
@click.option("--quick", is_flag=True, help="Fewer frames, masks and steps (a smoke test).")
@click.pass_context
def demo(ctx, out_dir, quick):
    """Run the whole toolkit on the embedded sample data and write OUT/report.html."""
    from ..models.hed_weights import ensure_hed_weights
    from ..pipelines.demo import run_demo
    from ..pipelines.options import RunOptions
    from .edges import FETCHING_HED

    started = time.perf_counter()
    ensure_hed_weights(on_fetch=lambda: click.echo(FETCHING_HED))

    def say(stage: str, message: str) -> None:
        click.echo(f"[{time.perf_counter() - started:6.1f} s] {stage}: {message}")

    report = run_demo(out_dir, say, RunOptions(ray_address=ctx.obj.get("ray_address")), quick=quick)
    click.echo(f"done in {time.perf_counter() - started:.0f} s; open {report} in a browser")
