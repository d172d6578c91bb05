"""Charts and image grids for reports (the demo, `masks stats`, `preview`, training samples),
as RGB uint8 arrays ready for write_image. Charts are matplotlib's (Agg, no display needed):
axes, ticks, legends, and a log scale where a series spans orders of magnitude, so one loss
spike does not flatten a curve."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: A series spanning more than this ratio (max / min, all values positive) is drawn on a log axis.
LOG_SCALE_RATIO = 100.0


def _render(fig) -> np.ndarray:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _figure(width: int, height: int):
    from matplotlib.figure import Figure

    dpi = 100
    return Figure(figsize=(width / dpi, height / dpi), dpi=dpi, layout="constrained")


def line_chart(series: dict[str, Sequence[tuple[float, float]]], title: str, xlabel: str = "step",
               ylabel: str = "", width: int = 560, height: int = 300, log_y: bool | None = None) -> np.ndarray:
    """Lines of (x, y) points, one per named series; non-finite points are left out. `log_y`
    None: a log axis when the values are positive and span more than LOG_SCALE_RATIO."""
    fig = _figure(width, height)
    ax = fig.add_subplot()
    values = []
    for name, points in series.items():
        kept = [(x, y) for x, y in points if np.isfinite(y)]
        if kept:
            xs, ys = zip(*kept)
            ax.plot(xs, ys, label=name, linewidth=1.5)
            values.extend(ys)
    if log_y is None:
        log_y = bool(values) and min(values) > 0 and max(values) / min(values) > LOG_SCALE_RATIO
    if log_y:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    if values:
        ax.legend(fontsize="small")
    return _render(fig)


def histogram_chart(values: np.ndarray, title: str, xlabel: str, bins: int = 60, value_range=None,
                    marks: Sequence[float] = (), mark_label: str = "", width: int = 720,
                    height: int = 360) -> np.ndarray:
    """A histogram of `values` with vertical lines at `marks` (e.g. the NVIDIA bin edges)."""
    fig = _figure(width, height)
    ax = fig.add_subplot()
    ax.hist(values, bins=bins, range=value_range, color="#2878b4")
    for n, x in enumerate(marks):
        ax.axvline(x, color="#c82828", linewidth=1, label=mark_label if n == 0 and mark_label else None)
    ax.set(title=title, xlabel=xlabel, ylabel="count")
    if value_range is not None:
        ax.set_xlim(value_range)
    if mark_label and marks:
        ax.legend(fontsize="small")
    return _render(fig)


def image_grid(rows: Sequence[Sequence[np.ndarray]], gap: int = 4, background: int = 128) -> np.ndarray:
    """Tiles (uint8, gray or RGB, any sizes) in rows, `gap` pixels apart on a grey background;
    each row is as tall as its tallest tile, the grid as wide as its widest row."""
    if not rows or not any(rows):
        raise ValueError("no images to show")
    as_rgb = [[t if t.ndim == 3 else np.repeat(t[..., None], 3, 2) for t in row] for row in rows]
    heights = [max(t.shape[0] for t in row) for row in as_rgb]
    widths = [sum(t.shape[1] for t in row) + gap * (len(row) - 1) for row in as_rgb]
    grid = np.full((sum(heights) + gap * (len(rows) + 1), max(widths) + 2 * gap, 3), background, np.uint8)
    y = gap
    for row, h in zip(as_rgb, heights):
        x = gap
        for tile in row:
            grid[y : y + tile.shape[0], x : x + tile.shape[1]] = tile
            x += tile.shape[1] + gap
        y += h + gap
    return grid
