"""Data jobs with their inputs and outputs in a bucket of a real S3 API on loopback (moto's
server, tests/s3_server.py): the same bytes as the local run, a killed job resumed with nothing
lost or duplicated, no temporary keys left, no credentials written."""

import json
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import cv2
import fsspec
import numpy as np
import pytest
from click.testing import CliRunner

import inpaint_data
from inpaint_data.cli.main import main
from inpaint_data.datasets.readers import iter_records, read_samples
from inpaint_data.datasets.samples import sample_video
from inpaint_data.fileio import is_temp_name
from inpaint_data.pipelines.jobs.edges import EdgeSpec, run_edges
from inpaint_data.pipelines.jobs.job import JobOptions
from inpaint_data.pipelines.jobs.masks_synth import FreeFormSpec, run_free_form_masks
from inpaint_data.pipelines.jobs.masks_video import VideoMaskSpec, run_video_masks
from inpaint_data.pipelines.jobs.shard import ShardSpec, run_shard_images

CLI = [sys.executable, "-m", "inpaint_data.cli"]
pytestmark = pytest.mark.slow  # a server and CLI subprocesses


def _keys(url: str) -> dict[str, bytes]:
    """name -> bytes of every object under an s3:// prefix."""
    fs = fsspec.filesystem("s3")
    fs.invalidate_cache()
    root = url.split("://", 1)[1]
    return {path[len(root) + 1 :]: fs.cat_file(path) for path in fs.find(root)}


def _local(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _data(files: dict[str, bytes]) -> dict[str, bytes]:
    """The shards alone (stats and manifest hold times and paths)."""
    return {k: v for k, v in files.items() if not k.rsplit("/", 1)[-1].startswith(".")}


def _same_shards(got: dict[str, bytes], want: dict[str, bytes]) -> None:
    """The shards of two outputs are the same names and bytes; a failure names what differs
    (a full diff of megabytes of tar bytes would hide it)."""
    got, want = _data(got), _data(want)
    extra, missing = sorted(got.keys() - want.keys()), sorted(want.keys() - got.keys())
    assert not extra and not missing, f"extra: {extra}, missing: {missing}"
    differ = [(k, len(got[k]), len(want[k])) for k in sorted(want) if got[k] != want[k]]
    assert not differ, f"(name, size, expected size) that differ: {differ}"


def _upload(folder: Path, url: str) -> None:
    fsspec.filesystem("s3").put(str(folder), url.split("://", 1)[1], recursive=True)


def test_free_form_masks_in_a_bucket_are_the_local_bytes_and_resume(s3_bucket, tmp_path):
    spec = FreeFormSpec(style="deepfill", height=64, width=64, seed=3)
    options = JobOptions(fmt="webdataset", shard_size=10, workers=0)
    local = run_free_form_masks(tmp_path / "local", spec, count=25, options=options)
    remote = run_free_form_masks(f"{s3_bucket}/masks", spec, count=25, options=options)
    assert (remote.count, remote.shards, remote.shards_written) == (local.count, 3, 3)
    objects = _keys(f"{s3_bucket}/masks")
    _same_shards(objects, _local(tmp_path / "local"))
    assert len(_data(objects)) == 3
    assert sorted(k for k in objects if k.startswith(".")) == [
        ".manifest.json", ".masks-000000.stats.json", ".masks-000001.stats.json", ".masks-000002.stats.json"]
    # a run that died after two shards: its last shard and stats gone, a stray temporary key left
    fs = fsspec.filesystem("s3")
    root = f"{s3_bucket}/masks".split("://", 1)[1]
    fs.rm([f"{root}/masks-000002.tar", f"{root}/.masks-000002.stats.json"])
    fs.pipe_file(f"{root}/.masks-000002.tar.tmp-1-0123abcd", b"partial")
    again = run_free_form_masks(f"{s3_bucket}/masks", spec, count=25, options=options)
    assert (again.shards_written, again.shards_skipped, again.count) == (1, 2, 25)
    assert _keys(f"{s3_bucket}/masks").keys() == objects.keys()  # the temporary key removed, no lock left
    _same_shards(_keys(f"{s3_bucket}/masks"), objects)
    # a folder written by 0.1.0 ("_" side files): the re-run renames them on the store, writes nothing
    for key in [k for k in objects if k.startswith(".")]:
        fs.mv(f"{root}/{key}", f"{root}/_{key[1:]}")
    again = run_free_form_masks(f"{s3_bucket}/masks", spec, count=25, options=options)
    assert (again.shards_written, again.shards_skipped) == (0, 3)
    assert _keys(f"{s3_bucket}/masks").keys() == objects.keys()


def test_ray_tasks_write_parquet_shards_to_the_bucket(ray_session, s3_bucket, tmp_path):
    spec = FreeFormSpec(style="box", height=64, width=64, seed=1)
    options = JobOptions(fmt="parquet", shard_size=6, workers=2)
    run_free_form_masks(tmp_path / "local", spec, count=20, options=options)
    result = run_free_form_masks(f"{s3_bucket}/p", spec, count=20, options=options)
    assert result.shards_written == 4 and result.count == 20
    _same_shards(_keys(f"{s3_bucket}/p"), _local(tmp_path / "local"))
    assert dict(iter_records(f"{s3_bucket}/p")) == dict(iter_records(tmp_path / "local"))  # our readers, remote


def _images(root: Path) -> Path:
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(5):
        image = np.zeros((72, 96, 3), np.uint8)
        image[10 + i : 50, 20 : 70 - i] = rng.integers(60, 255, 3)
        cv2.imwrite(str(root / f"img{i}.png"), image)
    (root / "sub").mkdir()
    cv2.imwrite(str(root / "sub" / "deep.jpg"), np.full((64, 64, 3), 90, np.uint8))
    (root / "broken.jpg").write_bytes(b"not a jpeg")
    return root


def test_edges_and_shard_read_and_write_the_bucket(s3_bucket, tmp_path):
    images = _images(tmp_path / "images")
    _upload(images, f"{s3_bucket}/images")
    options = JobOptions(fmt="webdataset", shard_size=4, workers=0)
    spec = EdgeSpec(method="canny")
    local_edges = run_edges(tmp_path / "edges", [str(images)], spec, options=options)
    remote_edges = run_edges(f"{s3_bucket}/edges", [f"{s3_bucket}/images"], spec, options=options)
    assert remote_edges.count == local_edges.count == 6
    assert [e["path"] for e in remote_edges.errors] == [f"{s3_bucket}/images/broken.jpg"]
    local = {s.key: s.edge for s in read_samples(tmp_path / "edges")}
    remote = {s.key: s.edge for s in read_samples(f"{s3_bucket}/edges")}
    assert sorted(remote) == sorted(local) and all(np.array_equal(remote[k], local[k]) for k in local)

    shard = ShardSpec(size=64)
    shard_options = JobOptions(fmt="parquet", shard_size=3, workers=0)
    run_shard_images(tmp_path / "shards", [str(images)], shard, edges_dir=str(tmp_path / "edges"),
                     val_fraction=0.3, options=shard_options)
    result = run_shard_images(f"{s3_bucket}/shards", [f"{s3_bucket}/images"], shard,
                              edges_dir=f"{s3_bucket}/edges", val_fraction=0.3, options=shard_options)
    assert result.count == 6 and set(result.parts) == {"train", "val"}
    for split in ("train", "val"):
        want = {s.key: s for s in read_samples(tmp_path / "shards" / split)}
        got = {s.key: s for s in read_samples(f"{s3_bucket}/shards/{split}")}
        assert sorted(got) == sorted(want)
        for key, sample in got.items():
            assert np.array_equal(sample.image, want[key].image) and np.array_equal(sample.edge, want[key].edge)
            assert sample.meta["source"].startswith(f"{s3_bucket}/images/")


def test_video_masks_from_a_video_in_the_bucket(s3_bucket, tmp_path):
    bikes = sample_video("bikes.mp4")
    fsspec.filesystem("s3").put_file(str(bikes), f"{s3_bucket}/videos/bikes.mp4".split("://", 1)[1])
    # augment off: the augmentation is seeded by the video id, which hashes the address
    spec = VideoMaskSpec(preset="fast", max_frames=12, chunk_frames=6, resize=136, height=96, width=96, augment=False)
    options = JobOptions(workers=0)
    local = run_video_masks(tmp_path / "v", [str(bikes)], spec, options=options)
    remote = run_video_masks(f"{s3_bucket}/v", [f"{s3_bucket}/videos/"], spec, options=options)
    assert remote.count == local.count > 3 and not remote.errors
    masks = [s.mask for s in read_samples(f"{s3_bucket}/v")]
    assert all(np.array_equal(a, b) for a, b in zip(masks, (s.mask for s in read_samples(tmp_path / "v"))))
    assert len(list(Path(tempfile.gettempdir()).glob("inpaint-data-*.mp4"))) <= 1  # one local copy at a time


def test_credentials_are_never_written(s3_bucket):
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]
    result = CliRunner().invoke(main, ["masks", "--free-form", "--count", "4", "--size", "64", "--workers", "0",
                                       "--out", f"{s3_bucket}/c"])
    assert result.exit_code == 0, result.output
    objects = _keys(f"{s3_bucket}/c")
    assert objects and not [k for k, v in objects.items() if secret.encode() in v]
    assert secret not in result.output


def _done(url: str) -> int:
    fs = fsspec.filesystem("s3")
    fs.invalidate_cache()
    root = url.split("://", 1)[1]
    return len(fs.glob(f"{root}/.masks-*.stats.json"))


def test_a_killed_job_writing_to_the_bucket_resumes_to_the_local_bytes(s3_bucket, tmp_path):
    args = ["masks", "--free-form", "--style", "box", "--count", "1500", "--size", "128", "--shard-size", "50",
            "--workers", "0"]
    assert CliRunner().invoke(main, [*args, "--out", str(tmp_path / "ref")]).exit_code == 0
    out = f"{s3_bucket}/killed"
    proc = subprocess.Popen([*CLI, *args, "--out", out], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _done(out) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 3 <= _done(out) < 30, "the job was not killed part-way"
    result = CliRunner().invoke(main, [*args, "--out", out])
    assert result.exit_code == 0 and "1500 masks in 30 shards" in result.output, result.output
    objects = _keys(out)
    _same_shards(objects, _local(tmp_path / "ref"))
    assert not [k for k in objects if is_temp_name(k.rsplit("/", 1)[-1])]


def test_eval_and_inpaint_read_and_write_the_bucket(s3_bucket, tmp_path):
    images = _images(tmp_path / "images")
    (images / "broken.jpg").unlink()
    _upload(images, f"{s3_bucket}/images")
    spec = FreeFormSpec(style="box", height=64, width=64, seed=2)
    run_free_form_masks(tmp_path / "masks", spec, count=6, options=JobOptions(workers=0))
    run_free_form_masks(f"{s3_bucket}/masks", spec, count=6, options=JobOptions(workers=0))
    model = Path(inpaint_data.__file__).parent / "weights" / "deepfillv2_frames64.pt"
    fsspec.filesystem("s3").put_file(str(model), f"{s3_bucket}/models/df.pt".split("://", 1)[1])

    def invoke(*args):
        result = CliRunner().invoke(main, list(args))
        assert result.exit_code == 0, result.output
        return result

    invoke("eval", "--images", str(images), "--masks", str(tmp_path / "masks"), "--model", str(model),
           "--out", str(tmp_path / "eval"))
    invoke("eval", "--images", f"{s3_bucket}/images", "--masks", f"{s3_bucket}/masks",
           "--model", f"{s3_bucket}/models/df.pt", "--out", f"{s3_bucket}/eval")
    report = json.loads(_keys(f"{s3_bucket}/eval")["metrics.json"])
    assert report["rows"] == json.loads((tmp_path / "eval" / "metrics.json").read_text())["rows"]
    assert {"metrics.csv", "worst_best.png"} <= set(_keys(f"{s3_bucket}/eval"))

    storage_mask = f"{s3_bucket}/masks/hole.png"
    hole = np.zeros((64, 64), np.uint8)
    hole[16:40, 20:44] = 255
    fsspec.filesystem("s3").pipe_file(storage_mask.split("://", 1)[1], cv2.imencode(".png", hole)[1].tobytes())
    invoke("inpaint", f"{s3_bucket}/images", "--mask", storage_mask, "--model", f"{s3_bucket}/models/df.pt",
           "--out", f"{s3_bucket}/filled")
    filled = _keys(f"{s3_bucket}/filled")
    assert sorted(filled) == ["img0.png", "img1.png", "img2.png", "img3.png", "img4.png", "sub_deep.png"]
    out = cv2.imdecode(np.frombuffer(filled["img0.png"], np.uint8), cv2.IMREAD_COLOR)
    original = cv2.imread(str(images / "img0.png"))
    assert out.shape == original.shape and np.array_equal(out[:10], original[:10])  # outside the hole kept


def test_masks_stats_and_preview_read_and_write_the_bucket(s3_bucket, tmp_path):
    run_free_form_masks(f"{s3_bucket}/m", FreeFormSpec(style="box", height=64, width=64), count=8,
                        options=JobOptions(workers=0))
    _upload(_images(tmp_path / "images"), f"{s3_bucket}/images")
    run_shard_images(f"{s3_bucket}/shards", [f"{s3_bucket}/images"], ShardSpec(size=64),
                     options=JobOptions(workers=0))
    result = CliRunner().invoke(main, ["masks", "stats", f"{s3_bucket}/m"])
    assert result.exit_code == 0 and "8 masks" in result.output, result.output
    result = CliRunner().invoke(main, ["preview", f"{s3_bucket}/shards", "--masks", f"{s3_bucket}/m", "--size", "64",
                                       "--count", "4", "--out", f"{s3_bucket}/preview.png"])
    assert result.exit_code == 0, result.output
    objects = _keys(s3_bucket)
    for name in ("m/.contact_sheet.png", "m/.histogram.png", "preview.png"):
        assert objects[name][:8] == b"\x89PNG\r\n\x1a\n"


def test_img2dataset_and_video2dataset_folders_in_the_bucket(s3_bucket, tmp_path):
    from inpaint_data.datasets.video import find_videos, probe_video
    from tests.datasets.test_ecosystem import add, make_img2dataset_folder

    folder = make_img2dataset_folder(tmp_path / "i2d")
    _upload(folder, f"{s3_bucket}/i2d")
    spec, options = ShardSpec(size=32), JobOptions(shard_size=4, workers=0)
    local = run_shard_images(tmp_path / "local", [str(folder)], spec, options=options)
    remote = run_shard_images(f"{s3_bucket}/shards", [f"{s3_bucket}/i2d"], spec, options=options)
    assert remote.count == local.count == 6 and not remote.errors
    got = {s.key: s.image for s in read_samples(f"{s3_bucket}/shards")}
    want = {s.key: s.image for s in read_samples(tmp_path / "local")}
    assert sorted(got) == sorted(want) and all(np.array_equal(got[k], want[k]) for k in want)
    edges = run_edges(f"{s3_bucket}/edges", [f"{s3_bucket}/i2d"], EdgeSpec(method="canny"), options=options)
    assert edges.count == 6 and not edges.errors

    video = sample_video("bikes.mp4")
    v2d = tmp_path / "v2d"
    v2d.mkdir()
    with tarfile.open(v2d / "00000.tar", "w") as tar:
        add(tar, "000000000.mp4", video.read_bytes())
    _upload(v2d, f"{s3_bucket}/v2d")
    [address] = find_videos([f"{s3_bucket}/v2d"])
    assert address == f"{s3_bucket}/v2d/00000.tar::000000000.mp4"
    assert probe_video(address).frames == probe_video(str(video)).frames > 0
