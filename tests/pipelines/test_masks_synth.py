import os
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import webdataset as wds

from inpaint_data.datasets.readers import iter_records, read_samples, shard_paths
from inpaint_data.pipelines.jobs.engine import run_job
from inpaint_data.pipelines.jobs.job import JobOptions
from inpaint_data.pipelines.jobs.masks_synth import FreeFormSpec, free_form_samples, run_free_form_masks
from inpaint_data.pipelines.jobs.shards import plan_shards

SPEC = FreeFormSpec(style="box", height=64, width=64, seed=3, options={"size": (0.375, 0.5), "count": (1, 1)})


@pytest.fixture(autouse=True)
def _ship_this_module_to_workers(ray_session):
    """Ray workers cannot import test modules: send this one's functions by value."""
    import sys

    ray_session.cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _job(out, spec=SPEC, count=50, **kw):
    return run_free_form_masks(out, spec, count=count, options=JobOptions(**{"shard_size": 16, **kw}))


def _masks(out):
    """key -> mask PNG bytes, for every sample of an output folder."""
    return {key: members["mask.png"] for key, members in iter_records(out)}


@pytest.mark.parametrize("fmt", ["files", "webdataset", "parquet"])
def test_job_writes_every_sample_with_its_record(ray_session, tmp_path, fmt):
    result = _job(tmp_path, fmt=fmt)
    assert result.count == 50 and result.shards == 4 and result.shards_written == 4 and not result.errors
    samples = list(read_samples(tmp_path))
    assert [s.key for s in samples] == [f"{i:09d}" for i in range(50)]
    for s in samples:
        assert s.mask.shape == (64, 64) and set(np.unique(s.mask)) <= {0, 255}
        assert s.meta["hole_ratio"] == pytest.approx((s.mask > 0).mean())
        assert {"style", "seed", "index", "bin", "border"} <= set(s.meta)
    assert sum(result.bins.values()) == 50
    assert all((tmp_path / f".masks-{i:06d}.stats.json").exists() for i in range(4))


def test_other_readers_see_every_sample(ray_session, tmp_path):
    _job(tmp_path / "wds", fmt="webdataset")
    _job(tmp_path / "pq", fmt="parquet")
    tars = [str(p) for p in shard_paths(tmp_path / "wds")]
    rows = list(wds.WebDataset(tars, shardshuffle=False).decode("pil"))
    assert len(rows) == 50 and rows[0]["mask.png"].size == (64, 64)
    table = pq.read_table(tmp_path / "pq")
    assert table.num_rows == 50 and len(set(table.column("key").to_pylist())) == 50
    ray = ray_session
    ds = ray.data.read_webdataset(str(tmp_path / "wds"), decoder=None)
    keys = [r["__key__"] for r in ds.take_all()]
    assert sorted(keys) == [f"{i:09d}" for i in range(50)]
    pds = ray.data.read_parquet(str(tmp_path / "pq"))
    assert pds.count() == 50
    import cv2

    first = pds.take(1)[0]
    assert cv2.imdecode(np.frombuffer(first["mask"], np.uint8), cv2.IMREAD_UNCHANGED).shape == (64, 64)


def test_same_seed_same_bytes_for_any_workers_and_shard_size(ray_session, tmp_path):
    a = _masks(_job(tmp_path / "a", workers=1).out_dir)
    b = _masks(_job(tmp_path / "b", workers=2).out_dir)
    c = _masks(_job(tmp_path / "c", workers=2, shard_size=7, fmt="parquet").out_dir)
    in_process = _masks(_job(tmp_path / "e", workers=0, shard_size=7).out_dir)  # no Ray: the same bytes
    assert a == b == c == in_process
    d = _masks(_job(tmp_path / "d", replace(SPEC, seed=4)).out_dir)
    assert d != a


def _fail_once(plan, marker: str, failing: int):
    """A produce function that breaks shard `failing` part-way the first time it runs."""
    for n, sample in enumerate(free_form_samples(plan, SPEC)):
        if plan.index == failing and n == 3 and not os.path.exists(marker):
            Path(marker).touch()
            raise RuntimeError("shard failed")
        yield sample


def _die_once(plan, marker: str):
    """A produce function whose worker process dies in shard 1 the first time it runs."""
    for n, sample in enumerate(free_form_samples(plan, SPEC)):
        if plan.index == 1 and n == 3 and not os.path.exists(marker):
            Path(marker).touch()
            os._exit(1)
        yield sample


def _run(out, produce, job_name, **kw):
    job = {"name": job_name, "format": "webdataset"}
    return run_job(out, job, plan_shards(50, 16), partial(produce, **kw), prefix="masks", options=JobOptions(workers=2))


def test_failed_shard_then_rerun_gives_the_uninterrupted_output(ray_session, tmp_path):
    reference = _masks(_job(tmp_path / "ref").out_dir)
    marker = str(tmp_path / "failed-once")
    with pytest.raises(Exception, match="shard failed"):
        _run(tmp_path / "out", _fail_once, "resume-test", marker=marker, failing=2)
    assert not (tmp_path / "out" / ".masks-000002.stats.json").exists()
    assert not list((tmp_path / "out").glob("masks-000002*"))
    result = _run(tmp_path / "out", _fail_once, "resume-test", marker=marker, failing=2)
    assert result.count == 50 and result.shards_written >= 1 and result.shards_skipped >= 1
    assert _masks(tmp_path / "out") == reference
    assert not [p for p in (tmp_path / "out").iterdir() if ".tmp-" in p.name]


def test_killed_ray_worker_is_retried_without_loss_or_duplicates(ray_session, tmp_path):
    reference = _masks(_job(tmp_path / "ref").out_dir)
    marker = tmp_path / "died-once"
    result = _run(tmp_path / "out", _die_once, "kill-test", marker=str(marker))
    assert marker.exists()  # the worker really died once
    keys = [key for key, _ in iter_records(tmp_path / "out")]
    assert len(keys) == len(set(keys)) == 50 and result.count == 50
    assert _masks(tmp_path / "out") == reference
