"""Inputs written by the tools users already run: img2dataset output folders (webdataset tars
`00000.tar` with `000000000.jpg` members, or parquet files `00000.parquet` with a `jpg` column),
read as image sources for `shard` without unpacking them.

An image inside a container is addressed as `CONTAINER::MEMBER` (a tar member name, or a parquet
row number); `ContainerReader` reads each container once while its images come in order.
"""

from __future__ import annotations

import re
import tarfile
from pathlib import Path

import pyarrow.parquet as pq

from ..errors import InputError

#: img2dataset's shard names: 5+ digits (its --output_format webdataset / parquet).
IMG2DATASET_SHARD = re.compile(r"^\d{5,}\.(tar|parquet)$")
IMAGE_MEMBER_EXTS = (".jpg", ".jpeg", ".png", ".webp")
SEPARATOR = "::"


def is_img2dataset_folder(path: str | Path) -> bool:
    p = Path(path)
    return p.is_dir() and any(IMG2DATASET_SHARD.match(f.name) for f in p.iterdir())


def img2dataset_images(folder: str | Path) -> list[tuple[str, str]]:
    """(address, key) of every image of an img2dataset output folder, in shard order; keys are
    img2dataset's own (shard number and index, unique across shards). With tars present the
    parquet files beside them are its metadata (url, status, ...) and are not read."""
    found = []
    shards = sorted(f for f in Path(folder).iterdir() if IMG2DATASET_SHARD.match(f.name))
    if any(f.suffix == ".tar" for f in shards):
        shards = [f for f in shards if f.suffix == ".tar"]
    for shard in shards:
        if shard.suffix == ".tar":
            with tarfile.open(shard) as tar:
                for info in tar:
                    name = Path(info.name)
                    if info.isfile() and name.suffix.lower() in IMAGE_MEMBER_EXTS:
                        found.append((f"{shard.resolve()}{SEPARATOR}{info.name}", name.stem))
        else:
            columns = pq.read_schema(shard).names
            if "jpg" not in columns:
                hint = " (it holds URLs: download them with img2dataset first)" if "url" in columns else ""
                raise InputError(f"{shard} has no `jpg` column of image bytes{hint}")
            keys = pq.read_table(shard, columns=["key"]).column("key").to_pylist() if "key" in columns else None
            for row in range(pq.read_metadata(shard).num_rows):
                found.append((f"{shard.resolve()}{SEPARATOR}{row}", keys[row] if keys else f"{shard.stem}{row:04d}"))
    return found


class ContainerReader:
    """Bytes of plain files and of `CONTAINER::MEMBER` addresses; the last container read is
    kept (its images only), so images taken in shard order read each container once."""

    def __init__(self):
        self.container: str | None = None
        self.members: dict[str, bytes] = {}

    def read(self, address: str) -> bytes:
        if SEPARATOR not in address:
            return Path(address).read_bytes()
        container, member = address.split(SEPARATOR, 1)
        if container != self.container:
            self.members, self.container = self._load(container), container
        try:
            return self.members[member]
        except KeyError:
            raise OSError(f"{member} is not in {container}") from None

    @staticmethod
    def _load(container: str) -> dict[str, bytes]:
        if container.endswith(".parquet"):
            images = pq.read_table(container, columns=["jpg"]).column("jpg").to_pylist()
            return {str(i): data for i, data in enumerate(images) if data is not None}
        with tarfile.open(container) as tar:
            return {info.name: tar.extractfile(info).read() for info in tar
                    if info.isfile() and Path(info.name).suffix.lower() in IMAGE_MEMBER_EXTS}
