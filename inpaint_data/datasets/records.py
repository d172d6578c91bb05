"""The sample schema shared by every job: the Sample record, its keys, and the seed a key gives.

A sample is stored as members named `{key}.{ext}`: `png`/`jpg` (RGB image), `mask.png`
(uint8, 255 = hole), `edge.png` (uint8 edge probability x 255) and `json` (metadata); the
codecs between arrays and those bytes are datasets/codec.py's.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_\-]+$")
IMAGE_EXTS = ("png", "jpg")
MASK_EXT = "mask.png"
EDGE_EXT = "edge.png"
META_EXT = "json"


@dataclass
class Sample:
    """One record. `image` is RGB uint8 H x W x 3 or already-encoded bytes in `image_ext`."""

    key: str
    image: np.ndarray | bytes | None = None
    image_ext: str = "png"
    mask: np.ndarray | None = None
    edge: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SampleError:
    """An input that was skipped: where it came from and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Skipped:
    """A candidate sample left out on purpose (a scene cut, a static pair, a near-duplicate)."""

    reason: str


def check_key(key: str) -> str:
    """Keys name files and tar members: letters, digits, '_' and '-' only (no dots)."""
    if not KEY_PATTERN.match(key):
        raise ValueError(f"invalid sample key {key!r}: use letters, digits, '_' and '-' only")
    return key


def sample_key(index: int, width: int = 9) -> str:
    """The zero-padded key of sample `index` (e.g. 000000123)."""
    return f"{index:0{width}d}"


def key_seed(text: str) -> int:
    """A 32-bit seed from a key or a path (the first 4 bytes of its SHA-1, little-endian): every
    per-sample random choice derives from default_rng([seed, ..., key_seed(key)]), so it is the
    same whichever worker, shard or order draws it."""
    return int.from_bytes(hashlib.sha1(text.encode()).digest()[:4], "little")
