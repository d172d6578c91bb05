"""Click parameter types shared by the commands."""

from __future__ import annotations

import click

from .. import storage
from ..datasets.images import MAX_SIDE

MIN_SIZE = 32
#: Largest mask or image side (`--size`).
MAX_SIZE = MAX_SIDE
#: Most masks one job makes; shard plans are lazy, so this bounds key width, not memory.
MAX_COUNT = 10**10


class SizeType(click.ParamType):
    """`512` (square) or `WIDTHxHEIGHT` such as `384x256`; returns (height, width)."""

    name = "SIZE"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        text = str(value).lower().strip()
        try:
            if "x" in text:
                w, h = (int(v) for v in text.split("x"))
            else:
                w = h = int(text)
        except ValueError:
            self.fail(f"{value!r} is not a size; use 512 or WIDTHxHEIGHT such as 384x256", param, ctx)
        if min(h, w) < MIN_SIZE:
            self.fail(f"{value!r} is too small; each side must be at least {MIN_SIZE} px", param, ctx)
        if max(h, w) > MAX_SIZE:
            self.fail(f"{value!r} is too large; each side must be at most {MAX_SIZE} px", param, ctx)
        return h, w


class RangeType(click.ParamType):
    """`LO:HI` or a single value `V` (meaning V:V), with bounds checked; returns (lo, hi).
    With ordered=False it is just a pair A:B (no LO <= HI check)."""

    name = "LO:HI"

    def __init__(self, kind=float, lo=None, hi=None, ordered=True):
        self.kind, self.lo, self.hi, self.ordered = kind, lo, hi, ordered

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        parts = str(value).split(":")
        try:
            if len(parts) not in (1, 2):
                raise ValueError
            a, b = self.kind(parts[0]), self.kind(parts[-1])
        except ValueError:
            self.fail(f"{value!r} is not a range; use LO:HI or a single value", param, ctx)
        if self.ordered and a > b:
            self.fail(f"{value!r}: the low end is above the high end", param, ctx)
        if (self.lo is not None and min(a, b) < self.lo) or (self.hi is not None and max(a, b) > self.hi):
            self.fail(f"{value!r} must lie within [{self.lo}, {self.hi if self.hi is not None else 'inf'}]", param, ctx)
        return a, b


class LocationType(click.ParamType):
    """A local path (checked as click.Path checks it) or a URL of any fsspec filesystem
    (`s3://bucket/prefix`, `gs://...`, `memory://...`, `file://...`), returned as a string."""

    name = "PATH|URL"

    def __init__(self, exists: bool = False, file_okay: bool = True, dir_okay: bool = True):
        self.exists = exists
        self.local = click.Path(exists=exists, file_okay=file_okay, dir_okay=dir_okay)

    def convert(self, value, param, ctx):
        text = str(value)
        if not storage.is_remote(text):
            return str(self.local.convert(text, param, ctx))
        try:
            if self.exists and not storage.exists(text):
                self.fail(f"{text!r} does not exist", param, ctx)
        except (ImportError, ValueError, OSError) as e:
            self.fail(f"{text!r}: {e}", param, ctx)
        return text.rstrip("/")
