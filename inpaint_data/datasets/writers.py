"""Shard writers for the three output formats, and the atomic file writes they all rely on.

Every shard is assembled under a temporary name and renamed into place on commit, so a killed
job never leaves a partial shard. The shard's `.*.stats.json` is written after the shard itself;
its presence is what marks the shard done. Side files and temporary ones are hidden (a leading
`.`), which pyarrow, Ray Data, Spark and Hugging Face datasets skip, so a whole output folder
reads as one data set.

An output may be a URL (storage.is_remote): its shards are built in a local scratch folder and
published under a temporary key, then moved onto their final key; the stats object is written
after that, so "stats exists = shard done" holds on object stores too.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .. import storage
from ..fileio import is_temp_name, remove_path, replace_into, temp_path
from .codec import encode_sample, members_to_row
from .manifest import read_side_json
from .records import Sample

FORMATS = ("files", "webdataset", "parquet")
#: Fixed tar member metadata so that the same samples give the same bytes.
TAR_MTIME = 0


def shard_name(prefix: str, shard: int) -> str:
    return f"{prefix}-{shard:06d}"


def shard_path(out_dir: storage.Location, prefix: str, shard: int, fmt: str) -> str | Path:
    """Where a committed shard lives: a folder (files), a .tar or a .parquet file (a URL
    string for a remote `out_dir`, else a Path)."""
    suffix = {"files": "", "webdataset": ".tar", "parquet": ".parquet"}[fmt]
    return storage.join(out_dir, shard_name(prefix, shard) + suffix)


def stats_name(prefix: str, shard: int) -> str:
    return f".{shard_name(prefix, shard)}.stats.json"


def stats_path(out_dir: storage.Location, prefix: str, shard: int) -> str | Path:
    return storage.join(out_dir, stats_name(prefix, shard))


def remove_temps(out_dir: storage.Location) -> int:
    """Delete what killed writers of this folder left behind (our temporary names only, see
    fileio.is_temp_name); returns how many entries were removed. Call it only while holding
    the folder's lock, so that a live job's temporary files are never taken."""
    removed = 0
    for name in storage.list_names(out_dir):
        if is_temp_name(name):
            storage.remove(storage.join(out_dir, name))
            removed += 1
    return removed


class ShardWriter:
    """Writes the samples of one shard; use as a context manager (commit on success). A remote
    `final` is built in a local scratch folder and published on commit (storage.publish)."""

    def __init__(self, final: str | Path):
        self.final = final
        self._scratch = Path(tempfile.mkdtemp(prefix="inpaint-data-")) if storage.is_remote(final) else None
        self.tmp = self._scratch / storage.name_of(final) if self._scratch else temp_path(final)
        self.count = 0
        self._keys: set[str] = set()

    def write(self, sample: Sample) -> None:
        if sample.key in self._keys:  # a second sample under one key would hide the first
            raise ValueError(f"duplicate sample key {sample.key!r} in shard {storage.name_of(self.final)}")
        self._write(sample.key, encode_sample(sample), sample.meta)
        self._keys.add(sample.key)
        self.count += 1

    def _write(self, key: str, members: dict[str, bytes], meta: dict[str, Any]) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        """Flush and close the temporary output."""

    def commit(self) -> str | Path:
        """Finish the temporary output and rename (or publish) it into place, over a shard of a
        run killed before its stats; on any error (a full disk while flushing) the temporary
        output is removed and the error raised."""
        try:
            self._finish()
            if self._scratch is not None:
                storage.publish(self.tmp, str(self.final))
            else:
                replace_into(self.tmp, self.final)
        except BaseException:
            self.abort()
            raise
        self._remove_scratch()
        return self.final

    def abort(self) -> None:
        """Remove the temporary output, whatever state it is in."""
        try:
            self._close()
        finally:
            remove_path(self.tmp)
            self._remove_scratch()

    def _remove_scratch(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def _close(self) -> None:
        """Release open handles without finishing (abort)."""

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


class FilesWriter(ShardWriter):
    """A folder of `{key}.{ext}` files per shard."""

    def __init__(self, final: str | Path):
        super().__init__(final)
        self.tmp.mkdir(parents=True)

    def _write(self, key, members, meta):
        for ext, data in members.items():
            (self.tmp / f"{key}.{ext}").write_bytes(data)


def _tar_info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, TAR_MTIME, 0o644
    return info


#: The fixed fields of our members' USTAR header (mode, owner, mtime, type, magic, ...).
_TAR_TEMPLATE = _tar_info("x", 0).tobuf(tarfile.USTAR_FORMAT, "utf-8", "surrogateescape")


def tar_header(name: str, size: int) -> bytes:
    """The 512-byte USTAR header tarfile writes for a member of ours (mode 644, mtime
    TAR_MTIME), built from a template: tarfile's own header code is a third of a mask's cost."""
    encoded = name.encode()
    if len(encoded) > 100 or size >= 8**11:  # a prefix field or a bigger size field: tarfile's way
        return _tar_info(name, size).tobuf(tarfile.USTAR_FORMAT, "utf-8", "surrogateescape")
    header = bytearray(_TAR_TEMPLATE)
    header[:100] = encoded.ljust(100, b"\0")
    header[124:136] = b"%011o\0" % size
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header)


class WebDatasetWriter(ShardWriter):
    """A POSIX tar of `{key}.{ext}` members, readable by webdataset and Ray Data; the same bytes
    as tarfile's USTAR output."""

    def __init__(self, final: str | Path):
        super().__init__(final)
        self._file = open(self.tmp, "wb")
        self._offset = 0

    def _write(self, key, members, meta):
        for ext, data in members.items():
            pad = -len(data) % tarfile.BLOCKSIZE
            self._file.write(tar_header(f"{key}.{ext}", len(data)) + data + b"\0" * pad)
            self._offset += tarfile.BLOCKSIZE + len(data) + pad

    def _finish(self):
        end = self._offset + 2 * tarfile.BLOCKSIZE  # two zero blocks, then zeros to a whole record
        self._file.write(b"\0" * (2 * tarfile.BLOCKSIZE + -end % tarfile.RECORDSIZE))
        self._file.close()

    def _close(self):
        try:
            self._file.close()  # may fail again on a full disk; the file is removed anyway
        except OSError:
            pass


class ParquetWriter(ShardWriter):
    """One row per sample: key, encoded bytes columns, scalar metadata columns, meta JSON."""

    def __init__(self, final: str | Path):
        super().__init__(final)
        self._rows: list[dict[str, Any]] = []

    def _write(self, key, members, meta):
        self._rows.append(members_to_row(key, members, meta))

    def _finish(self):
        names = list(dict.fromkeys(name for row in self._rows for name in row))
        table = pa.table({name: [row.get(name) for row in self._rows] for name in names})
        pq.write_table(table, self.tmp, compression="zstd")


WRITERS = {"files": FilesWriter, "webdataset": WebDatasetWriter, "parquet": ParquetWriter}


def open_shard_writer(fmt: str, out_dir: storage.Location, prefix: str, shard: int) -> ShardWriter:
    """A writer for shard number `shard` of `out_dir` in format `fmt`."""
    if fmt not in WRITERS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    return WRITERS[fmt](shard_path(out_dir, prefix, shard, fmt))


def write_stats(out_dir: storage.Location, prefix: str, shard: int, stats: dict[str, Any]) -> str | Path:
    path = stats_path(out_dir, prefix, shard)
    storage.write_json(path, stats)
    return path


def read_stats(out_dir: storage.Location, prefix: str, shard: int) -> dict[str, Any] | None:
    """The stats of a finished shard, or None when the shard is not done."""
    return read_side_json(out_dir, stats_name(prefix, shard))
