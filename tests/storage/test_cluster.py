"""A local Ray cluster of separate nodes (`ray start --head` and `ray start --address`, each
node with its own raylet, object store and --temp-dir, on 127.0.0.1) running the data jobs with
their output on the loopback S3, so no node reads another's disk; then a node's raylet killed
mid-job. The jobs run as `inpaint-data` subprocesses joining the cluster by address, as a user
runs them against `ray up`."""

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import fsspec
import pytest
from click.testing import CliRunner

from inpaint_data.cli.main import main
from inpaint_data.fileio import is_temp_name
from inpaint_data.pipelines.jobs.job import JobOptions
from inpaint_data.pipelines.jobs.shard import ShardSpec, run_shard_images
from tests.local_cluster import Node, node_env, start_cluster, stop_cluster, wait_for_nodes
from tests.storage.test_object_storage import _images, _keys, _local, _same_shards, _upload

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "inpaint_data.cli"]


@pytest.fixture(scope="module")
def cluster():
    cluster = start_cluster(workers=1)
    yield cluster
    stop_cluster(cluster)


def _run(cluster, *args):
    env = node_env(RAY_ADDRESS=cluster["address"])
    return subprocess.Popen([*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _stats(url: str, prefix: str) -> list[dict]:
    fs = fsspec.filesystem("s3")
    fs.invalidate_cache()
    return [json.loads(fs.cat_file(p)) for p in fs.glob(f"{url.split('://', 1)[1]}/.{prefix}-*.stats.json")]


def test_masks_and_edges_run_on_both_nodes_into_the_bucket(cluster, s3_bucket, tmp_path):
    args = ["masks", "--free-form", "--count", "240", "--size", "64", "--shard-size", "10"]
    assert CliRunner().invoke(main, [*args, "--workers", "0", "--out", str(tmp_path / "ref")]).exit_code == 0
    out, _ = _run(cluster, *args, "--out", f"{s3_bucket}/masks").communicate(timeout=300)
    assert "240 masks in 24 shards" in out, out
    nodes = Counter(s["node"] for s in _stats(f"{s3_bucket}/masks", "masks"))
    assert set(nodes) == cluster["ids"] and len(cluster["ids"]) == 2, nodes  # tasks ran on both nodes
    _same_shards(_keys(f"{s3_bucket}/masks"), _local(tmp_path / "ref"))

    _upload(_images(tmp_path / "images"), f"{s3_bucket}/images")
    out, _ = _run(cluster, "edges", "--canny", f"{s3_bucket}/images", "--shard-size", "1",
                  "--out", f"{s3_bucket}/edges").communicate(timeout=300)
    assert "6 edge maps in 7 shards" in out, out
    assert {s["node"] for s in _stats(f"{s3_bucket}/edges", "edges")} == cluster["ids"]


def test_a_node_lost_mid_job_leaves_every_shard_exactly_once(cluster, s3_bucket, tmp_path):
    doomed = Node("--address", cluster["address"])
    cluster["nodes"].append(doomed)  # stopped with the cluster
    doomed_id = (set(wait_for_nodes(cluster["address"], 3)) - cluster["ids"]).pop()
    args = ["masks", "--free-form", "--style", "box", "--count", "3000", "--size", "128", "--shard-size", "50"]
    assert CliRunner().invoke(main, [*args, "--workers", "0", "--out", str(tmp_path / "ref")]).exit_code == 0
    out = f"{s3_bucket}/lost"
    proc = _run(cluster, *args, "--out", out)
    deadline = time.monotonic() + 120
    while len(_stats(out, "masks")) < 8 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    os.kill(doomed.raylet_pid(), signal.SIGKILL)  # the third node's raylet, mid-job
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0 and "3000 masks in 60 shards" in output, output
    stats = _stats(out, "masks")
    assert sorted(s["shard"] for s in stats) == list(range(60))
    assert doomed_id in {s["node"] for s in stats}, "the lost node wrote nothing before it went"
    objects = _keys(out)
    _same_shards(objects, _local(tmp_path / "ref"))
    assert not [k for k in objects if is_temp_name(k.rsplit("/", 1)[-1])]


def _train_worker_raylets() -> set[int]:
    """The raylet pids (the parents) of the processes running Ray Train workers now."""
    parents = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if b"RayTrainWorker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                parents.add(int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]))
        except (OSError, IndexError, ValueError):
            continue
    return parents


def test_training_across_nodes_survives_a_lost_node_and_resumes_from_its_checkpoint(cluster, s3_bucket, tmp_path):
    """2 workers of 2/3 CPU on 1-CPU nodes: each on its own node, none seeing another's disk; a
    node holding one is killed after the first checkpoint."""
    doomed = Node("--address", cluster["address"])
    cluster["nodes"].append(doomed)
    wait_for_nodes(cluster["address"], len(cluster["ids"]) + 1)
    _upload(_images(tmp_path / "images"), f"{s3_bucket}/images")
    run_shard_images(f"{s3_bucket}/shards", [f"{s3_bucket}/images"], ShardSpec(size=64),
                     options=JobOptions(shard_size=1, workers=0))
    run = f"{s3_bucket}/runs/lost"
    args = ["train", "deepfillv2", "--data", f"{s3_bucket}/shards", "--size", "64", "--batch-size", "1",
            "--steps", "40", "--val-every", "4", "--checkpoint-every", "4", "--num-val", "1", "--log-every", "1",
            "--cnum", "8", "--dcnum", "8", "--workers", "2", "--out", run]
    proc = _run(cluster, *args)
    deadline = time.monotonic() + 300
    fs = fsspec.filesystem("s3")
    while time.monotonic() < deadline and proc.poll() is None:
        fs.invalidate_cache()
        if fs.glob(f"{run.split('://', 1)[1]}/ray/checkpoint_*/state.pt"):
            break
        time.sleep(0.2)
    head_raylet = cluster["nodes"][0].raylet_pid()
    busy = _train_worker_raylets()
    victims = [node for node in cluster["nodes"][1:] if node.raylet_pid() not in (None, head_raylet)
               and node.raylet_pid() in busy]
    assert victims, "no training worker on a node other than the head"
    os.kill(victims[-1].raylet_pid(), signal.SIGKILL)  # a node holding a worker, after the first checkpoint
    output, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0 and "done: 40/40 step" in output and "run at s3://" in output, output
    assert "PlacementGroupCleaner" not in output and "TrainingReport" not in output  # Ray's noise kept out
    files = _keys(run)
    assert {"metrics.jsonl", "best.pt", "train_config.json"} <= set(files)
    assert any(k.startswith("ray/checkpoint_") and k.endswith("/state.pt") for k in files)
    steps = [json.loads(line)["step"] for line in files["metrics.jsonl"].decode().splitlines()]
    assert steps[-1] == 40 and steps[0] == 0
    assert len(steps) > 41, "no step was redone after the loss: the loss came too late to matter"
    assert sorted(set(steps)) == list(range(41))  # redone from the checkpoint, none skipped


@pytest.mark.parametrize("family, small", [
    ("pconv", ["--width", "8", "--random-vgg"]),
    ("lama", ["--blocks", "1", "--ngf", "8", "--ndf", "8", "--random-perceptual"]),
])
def test_the_other_families_train_across_nodes_into_the_bucket(cluster, s3_bucket, tmp_path, family, small):
    """PConv and LaMa on the same 2 workers of 2/3 CPU as DeepFill v2 above (no node lost)."""
    _upload(_images(tmp_path / "images"), f"{s3_bucket}/images")
    run_shard_images(f"{s3_bucket}/shards", [f"{s3_bucket}/images"], ShardSpec(size=64),
                     options=JobOptions(shard_size=1, workers=0))
    run = f"{s3_bucket}/runs/{family}"
    proc = _run(cluster, "train", family, "--data", f"{s3_bucket}/shards", "--size", "64", "--batch-size", "1",
                "--steps", "2", "--val-every", "2", "--checkpoint-every", "2", "--num-val", "1", "--workers", "2",
                *small, "--out", run)
    output, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0 and "done: 2/2 step" in output, output
    files = _keys(run)
    assert {"metrics.jsonl", "best.pt", "train_config.json"} <= set(files)
    assert json.loads(files["train_config.json"])["model"] == family
