"""img2dataset output folders as `shard` inputs: its webdataset tars and its parquet files."""

import io
import json
import tarfile

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from inpaint_data.datasets.readers import read_samples
from inpaint_data.errors import InputError
from inpaint_data.pipelines.jobs.job import JobOptions
from inpaint_data.pipelines.jobs.shard import ShardSpec, run_shard_images


def jpeg(seed: int) -> bytes:
    small = np.random.default_rng(seed).integers(0, 256, (4, 6, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", cv2.resize(small, (96, 64), interpolation=cv2.INTER_CUBIC))[1].tobytes()


def add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def make_img2dataset_folder(root):
    """What `img2dataset --output_format webdataset` writes: 00000.tar, 00001.tar with
    key.jpg/.txt/.json members, 00000.parquet metadata (no image bytes) and _stats.json files."""
    root.mkdir()
    for shard in range(2):
        with tarfile.open(root / f"{shard:05d}.tar", "w") as tar:
            for i in range(3):
                key = f"{shard:05d}{i:04d}"
                add(tar, f"{key}.jpg", jpeg(10 * shard + i))
                add(tar, f"{key}.txt", b"a caption")
                add(tar, f"{key}.json", json.dumps({"key": key, "url": "http://example.invalid"}).encode())
        (root / f"{shard:05d}_stats.json").write_text("{}")
        pq.write_table(pa.table({"key": [f"{shard:05d}{i:04d}" for i in range(3)], "url": ["u"] * 3,
                                 "status": ["success"] * 3}), root / f"{shard:05d}.parquet")
    return root


@pytest.fixture
def img2dataset_folder(tmp_path):
    return make_img2dataset_folder(tmp_path / "i2d")


def test_shard_reads_img2dataset_tars_without_unpacking(img2dataset_folder, tmp_path):
    result = run_shard_images(tmp_path / "out", [str(img2dataset_folder)], ShardSpec(size=None, ext="jpg"),
                              options=JobOptions(shard_size=4, workers=0))
    assert result.count == 6
    samples = {s.key: s for s in read_samples(tmp_path / "out")}
    assert sorted(samples) == ["000000000", "000000001", "000000002", "000010000", "000010001", "000010002"]
    original = cv2.imdecode(np.frombuffer(jpeg(11), np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
    assert np.array_equal(samples["000010001"].image, original)  # kept as it was: no re-encoding
    assert samples["000010001"].meta["source"].endswith("00001.tar::000010001.jpg")


def test_shard_reads_img2dataset_parquet_and_refuses_url_lists(tmp_path):
    root = tmp_path / "i2d"
    root.mkdir()
    pq.write_table(pa.table({"key": ["000000000", "000000001"], "jpg": [jpeg(1), jpeg(2)]}), root / "00000.parquet")
    result = run_shard_images(tmp_path / "out", [str(root)], ShardSpec(size=32), options=JobOptions(workers=0))
    assert result.count == 2
    assert {s.image.shape for s in read_samples(tmp_path / "out")} == {(32, 32, 3)}
    urls = tmp_path / "urls"
    urls.mkdir()
    pq.write_table(pa.table({"url": ["http://example.invalid/a.jpg"]}), urls / "00000.parquet")
    with pytest.raises(InputError, match="holds URLs: download them with img2dataset first"):
        run_shard_images(tmp_path / "out2", [str(urls)], ShardSpec(), options=JobOptions(workers=0))


def test_video2dataset_tars_feed_masks_from_video(tmp_path):
    """A video2dataset folder (00000.tar with key.mp4 + key.json) gives the same masks as the
    same video as a plain file, and leaves no temporary copy behind once done."""
    from inpaint_data.datasets.ecosystem import _local_copy
    from inpaint_data.datasets.samples import sample_video
    from inpaint_data.datasets.video import find_videos, probe_video
    from inpaint_data.pipelines.jobs.masks_video import VideoMaskSpec, run_video_masks

    video = str(sample_video("carphone_pristine.mp4"))
    root = tmp_path / "v2d"
    root.mkdir()
    with tarfile.open(root / "00000.tar", "w") as tar:
        data = open(video, "rb").read()
        add(tar, "000000000.mp4", data)
        add(tar, "000000000.json", b"{}")
    (root / "00000.parquet").write_bytes(b"")  # video2dataset's metadata beside the tar: not read
    [address] = find_videos([str(root)])
    assert address.endswith("00000.tar::000000000.mp4")
    info, plain = probe_video(address), probe_video(video)
    assert (info.frames, info.height, info.width) == (plain.frames, plain.height, plain.width)
    spec = VideoMaskSpec(max_frames=12, augment=False)  # raw masks: augmentation is seeded by the video's name
    from_tar = run_video_masks(tmp_path / "a", [str(root)], spec, options=JobOptions(workers=0))
    from_file = run_video_masks(tmp_path / "b", [video], spec, options=JobOptions(workers=0))
    assert from_tar.count == from_file.count > 0
    masks_a = [s.mask for s in read_samples(tmp_path / "a")]
    masks_b = [s.mask for s in read_samples(tmp_path / "b")]
    assert all(np.array_equal(a, b) for a, b in zip(masks_a, masks_b))
    copies = list(_local_copy.values())
    assert len(copies) <= 1  # one member copied at a time


def test_edges_read_img2dataset_tars_too(img2dataset_folder, tmp_path):
    from inpaint_data.pipelines.jobs.edges import EdgeSpec, run_edges

    result = run_edges(tmp_path / "edges", [str(img2dataset_folder)], EdgeSpec(method="canny"),
                       options=JobOptions(workers=0))
    assert result.count == 6 and not result.errors
    edges = {s.key: s for s in read_samples(tmp_path / "edges")}
    assert sorted(edges) == ["000000000", "000000001", "000000002", "000010000", "000010001", "000010002"]
    assert edges["000010001"].edge.shape == (64, 96)
