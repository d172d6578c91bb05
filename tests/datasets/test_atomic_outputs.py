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
    elif path.suffix == ".pt":
        import io

        import torch

        try:
            torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except Exception as e:  # a truncated zip: RuntimeError, EOFError, ...
            return f"{type(e).__name__}: {e}"
    return None


def _watch(command: list[str], out: Path) -> dict[Path, tuple[int, int]]:
    """Run `inpaint-data COMMAND` in another process and read every file under `out` with its
    final name whenever it appears or changes; returns the files seen (and their last stamps)."""
    job = subprocess.Popen([sys.executable, "-m", "inpaint_data.cli", *command, "--out", str(out)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env={**os.environ, "OMP_NUM_THREADS": "1"})
    checked, problems = {}, []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        running = job.poll() is None
        for path in sorted(out.rglob("*")) if out.exists() else []:
            if path.is_file() and not is_temp_name(path.name):
                try:
                    stamp = path.stat().st_mtime_ns, path.stat().st_size
                except FileNotFoundError:  # replaced or removed meanwhile (older checkpoints are pruned)
                    continue
                if checked.get(path) != stamp:  # read each final file again whenever it changes
                    why = _whole(path)
                    if why:
                        problems.append(f"{path.relative_to(out)}: {why}")
                    checked[path] = stamp
        if not running:
            break
        time.sleep(0.002)
    output = job.communicate()[0]
    assert job.returncode == 0, output
    assert not problems, problems[:3]
    return checked


@pytest.mark.parametrize("fmt", ["webdataset", "parquet"])
def test_no_file_under_its_final_name_is_ever_partial(tmp_path, fmt):
    checked = _watch(["masks", "--free-form", "--style", "deepfill", "--count", "240", "--size", "384",
                      "--shard-size", "60", "--format", fmt, "--workers", "0"], tmp_path / "masks")
    shards = [p for p in checked if p.suffix in (".tar", ".parquet")]
    assert len(shards) == 4 and any(p.suffix == ".json" for p in checked)


def test_an_image_jobs_file_list_and_shards_are_never_partial(tmp_path):
    """`shard` with a validation split: its two file lists (.files.parquet), manifests, stats and
    shards, each read whole whenever it appears."""
    import cv2
    from skimage import data

    images = tmp_path / "images"
    images.mkdir()
    for i, name in enumerate(("astronaut", "coffee", "chelsea", "rocket") * 6):
        cv2.imwrite(str(images / f"{name}{i}.png"), cv2.cvtColor(getattr(data, name)(), cv2.COLOR_RGB2BGR))
    checked = _watch(["shard", str(images), "--size", "128", "--val-fraction", "0.25", "--shard-size", "4",
                      "--workers", "0"], tmp_path / "shards")
    assert sum(p.name == ".files.parquet" for p in checked) == 2
    assert sum(p.suffix == ".tar" for p in checked) >= 5


def test_on_an_object_store_a_shard_is_whole_before_its_stats_say_so(s3_bucket):
    """Watched from this process while the job writes to S3 in another: every shard object under
    its final key is a whole tar, and a shard's stats object (the "done" mark a re-run trusts)
    never comes before its shard. Planted: the stats written before the shard's upload -> caught."""
    import re

    import fsspec

    out = f"{s3_bucket}/m"
    root = out.split("://", 1)[1]
    job = subprocess.Popen(
        [sys.executable, "-m", "inpaint_data.cli", "masks", "--free-form", "--style", "deepfill", "--count", "240",
         "--size", "256", "--shard-size", "40", "--workers", "0", "--out", out],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    stats_of = re.compile(r"^\.(masks-\d{6})\.stats\.json$")
    problems, checked = [], set()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        running = job.poll() is None
        fs.invalidate_cache()
        names = {k.rsplit("/", 1)[-1] for k in fs.find(root)} if fs.exists(root) else set()
        problems += [f"{m.group(1)}: stats before the shard" for name in names
                     if (m := stats_of.match(name)) and f"{m.group(1)}.tar" not in names]
        for name in sorted(n for n in names if n.endswith(".tar") and n not in checked):
            data = fs.cat_file(f"{root}/{name}")
            if len(data) % tarfile.RECORDSIZE or data[-2 * tarfile.BLOCKSIZE:].strip(b"\0"):
                problems.append(f"{name}: {len(data)} bytes, not a finished tar")
            checked.add(name)
        if not running:
            break
    output = job.communicate()[0]
    assert job.returncode == 0, output
    assert not problems, problems[:3]
    assert len(checked) == 6


def test_files_format_on_an_object_store_is_refused_before_anything_is_written(s3_bucket):
    """A folder shard cannot appear whole on an object store (its objects are uploaded one at a
    time; s3fs's recursive move also failed on it), so the job says so in one line."""
    import fsspec
    from click.testing import CliRunner

    from inpaint_data.cli.main import main
    from tests.security.safety_helpers import assert_one_line_error

    result = CliRunner().invoke(main, [
        "masks", "--free-form", "--count", "8", "--size", "64", "--format", "files", "--out", f"{s3_bucket}/f"])
    assert_one_line_error(result, "--format files", "webdataset or parquet")
    assert not fsspec.filesystem("s3").find(s3_bucket.split("://", 1)[1])


def test_no_checkpoint_or_run_file_is_ever_partial(tmp_path):
    """A training run (in its own process, no Ray) watched from this one: every checkpoint,
    best.pt and JSON file under its final name loads whole (torch's weights-only loader, JSON)
    whenever it appears or changes. metrics.jsonl and TensorBoard's event files are logs that
    grow by appends, and are not checked. Planted: save_pt writing straight to its final name ->
    a checkpoint read half-written."""
    import cv2
    from skimage import data

    from inpaint_data.pipelines.jobs.job import JobOptions
    from inpaint_data.pipelines.jobs.shard import ShardSpec, run_shard_images

    images = tmp_path / "images"
    images.mkdir()
    for name in ("astronaut", "coffee", "chelsea"):
        cv2.imwrite(str(images / f"{name}.png"), cv2.cvtColor(getattr(data, name)(), cv2.COLOR_RGB2BGR))
    run_shard_images(tmp_path / "shards", [str(images)], ShardSpec(size=64), options=JobOptions(workers=0))
    run = tmp_path / "run"
    checked = _watch(["train", "pconv", "--data", str(tmp_path / "shards"), "--size", "64", "--batch-size", "1",
                      "--steps", "16", "--val-every", "2", "--checkpoint-every", "2", "--num-val", "2", "--width", "8",
                      "--random-vgg", "--workers", "0"], run)
    assert {"best.pt", "train_config.json"} <= {p.name for p in checked}
    assert sum(p.parent.name == "local_checkpoints" for p in checked) >= 3  # with --workers 0: step_*.pt
