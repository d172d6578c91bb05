"""Atomic outputs, watched while they are written: a job runs in another process while this one
reads every file that has its final name, as soon as it appears. A shard tar must be whole (a
multiple of tar's 10 KiB record, ending in its two zero blocks, every member readable), a JSON
file must parse, a Parquet file must have its footer. A writer that wrote under the final name
(planted: WebDatasetWriter's temporary name set to the final one) shows a partial tar within the
first shard and fails here; the other tests only see the finished folder."""

import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from inpaint_data.fileio import is_temp_name

pytestmark = pytest.mark.slow  # a job in a subprocess


def _whole(path: Path) -> str | None:
    """Why the file at `path` is not whole, or None when it is (or vanished meanwhile)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if path.suffix == ".tar":
        if len(data) % tarfile.RECORDSIZE or data[-2 * tarfile.BLOCKSIZE:].strip(b"\0"):
            return f"{len(data)} bytes, not a finished tar"
        try:
            with tarfile.open(path) as tar:
                for member in tar:
                    tar.extractfile(member).read()
        except (tarfile.TarError, OSError) as e:
            return str(e)
    elif path.suffix == ".json":
        try:
            json.loads(data)
        except ValueError as e:
            return f"JSON: {e}"
    elif path.suffix == ".parquet":
        try:
            pq.read_metadata(path)
        except Exception as e:  # pyarrow raises ArrowInvalid for a file without its footer
            return f"Parquet: {e}"
    return None


@pytest.mark.parametrize("fmt", ["webdataset", "parquet"])
def test_no_file_under_its_final_name_is_ever_partial(tmp_path, fmt):
    out = tmp_path / "masks"
    job = subprocess.Popen(
        [sys.executable, "-m", "inpaint_data.cli", "masks", "--free-form", "--style", "deepfill", "--count", "240",
         "--size", "384", "--shard-size", "60", "--format", fmt, "--workers", "0", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"})
    checked, problems = {}, []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        running = job.poll() is None
        for path in sorted(out.rglob("*")) if out.exists() else []:
            if path.is_file() and not is_temp_name(path.name):
                size = path.stat().st_size
                if checked.get(path) != size:  # read each final file again whenever it changes
                    why = _whole(path)
                    if why:
                        problems.append(f"{path.name}: {why}")
                    checked[path] = size
        if not running:
            break
        time.sleep(0.002)
    output = job.communicate()[0]
    assert job.returncode == 0, output
    assert not problems, problems[:3]
    shards = [p for p in checked if p.suffix in (".tar", ".parquet")]
    assert len(shards) == 4 and any(p.suffix == ".json" for p in checked)
