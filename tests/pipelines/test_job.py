"""The one job shape: JobOptions in, JobResult out, in this process when Ray would only cost."""

import dataclasses
import json
import subprocess
import sys

import pytest

from inpaint_data.pipelines.jobs.job import JobOptions, JobResult, combine

ONE_SHARD_JOB = """
import json, sys
from inpaint_data.pipelines.jobs.masks_synth import FreeFormSpec, run_free_form_masks
from inpaint_data.pipelines.jobs.job import JobOptions
result = run_free_form_masks(sys.argv[1], FreeFormSpec(style="box", height=64, width=64), count=5,
                             options=JobOptions(shard_size={shard_size}, workers={workers}))
print(json.dumps({{"count": result.count, "shards": result.shards, "ray": "ray" in sys.modules}}))
"""


def _run(tmp_path, name, shard_size, workers):
    code = ONE_SHARD_JOB.format(shard_size=shard_size, workers=workers)
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / name)], capture_output=True, text=True,
                         check=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_one_shard_job_and_workers_0_run_without_ray(tmp_path):
    assert _run(tmp_path, "one", shard_size=10, workers=None) == {"count": 5, "shards": 1, "ray": False}
    assert _run(tmp_path, "many", shard_size=2, workers=0) == {"count": 5, "shards": 3, "ray": False}
    manifest = json.loads((tmp_path / "many" / ".manifest.json").read_text())
    assert manifest["totals"]["count"] == 5


def test_options_are_frozen_and_carry_the_job_default_shard_size():
    options = JobOptions(fmt="parquet")
    assert options.size(500) == 500 and JobOptions(shard_size=7).size(500) == 7
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.workers = 3


def test_combined_result_sums_its_parts(tmp_path):
    part = dict(shards=2, shards_written=1, shards_skipped=1, seconds=1.0)
    train = JobResult(tmp_path / "train", count=8, errors=[{"path": "a", "reason": "x"}], skipped={"s": 1}, **part)
    val = JobResult(tmp_path / "val", count=2, skipped={"s": 2, "t": 1}, **part)
    both = combine(tmp_path, {"train": train, "val": val})
    assert (both.count, both.shards, both.shards_written, both.skipped) == (10, 4, 2, {"s": 3, "t": 1})
    assert both.errors == train.errors and both.parts == {"train": train, "val": val}
