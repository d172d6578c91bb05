"""Progress of a long job for a person: a tqdm bar (total, rate, ETA) on a terminal, and without
one (a cluster driver's log, CI, `nohup`) one line every INPAINT_DATA_LOG_EVERY seconds (default
30) with the count, rate, ETA and skipped inputs, and a last line at the end."""

from __future__ import annotations

import os
import sys
import time

import click

#: Seconds between progress lines when stderr is not a terminal.
LOG_EVERY_ENV = "INPAINT_DATA_LOG_EVERY"
DEFAULT_LOG_EVERY = 30.0


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min" if seconds >= 3600 else \
        f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


class _Closing:
    """`with progress(...) as bar:` closes the bar at the end."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LogProgress(_Closing):
    """The terminal-less twin of a tqdm bar: update(n), skip(n), set_total(n), close()."""

    def __init__(self, total: int | None, unit: str, every: float):
        self.total, self.unit, self.every = total, unit, every
        self.count = self.skipped = 0
        self.start = self.last = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.count += n
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            click.echo(self.line(now), err=True)

    def skip(self, n: int) -> None:
        self.skipped += n

    def set_total(self, total: int, unit: str | None = None) -> None:
        self.total, self.unit = total, unit or self.unit

    def line(self, now: float) -> str:
        elapsed = max(now - self.start, 1e-9)
        rate = self.count / elapsed
        done = f"{self.count:,}" + (f"/{self.total:,} {self.unit} ({self.count / self.total:.1%})" if self.total
                                    else f" {self.unit}")
        text = f"progress: {done}, {rate:.3g}/s, {_duration(elapsed)} so far"
        if self.total and rate > 0 and self.count < self.total:
            text += f", ETA {_duration((self.total - self.count) / rate)}"
        return text + (f", {self.skipped:,} inputs skipped" if self.skipped else "")

    def close(self) -> None:
        if self.count:
            click.echo(self.line(time.monotonic()).replace("progress:", "done:", 1), err=True)


class BarProgress(_Closing):
    """tqdm on a terminal, with skips in its postfix."""

    def __init__(self, total: int | None, unit: str):
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit=unit, dynamic_ncols=True, file=sys.stderr)
        self.skipped = 0

    def update(self, n: int = 1) -> None:
        self.bar.update(n)

    def skip(self, n: int) -> None:
        self.skipped += n
        self.bar.set_postfix(skipped=self.skipped)

    def set_total(self, total: int, unit: str | None = None) -> None:
        self.bar.total = total
        self.bar.unit = unit or self.bar.unit
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


def progress(total: int | None, unit: str):
    """A bar on a terminal, periodic log lines otherwise (INPAINT_DATA_LOG_EVERY seconds)."""
    if sys.stderr.isatty():
        return BarProgress(total, unit)
    return LogProgress(total, unit, float(os.environ.get(LOG_EVERY_ENV, DEFAULT_LOG_EVERY)))
