"""Mixed precision, one table for every network (trainers, HED): the `--precision` names and
the autocast dtype each means (fp32: no autocast)."""

from __future__ import annotations

from contextlib import nullcontext

import torch

AUTOCAST_DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
PRECISIONS = tuple(AUTOCAST_DTYPES)


def check_precision(precision: str) -> None:
    if precision not in AUTOCAST_DTYPES:
        raise ValueError(f"unknown precision {precision!r}; expected one of {PRECISIONS}")


def autocast(device_type: str, precision: str):
    """torch.autocast for `precision` on `device_type`, or a no-op for fp32."""
    check_precision(precision)
    dtype = AUTOCAST_DTYPES[precision]
    return torch.autocast(device_type, dtype) if dtype is not None else nullcontext()
