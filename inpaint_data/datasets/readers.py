"""Readers for the three output formats: raw members or decoded samples, in key order per shard."""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq

from .manifest import read_manifest
from .records import EDGE_EXT, IMAGE_EXTS, MASK_EXT, META_EXT, Sample, decode_sample
from .writers import PARQUET_BYTES_COLUMNS, TMP_MARK

SHARD_PATTERN = re.compile(r"^[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*-\d{6}(\.tar|\.parquet)?$")


def detect_format(path: str | Path) -> str:
    """The format of an output folder: from its manifest, else from the shard files present."""
    path = Path(path)
    manifest = read_manifest(path)
    if manifest and "format" in manifest.get("job", {}):
        return manifest["job"]["format"]
    names = [p.name for p in path.iterdir()]
    if any(n.endswith(".tar") for n in names):
        return "webdataset"
    if any(n.endswith(".parquet") for n in names):
        return "parquet"
    if any((path / n).is_dir() and SHARD_PATTERN.match(n) for n in names):
        return "files"
    raise ValueError(f"{path} holds no shards in a known format")


def shard_paths(path: str | Path, fmt: str | None = None) -> list[Path]:
    """The committed shards of an output folder, sorted (temporary files excluded)."""
    path = Path(path)
    fmt = fmt or detect_format(path)
    suffix = {"files": "", "webdataset": ".tar", "parquet": ".parquet"}[fmt]
    return sorted(
        p
        for p in path.iterdir()
        if TMP_MARK not in p.name
        and SHARD_PATTERN.match(p.name)
        and p.name.endswith(suffix)
        and (p.is_dir() if fmt == "files" else p.is_file())
    )


def _split_member(name: str) -> tuple[str, str]:
    base = Path(name).name
    key, _, ext = base.partition(".")
    return key, ext


def _group(pairs: Iterator[tuple[str, bytes]]) -> Iterator[tuple[str, dict[str, bytes]]]:
    """Consecutive members with the same key form one sample."""
    key, members = None, {}
    for name, data in pairs:
        k, ext = _split_member(name)
        if k != key and members:
            yield key, members
            members = {}
        key = k
        members[ext] = data
    if members:
        yield key, members


def _files_members(shard: Path) -> Iterator[tuple[str, bytes]]:
    for f in sorted(shard.iterdir(), key=lambda p: _split_member(p.name)):
        yield f.name, f.read_bytes()


def _tar_members(shard: Path) -> Iterator[tuple[str, bytes]]:
    with tarfile.open(shard) as tar:
        for info in tar:
            if info.isfile():
                yield info.name, tar.extractfile(info).read()


def _parquet_records(shard: Path) -> Iterator[tuple[str, dict[str, bytes]]]:
    for row in pq.read_table(shard).to_pylist():
        members: dict[str, bytes] = {}
        if row.get("image") is not None:
            members[row.get("image_format") or IMAGE_EXTS[0]] = row["image"]
        for ext in (MASK_EXT, EDGE_EXT):
            if row.get(PARQUET_BYTES_COLUMNS[ext]) is not None:
                members[ext] = row[PARQUET_BYTES_COLUMNS[ext]]
        if row.get("meta") is not None:
            members[META_EXT] = row["meta"].encode()
        yield row["key"], members


def shard_records(shard: str | Path) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(key, {ext: bytes}) for every sample of one shard (.parquet, .tar or a folder)."""
    shard = Path(shard)
    if shard.suffix == ".parquet":
        return _parquet_records(shard)
    if shard.suffix == ".tar":
        return _group(_tar_members(shard))
    return _group(_files_members(shard))


def iter_records(path: str | Path, fmt: str | None = None) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(key, {ext: bytes}) for every sample of an output folder, shard by shard."""
    for shard in shard_paths(path, fmt or detect_format(path)):
        yield from shard_records(shard)


def read_samples(path: str | Path, fmt: str | None = None) -> Iterator[Sample]:
    """Decoded samples (RGB images, uint8 masks and edges, meta dicts) of an output folder."""
    for key, members in iter_records(path, fmt):
        yield decode_sample(key, members)
