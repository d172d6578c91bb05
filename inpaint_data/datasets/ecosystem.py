"""Inputs written by the tools users already run: img2dataset output folders (webdataset tars
`00000.tar` with `000000000.jpg` members, or parquet files `00000.parquet` with a `jpg` column),
read as image sources for `shard` and `edges` without unpacking them, and video2dataset tars (`00000.tar` with
`000000000.mp4` members) for `masks --from-video`, each video copied to a temporary file only
while it is decoded (decord and OpenCV need a file).

An image inside a container is addressed as `CONTAINER::MEMBER` (a tar member name, or a parquet
row number); `ContainerReader` reads each container once while its images come in order.
"""

from __future__ import annotations

import atexit
import os
import re
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq

from .. import storage
from ..errors import InputError
from .readers import shard_records

#: img2dataset's shard names: 5+ digits (its --output_format webdataset / parquet).
IMG2DATASET_SHARD = re.compile(r"^\d{5,}\.(tar|parquet)$")
IMAGE_MEMBER_EXTS = (".jpg", ".jpeg", ".png", ".webp")
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
    for shard in _shards(folder, ".tar"):
        with storage.open_input(shard) as f, tarfile.open(fileobj=f) as tar:
            for info in tar:
                if info.isfile() and Path(info.name).suffix.lower() in extensions:
                    yield f"{shard}{SEPARATOR}{info.name}"


def img2dataset_images(folder: storage.Location) -> Iterator[tuple[str, str]]:
    """(address, key) of every image of an img2dataset output folder, in shard order, streamed;
    keys are img2dataset's own (shard number and index, unique across shards). With tars present
    the parquet files beside them are its metadata (url, status, ...) and are not read."""
    if _shards(folder, ".tar"):
        for address in archive_members(folder, IMAGE_MEMBER_EXTS):
            yield address, Path(address.split(SEPARATOR, 1)[1]).stem
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
            for row in range(parquet.metadata.num_rows):
                yield f"{shard}{SEPARATOR}{row}", keys[row] if keys else f"{stem}{row:04d}"


class ContainerReader:
    """Bytes of plain files and of `CONTAINER::MEMBER` addresses; the last container read is
    kept (its images only), so images taken in shard order read each container once. Tar
    members go through readers.shard_records, with its member size limit."""

    def __init__(self):
        self.container: str | None = None
        self.members: dict[str, bytes] = {}

    def read(self, address: str) -> bytes:
        if SEPARATOR not in address:
            return storage.read_bytes(address)
        container, member = address.split(SEPARATOR, 1)
        if container != self.container:
            self.members, self.container = self._load(container), container
        try:
            return self.members[Path(member).name if container.endswith(".tar") else member]
        except KeyError:
            raise OSError(f"{member} is not in {container} (or over the member size limit)") from None

    @staticmethod
    def _load(container: str) -> dict[str, bytes]:
        if container.endswith(".parquet"):
            with storage.open_input(container) as f:
                images = pq.read_table(f, columns=["jpg"]).column("jpg").to_pylist()
            return {str(i): data for i, data in enumerate(images) if data is not None}
        return {f"{key}.{ext}": data for key, members in shard_records(container) for ext, data in members.items()
                if f".{ext.lower()}" in IMAGE_MEMBER_EXTS}


_local_copy: dict[str, str] = {}


def _remove_local_copies() -> None:
    for path in _local_copy.values():
        Path(path).unlink(missing_ok=True)
    _local_copy.clear()


atexit.register(_remove_local_copies)


def local_file(address: str) -> str:
    """A path decord and OpenCV can open: the address itself for a local file, else a temporary
    copy of the one remote file (a URL, see storage) or archive member (the previous copy is
    removed: one at a time per process, and none left at exit)."""
    if SEPARATOR not in address and not storage.is_remote(address):
        return address
    if address in _local_copy and Path(_local_copy[address]).exists():
        return _local_copy[address]
    _remove_local_copies()
    if SEPARATOR not in address:
        path = str(storage.local_copy(address, suffix=Path(storage.name_of(address)).suffix))
    else:
        container, member = address.split(SEPARATOR, 1)
        with storage.open_input(container) as f, tarfile.open(fileobj=f) as tar:
            data = tar.extractfile(member).read()
        fd, path = tempfile.mkstemp(prefix="inpaint-data-", suffix=Path(member).suffix)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    _local_copy[address] = path
    return path
