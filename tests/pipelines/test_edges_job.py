import cv2
import numpy as np
import pytest

from inpaint_data.datasets.readers import read_samples
from inpaint_data.datasets.records import Sample
from inpaint_data.datasets.writers import open_shard_writer
from inpaint_data.models.hed_weights import fetch_hed_weights
from inpaint_data.pipelines.jobs.edges import EdgeSpec, run_edges
from inpaint_data.pipelines.jobs.job import JobOptions


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    square = np.zeros((48, 64, 3), np.uint8)
    square[12:36, 16:48] = 255
    cv2.imwrite(str(root / "square.png"), square)
    cv2.imwrite(str(root / "gray.png"), square[..., 0])
    cv2.imwrite(str(root / "deep.png"), (rng.random((40, 40)) * 65535).astype(np.uint16))
    cv2.imwrite(str(root / "rgba.png"), np.dstack([square, np.full((48, 64), 255, np.uint8)]))
    (root / "zero.jpg").write_bytes(b"")
    (root / "text.jpg").write_text("no image here")
    return root


def test_hed_job_writes_edges_keyed_like_images_and_records_bad_ones(ray_session, images, tmp_path):
    fetch_hed_weights()
    result = run_edges(tmp_path, [str(images)], EdgeSpec(), options=JobOptions(fmt="parquet", shard_size=3))
    assert result.shards == 2 and result.count == 4
    assert sorted(e["path"].rsplit("/", 1)[-1] for e in result.errors) == ["text.jpg", "zero.jpg"]
    edges = {s.key: s for s in read_samples(tmp_path)}
    assert sorted(edges) == ["deep", "gray", "rgba", "square"]
    square = edges["square"].edge
    assert square.shape == (48, 64) and square.dtype == np.uint8
    assert square[12, 16:48].mean() > square[24, 32] + 100  # edges on the square's border, not inside
    assert np.array_equal(edges["gray"].edge, square)  # gray is converted to the same RGB


def test_edges_from_existing_shards_and_canny(ray_session, tmp_path):
    shard_dir = tmp_path / "shards"
    shard_dir.mkdir()
    image = np.zeros((32, 32, 3), np.uint8)
    image[8:24, 8:24] = 200
    with open_shard_writer("webdataset", shard_dir, "images", 0) as writer:
        for i in range(3):
            writer.write(Sample(key=f"img{i}", image=np.roll(image, i, axis=1), meta={}))
    result = run_edges(tmp_path / "canny", [str(shard_dir)], EdgeSpec(method="canny", canny_sigma=None))
    assert result.shards == 1 and result.count == 3
    got = {s.key: s.edge for s in read_samples(tmp_path / "canny")}
    assert sorted(got) == ["img0", "img1", "img2"] and all(e.max() == 255 for e in got.values())
