"""Inputs written by the tools users already run: img2dataset output folders (webdataset tars
`00000.tar` with `000000000.jpg` members, or parquet files `00000.parquet` with a `jpg` column),
read as image sources for `shard` and `edges` without unpacking them, and video2dataset tars (`00000.tar` with
`000000000.mp4` members) for `masks --from-video`, each video copied to a temporary file only
while it is decoded (decord and OpenCV need a file).

An image inside a container is addressed as `CONTAINER::MEMBER` (a tar member name, or a parquet
row number); `ContainerReader` reads them in order, one member or row group in memory at a time.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq

from .. import storage
from ..errors import InputError
from .readers import MAX_MEMBER_BYTES

#: img2dataset's shard names: 5+ digits (its --output_format webdataset / parquet).
IMG2DATASET_SHARD = re.compile(r"^\d{5,}\.(tar|parquet)$")
IMAGE_MEMBER_EXTS = (".jpg", ".jpeg", ".png", ".webp")
#: Largest video copied to a temporary file for decoding (a URL or a tar member), by default;
#: `masks --from-video --max-video-bytes` sets it. The copy streams: memory stays flat.
MAX_VIDEO_BYTES = 4 * 2**30
SEPARATOR = "::"


def is_img2dataset_folder(path: storage.Location) -> bool:
    """A folder or prefix (local or a URL) of img2dataset / video2dataset shards."""
    return storage.is_dir(path) and any(IMG2DATASET_SHARD.match(n) for n in storage.list_names(path))


def _shards(folder: storage.Location, suffix: str) -> list[str]:
    """The img2dataset shards of a folder with this suffix, sorted: absolute paths or URLs."""
    return [storage.absolute(storage.join(folder, n)) for n in storage.list_names(folder)
            if IMG2DATASET_SHARD.match(n) and n.endswith(suffix)]


def archive_members(folder: storage.Location, extensions) -> Iterator[str]:
    """`TAR::member` addresses of the members with these extensions in the img2dataset /
    video2dataset shard tars (`00000.tar`, ...) of a folder, in shard and member order, streamed
    (tar headers only are parsed; a remote tar is read through in blocks)."""
    return (address for address, _ in stamped_archive_members(folder, extensions))


def stamped_archive_members(folder: storage.Location, extensions) -> Iterator[tuple[str, str]]:
    """(address, stamp) of archive_members; the stamp is the member's size and time."""
    for shard in _shards(folder, ".tar"):
        with storage.open_input(shard) as f, tarfile.open(fileobj=f) as tar:
            for info in tar:
                if info.isfile() and Path(info.name).suffix.lower() in extensions:
                    yield f"{shard}{SEPARATOR}{info.name}", f"{info.size}:{info.mtime}"


def img2dataset_images(folder: storage.Location) -> Iterator[tuple[str, str, str]]:
    """(address, key, stamp) of every image of an img2dataset output folder, in shard order,
    streamed; keys are img2dataset's own (shard number and index, unique across shards). With
    tars present the parquet files beside them are its metadata (url, status, ...) and are not
    read. A tar member's stamp is its size and time, a parquet row's its file's version."""
    if _shards(folder, ".tar"):
        for address, stamp in stamped_archive_members(folder, IMAGE_MEMBER_EXTS):
            yield address, Path(address.split(SEPARATOR, 1)[1]).stem, stamp
        return
    for shard in _shards(folder, ".parquet"):
        with storage.open_input(shard) as f:
            parquet = pq.ParquetFile(f)
            columns = parquet.schema_arrow.names
            if "jpg" not in columns:
                hint = " (it holds URLs: download them with img2dataset first)" if "url" in columns else ""
                raise InputError(f"{shard} has no `jpg` column of image bytes{hint}")
            keys = parquet.read(columns=["key"]).column("key").to_pylist() if "key" in columns else None
            stem = storage.name_of(shard).rsplit(".", 1)[0]
        stamp = storage.stamp_of(shard)
        for row in range(len(keys) if keys else parquet.metadata.num_rows):
            yield f"{shard}{SEPARATOR}{row}", keys[row] if keys else f"{stem}{row:04d}", stamp


class ContainerReader:
    """Bytes of plain files and of `CONTAINER::MEMBER` addresses, holding one member at a time:
    a tar is read forward from where the last address left it (reopened only for an address
    behind it), found by the member's whole name; a parquet file one row group at a time, its
    uncompressed size read from the metadata and checked before anything is decompressed.
    Members and row groups over `max_member_bytes` are refused (OSError naming the limit)."""

    def __init__(self, max_member_bytes: int = MAX_MEMBER_BYTES):
        self.limit = max_member_bytes
        self._tar: tuple[str, object, tarfile.TarFile] | None = None
        self._group: tuple[str, int, int, list] | None = None  # container, first row, rows, cells

    def read(self, address: str) -> bytes:
        if SEPARATOR not in address:
            return storage.read_bytes(address)
        container, member = address.split(SEPARATOR, 1)
        if container.endswith(".parquet"):
            return self._cell(container, int(member))
        return self._member(container, member)

    def close(self) -> None:
        if self._tar is not None:
            self._tar[2].close()
            self._tar[1].close()
        self._tar = self._group = None

    def _member(self, container: str, member: str) -> bytes:
        for attempt in range(2):
            if self._tar is None or self._tar[0] != container or attempt:
                self.close()
                f = storage.open_input(container)
                self._tar = (container, f, tarfile.open(fileobj=f, mode="r|*"))
            tar = self._tar[2]
            for info in tar:
                if info.name != member:
                    continue
                if not info.isfile():
                    raise OSError(f"{member} in {container} is not a file")
                if info.size > self.limit:
                    raise OSError(f"{member} in {container}: {info.size:,} bytes is over the {self.limit:,}-byte "
                                  "member limit")
                return tar.extractfile(info).read()
        raise OSError(f"{member} is not in {container}")

    def _cell(self, container: str, row: int) -> bytes:
        group = self._group
        if group is None or group[0] != container or not group[1] <= row < group[1] + group[2]:
            self._group = group = self._row_group(container, row)
        data = group[3][row - group[1]]
        if data is None:
            raise OSError(f"row {row} of {container} has no image bytes")
        return data

    def _row_group(self, container: str, row: int) -> tuple[str, int, int, list]:
        with storage.open_input(container) as f:
            parquet = pq.ParquetFile(f)
            column = parquet.schema_arrow.get_field_index("jpg")
            first = 0
            for i in range(parquet.num_row_groups):
                meta = parquet.metadata.row_group(i)
                if first <= row < first + meta.num_rows:
                    size = meta.column(column).total_uncompressed_size
                    if size > self.limit:
                        raise OSError(f"row group {i} of {container} holds {size:,} bytes of images uncompressed, "
                                      f"over the {self.limit:,}-byte member limit")
                    cells = parquet.read_row_group(i, columns=["jpg"]).column("jpg").to_pylist()
                    return container, first, meta.num_rows, cells
                first += meta.num_rows
        raise OSError(f"row {row} is not in {container}")


_local_copy: dict[str, str] = {}


def _remove_local_copies() -> None:
    for path in _local_copy.values():
        Path(path).unlink(missing_ok=True)
    _local_copy.clear()


atexit.register(_remove_local_copies)


def local_file(address: str, max_bytes: int = MAX_VIDEO_BYTES) -> str:
    """A path decord and OpenCV can open: the address itself for a local file, else a temporary
    copy of the one remote file (a URL, see storage) or archive member (the previous copy is
    removed: one at a time per process, and none left at exit), streamed in blocks. One over
    `max_bytes` is refused (OSError naming the limit and --max-video-bytes) before any copy."""
    if SEPARATOR not in address and not storage.is_remote(address):
        return address
    if address in _local_copy and Path(_local_copy[address]).exists():
        return _local_copy[address]
    _remove_local_copies()

    def refuse_over(size: int, what: str) -> None:
        if size > max_bytes:
            raise OSError(f"{what}: {size:,} bytes is over the {max_bytes:,}-byte video limit (--max-video-bytes)")

    if SEPARATOR not in address:
        fs, remote = storage.filesystem(address)
        refuse_over(fs.size(remote), storage.redact(address))
        path = str(storage.local_copy(address, suffix=Path(storage.name_of(address)).suffix))
    else:
        container, member = address.split(SEPARATOR, 1)
        with storage.open_input(container) as f, tarfile.open(fileobj=f, mode="r|*") as tar:
            info = next((i for i in tar if i.name == member), None)
            if info is None or not info.isfile():
                raise OSError(f"{member} is not a file in {storage.redact(container)}")
            refuse_over(info.size, f"{member} in {storage.redact(container)}")
            fd, path = tempfile.mkstemp(prefix="inpaint-data-", suffix=Path(member).suffix)
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(tar.extractfile(info), out, 1 << 20)
    _local_copy[address] = path
    return path
