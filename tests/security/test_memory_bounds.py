"""Round 2, item 5: memory bounded per container, not only per member. Each crafted input is
given to a job in a fresh process, whose peak RSS must stay under 1 GB, and each refusal is
recorded with the limit and the flag that raises it."""

import io
import json
import subprocess
import sys
import tarfile
import textwrap

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.slow
PEAK_LIMIT_MB = 1024

#: The CLI, then this process's own peak (VmHWM: of its memory since exec, unlike ru_maxrss,
#: which keeps the forking test process's peak).
RUN = textwrap.dedent("""
    import sys
    from inpaint_data.cli.main import main
    try:
        main(sys.argv[1:], standalone_mode=False)
    finally:
        hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
        print("PEAK_MB", int(hwm.split()[1]) // 1024, file=sys.stderr)
""")


def _run(*args) -> tuple[int, str]:
    """The CLI in a fresh process: (its peak RSS in MB, its output)."""
    done = subprocess.run([sys.executable, "-c", RUN, *map(str, args)], capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    peak = [int(line.split()[1]) for line in output.splitlines() if line.startswith("PEAK_MB")]
    assert peak, output
    return peak[0], output


def _errors(folder):
    return [e for path in folder.rglob(".*.stats.json") for e in json.loads(path.read_text())["errors"]]


def _tar(path, members: dict[str, int]) -> None:
    """A tar of members of the given sizes, zeros streamed (never held whole)."""
    class Zeros(io.RawIOBase):
        def __init__(self, n):
            self.left = n

        def readable(self):
            return True

        def readinto(self, buffer):
            n = min(len(buffer), self.left)
            buffer[:n] = bytes(n)
            self.left -= n
            return n

    with tarfile.open(path, "w") as tar:
        for name, size in members.items():
            info = tarfile.TarInfo(name)
            info.size = size
            tar.addfile(info, io.BufferedReader(Zeros(size), 1 << 20))


def test_a_parquet_cell_that_inflates_to_a_gib_is_refused_before_decompression(tmp_path):
    folder = tmp_path / "i2d"
    folder.mkdir()
    table = pa.table({"key": ["000000000"], "jpg": pa.array([bytes(2**30)], pa.binary())})
    pq.write_table(table, folder / "00000.parquet", compression="zstd")
    del table
    assert (folder / "00000.parquet").stat().st_size < 200_000
    peak, output = _run("shard", folder, "--workers", "0", "--out", tmp_path / "out")
    assert peak < PEAK_LIMIT_MB, output
    reasons = [e["reason"] for e in _errors(tmp_path / "out")]
    assert any("over the 268,435,456-byte member limit" in r for r in reasons), reasons


def test_a_tar_of_six_200_mb_members_is_read_one_member_at_a_time(tmp_path):
    folder = tmp_path / "i2d"
    folder.mkdir()
    _tar(folder / "00000.tar", {f"{i:09d}.jpg": 200 * 2**20 for i in range(6)})
    peak, output = _run("shard", folder, "--workers", "0", "--out", tmp_path / "out")
    assert peak < PEAK_LIMIT_MB, output
    assert len(_errors(tmp_path / "out")) == 6  # zeros are no JPEG: each recorded, none held together


def test_a_gib_video_member_is_streamed_and_its_limit_named(tmp_path):
    folder = tmp_path / "v2d"
    folder.mkdir()
    _tar(folder / "00000.tar", {"000000000.mp4": 2**30})
    peak, output = _run("masks", "--from-video", folder, "--workers", "0", "--out", tmp_path / "out")
    assert peak < PEAK_LIMIT_MB, output  # copied to disk in blocks (zeros are no video: recorded)
    peak, output = _run("masks", "--from-video", folder, "--workers", "0", "--max-video-bytes", "100000000",
                        "--out", tmp_path / "out2")
    reasons = [e["reason"] for e in _errors(tmp_path / "out2")]
    assert any("100,000,000-byte video limit (--max-video-bytes)" in r for r in reasons), (reasons, output)


def test_a_16_bit_rgba_png_under_the_pixel_limit_is_refused_by_its_decoded_bytes(tmp_path):
    import cv2

    (tmp_path / "images").mkdir()
    image = np.zeros((8192, 8192, 4), np.uint16)
    assert cv2.imwrite(str(tmp_path / "images" / "deep.png"), image)
    del image
    for command in ("shard", "edges"):
        peak, output = _run(command, tmp_path / "images", "--workers", "0", "--out", tmp_path / command)
        assert peak < PEAK_LIMIT_MB, output
        reasons = [e["reason"] for e in _errors(tmp_path / command)]
        assert any("8 bytes a pixel" in r and "--max-pixels" in r for r in reasons), reasons
