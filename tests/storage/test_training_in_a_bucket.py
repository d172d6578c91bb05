"""Training with its shards and run folder in a bucket of the loopback S3: checkpoints,
metrics.jsonl, TensorBoard events, best.pt and samples written there (Ray Train's storage_path
is the URL), a re-run resumes from the bucket's checkpoint, export reads the run from there."""

import json

import fsspec
import numpy as np
import pytest

from inpaint_data.fileio import is_temp_name
from inpaint_data.models.exported import load_model
from inpaint_data.pipelines.jobs.job import JobOptions
from inpaint_data.pipelines.jobs.shard import ShardSpec, run_shard_images
from inpaint_data.pipelines.training.checkpoints import export_model, latest_state
from inpaint_data.pipelines.training.run import TrainConfig, run_training
from tests.storage.test_object_storage import _images, _keys, _upload

pytestmark = pytest.mark.slow


def _config(data, out, **kw):
    args = dict(model="deepfillv2", data=data, out=out, size=64, batch_size=1, steps=2, val_every=2,
                checkpoint_every=2, num_val=2, log_every=1, cnum=8, dcnum=8, workers=0)
    args.update(kw)
    return TrainConfig.of(**args)


@pytest.fixture
def data(s3_bucket, tmp_path):
    _upload(_images(tmp_path / "images"), f"{s3_bucket}/images")
    run_shard_images(f"{s3_bucket}/shards", [f"{s3_bucket}/images"], ShardSpec(size=64),
                     options=JobOptions(shard_size=2, workers=0))
    return f"{s3_bucket}/shards"


def _steps(run: str) -> list[int]:
    return [json.loads(line)["step"] for line in _keys(run)["metrics.jsonl"].decode().splitlines()]


@pytest.mark.parametrize("workers", [0])  # Ray Train in a bucket: tests/storage/test_cluster.py
def test_a_run_in_the_bucket_resumes_from_its_checkpoint(ray_session, data, s3_bucket, tmp_path, workers):
    run = f"{s3_bucket}/runs/df"
    last = run_training(_config(data, run, workers=workers)).metrics
    assert last["step"] == 2 and np.isfinite(last["loss"])
    files = _keys(run)
    assert {"train_config.json", "metrics.jsonl", "best.pt", "samples/step_00000002.png"} <= set(files)
    assert any(k.startswith("tensorboard/events.out.tfevents.") for k in files)
    checkpoint = "local_checkpoints/step_00000002.pt" if workers == 0 else None
    assert checkpoint in files if workers == 0 else any(k.startswith("ray/checkpoint_") for k in files)
    assert ".job.lock" not in files and not [k for k in files if is_temp_name(k.rsplit("/", 1)[-1])]

    run_training(_config(data, run, workers=workers, steps=4))
    assert _steps(run) == [0, 1, 2, 3, 4]  # continued at step 3 from the bucket's checkpoint
    assert latest_state(run)["step"] == 4
    export_model(run, f"{s3_bucket}/model.pt")
    fsspec.filesystem("s3").get_file(f"{s3_bucket}/model.pt".split("://", 1)[1], str(tmp_path / "model.pt"))
    model, config = load_model(tmp_path / "model.pt")
    assert config["model"] == "deepfillv2"
