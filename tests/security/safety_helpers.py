"""What the safety tests share: the CLI in this process, crafted files, small sample images."""

from __future__ import annotations

import io
import struct
import tarfile
import zlib
from pathlib import Path

import cv2
import numpy as np
import torch
from click.testing import CliRunner

from inpaint_data.cli.main import main


def invoke(*args: str):
    """Run the CLI in this process; a Python exception escaping it fails the test."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def assert_one_line_error(result, *needles: str) -> None:
    """A non-zero exit whose error is one `Error:` line naming every needle, and no traceback."""
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    for needle in needles:
        assert needle in errors[0], errors[0]


class CreatesFile:
    """Unpickling this calls open(path, "w"): the file appears if the loader runs pickled code."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def crafted_pt(path: Path, marker: Path, **fields) -> Path:
    """A .pt shaped like our files (`fields` merged in) whose state_dict runs code when unpickled."""
    torch.save({"format": "inpaint-data-model", "step": 1, "model_config": {"model": "pconv", "layers": 2, "width": 8},
                "state_dict": CreatesFile(marker), "generator": CreatesFile(marker), **fields}, path)
    return path


def write_rgb(path: Path, size: int = 48, seed: int = 0) -> Path:
    image = np.random.default_rng(seed).integers(0, 256, (size, size, 3), np.uint8)
    assert cv2.imwrite(str(path), image)
    return path


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_header(width: int, height: int, rows: int = 0) -> bytes:
    """An 8-bit gray PNG whose header claims width x height; with `rows`, that many rows of
    zeros are really stored (a small file that inflates to rows x width bytes)."""
    z = zlib.compressobj(9)
    row = b"\0" * (width + 1)
    body = b"".join(z.compress(row) for _ in range(rows)) + z.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def write_tar(path: Path, members: dict[str, bytes]) -> Path:
    """A plain tar of these members (name -> bytes)."""
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def sharded_images(root: Path, count: int, size: int = 40, shard_size: int = 1000) -> Path:
    """`count` random photos in root/images, sharded at 32 px into root/shards in this process."""
    from inpaint_data.pipelines.jobs.job import JobOptions
    from inpaint_data.pipelines.jobs.shard import ShardSpec, run_shard_images

    (root / "images").mkdir()
    for i in range(count):
        write_rgb(root / "images" / f"p{i}.png", size, seed=i)
    run_shard_images(root / "shards", [str(root / "images")], ShardSpec(size=32),
                     options=JobOptions(workers=0, shard_size=shard_size))
    return root
