"""Readers for the three output formats: raw members or decoded samples, in key order per shard.

Shards may be remote (a URL, see storage): tars and parquet files are streamed from the store
(a tar is read front to back once, never copied whole to disk)."""

from __future__ import annotations

import logging
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq

from .. import storage
from ..fileio import TMP_MARK
from .codec import decode_sample, row_to_members
from .manifest import read_manifest
from .records import Sample

log = logging.getLogger("inpaint_data")
#: Largest tar member read (its size as the header states it, sparse members included);
#: larger ones are skipped and reported, so a crafted shard cannot exhaust memory.
MAX_MEMBER_BYTES = 256 * 2**20

SHARD_PATTERN = re.compile(r"^[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*-(\d{6,})(\.tar|\.parquet)?$")


def detect_format(path: storage.Location) -> str:
    """The format of an output folder: from its manifest, else from the shard files present."""
    manifest = read_manifest(path)
    if manifest and "format" in manifest.get("job", {}):
        return manifest["job"]["format"]
    names = storage.list_names(path)
    if any(n.endswith(".tar") for n in names):
        return "webdataset"
    if any(n.endswith(".parquet") for n in names):
        return "parquet"
    if any(SHARD_PATTERN.match(n) and storage.is_dir(storage.join(path, n)) for n in names):
        return "files"
    raise ValueError(f"{path} holds no shards in a known format")


def shard_paths(path: storage.Location, fmt: str | None = None) -> list[Path | str]:
    """The committed shards of an output folder, sorted (temporary files excluded); Paths for a
    local folder, URLs for a remote one."""
    fmt = fmt or detect_format(path)
    suffix = {"files": "", "webdataset": ".tar", "parquet": ".parquet"}[fmt]
    names = [n for n in storage.list_names(path) if TMP_MARK not in n and SHARD_PATTERN.match(n) and n.endswith(suffix)]
    found = [storage.join(path, n) for n in names]
    found = [p for p in found if (storage.is_dir(p) if fmt == "files" else storage.is_file(p))]
    # by shard number, not name: past 999,999 shards the numbers grow a digit
    return sorted(found, key=lambda p: (int(SHARD_PATTERN.match(storage.name_of(p)).group(1)), storage.name_of(p)))


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


def _skip(skipped: list[tuple[str, str]] | None, where: str, reason: str) -> None:
    if skipped is None:
        log.warning("skipped %s: %s", where, reason)
    else:
        skipped.append((where, reason))


def _files_members(shard: str | Path, skipped: list[tuple[str, str]] | None,
                   max_member_bytes: int) -> Iterator[tuple[str, bytes]]:
    if storage.is_remote(shard):
        fs, folder = storage.filesystem(str(shard))
        sizes = {storage.name_of(e["name"]): e["size"] for e in fs.ls(folder, detail=True) if e["type"] == "file"}
    else:
        sizes = {f.name: f.stat().st_size for f in Path(shard).iterdir()}
    for name in sorted(sizes, key=_split_member):
        where = storage.join(shard, name)
        if sizes[name] > max_member_bytes:
            _skip(skipped, str(where), f"{sizes[name]:,} bytes is over the {max_member_bytes:,}-byte member limit")
            continue
        yield name, storage.read_bytes(where)


def _tar_members(shard: str | Path, skipped: list[tuple[str, str]] | None,
                 max_member_bytes: int) -> Iterator[tuple[str, bytes]]:
    mode = "r|*" if storage.is_remote(shard) else "r:*"  # a remote tar is streamed front to back, no seeks
    with storage.open_input(shard) as f, tarfile.open(fileobj=f, mode=mode) as tar:
        for info in tar:
            if not info.isfile():
                continue
            if info.size > max_member_bytes:  # the size the header states: a sparse member's full size
                sparse = " (sparse)" if info.issparse() else ""
                _skip(skipped, f"{shard}:{info.name}",
                      f"{info.size:,} bytes{sparse} is over the {max_member_bytes:,}-byte member limit")
                continue
            yield info.name, tar.extractfile(info).read()


def _parquet_records(shard: str | Path, skipped: list[tuple[str, str]] | None,
                     max_member_bytes: int) -> Iterator[tuple[str, dict[str, bytes]]]:
    """A row group at a time; one whose uncompressed size (from the metadata, before anything is
    decompressed) is over `max_member_bytes` a sample is skipped and reported."""
    with storage.open_input(shard) as f:
        parquet = pq.ParquetFile(f)
        for i in range(parquet.num_row_groups):
            meta = parquet.metadata.row_group(i)
            if meta.total_byte_size > max_member_bytes * max(1, meta.num_rows):
                _skip(skipped, f"{shard}:row group {i}", f"{meta.total_byte_size:,} bytes uncompressed for "
                      f"{meta.num_rows} rows is over the {max_member_bytes:,}-byte member limit")
                continue
            for row in parquet.read_row_group(i).to_pylist():
                yield row["key"], row_to_members(row)


def shard_records(shard: str | Path, skipped: list[tuple[str, str]] | None = None,
                  max_member_bytes: int = MAX_MEMBER_BYTES) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(key, {ext: bytes}) for every sample of one shard (.parquet, .tar or a folder).

    Tar members over `max_member_bytes` are left out and appended to `skipped` as
    (shard:member, reason), or logged as a warning when no list is given."""
    name = storage.name_of(shard)
    if name.endswith(".parquet"):
        return _parquet_records(shard, skipped, max_member_bytes)
    if name.endswith(".tar"):
        return _group(_tar_members(shard, skipped, max_member_bytes))
    return _group(_files_members(shard, skipped, max_member_bytes))


def iter_records(path: storage.Location, fmt: str | None = None) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(key, {ext: bytes}) for every sample of an output folder, shard by shard."""
    for shard in shard_paths(path, fmt or detect_format(path)):
        yield from shard_records(shard)


def read_samples(path: storage.Location, fmt: str | None = None) -> Iterator[Sample]:
    """Decoded samples (RGB images, uint8 masks and edges, meta dicts) of an output folder."""
    for key, members in iter_records(path, fmt):
        yield decode_sample(key, members)
