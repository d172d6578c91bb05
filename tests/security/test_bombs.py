"""Item 3: decompression bombs and huge headers are refused per sample before any large
allocation; cv2 errors become recorded errors; oversize tar members are skipped and recorded."""

import json
import os
import subprocess
import sys
import tarfile

import cv2
import numpy as np
import pytest
from safety_helpers import invoke, png_with_header, write_rgb, write_tar

from inpaint_data.datasets.images import MAX_PIXELS, ImageError, decode_rgb, image_size
from inpaint_data.datasets.readers import iter_records, shard_records


def test_a_huge_header_is_refused_from_the_header(tmp_path):
    """Refused from the header, so nothing of the image is allocated: the process's peak memory
    (ru_maxrss, which OpenCV's allocations count in too) does not grow by the 30 GB it would
    take, nor by 50 MB, checked in a fresh process so the peak is this test's own."""
    data = png_with_header(100_000, 100_000)
    assert image_size(data) == (100_000, 100_000)
    with pytest.raises(ImageError, match="over the --max-pixels limit"):
        decode_rgb(data)
    code = ("import resource, sys; from safety_helpers import png_with_header;"
            "from inpaint_data.datasets.images import ImageError, decode_rgb;"
            "data = png_with_header(100_000, 100_000); before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "try: decode_rgb(data)\nexcept ImageError: pass\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=os.path.dirname(__file__))
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) < 50_000  # KiB


def test_a_small_file_that_inflates_to_16000_squared_is_refused():
    data = png_with_header(16_000, 16_000, rows=16_000)
    assert len(data) < 1_000_000  # a small file ...
    with pytest.raises(ImageError, match="16000 x 16000"):  # ... that would be 256 MB of pixels
        decode_rgb(data)
    with pytest.raises(ImageError, match="over the --max-pixels"):
        decode_rgb(png_with_header(8193, 8192))
    assert MAX_PIXELS == 8192 * 8192


@pytest.mark.parametrize("ext", [".jpg", ".png", ".webp", ".bmp", ".tif"])
def test_header_sizes_match_the_decoded_sizes(tmp_path, ext):
    image = np.random.default_rng(0).integers(0, 256, (37, 53, 3), np.uint8)
    ok, buf = cv2.imencode(ext, image)
    assert ok and image_size(buf.tobytes()) == (53, 37)


def test_the_shard_job_records_bombs_and_goes_on(ray_session, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_rgb(folder / "good.png", 40)
    (folder / "huge.png").write_bytes(png_with_header(100_000, 100_000))
    (folder / "bomb.png").write_bytes(png_with_header(16_000, 16_000, rows=16_000))
    result = invoke("shard", folder, "--size", "32", "--out", tmp_path / "shards")
    assert result.exit_code == 0, result.output
    assert "1 images" in result.output and "2 inputs skipped" in result.output
    stats = json.loads((tmp_path / "shards" / ".images-000000.stats.json").read_text())
    reasons = {os.path.basename(e["path"]): e["reason"] for e in stats["errors"]}
    assert set(reasons) == {"huge.png", "bomb.png"} and all("--max-pixels" in r for r in reasons.values())
    # the limit is the user's to set
    result = invoke("shard", folder, "--size", "32", "--max-pixels", "1000", "--out", tmp_path / "strict")
    assert "0 images" in result.output and "3 inputs skipped" in result.output


def test_a_cv2_error_in_decoding_is_the_samples_error(tmp_path):
    """OpenCV raises cv2.error (not None) for images over its own pixel limit: recorded, not fatal."""
    write_rgb(tmp_path / "x.png", 64)
    code = (
        "from inpaint_data.pipelines.jobs.shard import ShardSpec, image_samples\n"
        "from inpaint_data.pipelines.jobs.shards import ShardPlan\n"
        f"plan = ShardPlan(0, 0, 1, items=(({str(tmp_path / 'x.png')!r}, 'x', ''),))\n"
        "print([type(s).__name__ + ':' + getattr(s, 'reason', '') for s in image_samples(plan, ShardSpec(size=32))])\n"
    )
    env = {**os.environ, "OPENCV_IO_MAX_IMAGE_PIXELS": "100"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "SampleError:OpenCV cannot decode it" in done.stdout


def test_oversize_tar_members_are_skipped_and_recorded(tmp_path):
    ok, png = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))
    write_tar(tmp_path / "s.tar", {"k1.png": png.tobytes(), "k2.png": b"x" * 5000, "k3.png": png.tobytes()})
    skipped = []
    keys = [key for key, _ in shard_records(tmp_path / "s.tar", skipped, max_member_bytes=4096)]
    assert keys == ["k1", "k3"]
    assert skipped[0][0].endswith("s.tar:k2.png") and "5,000 bytes" in skipped[0][1]


def test_a_sparse_member_with_a_huge_size_is_skipped_by_the_edges_job(ray_session, tmp_path):
    """A GNU sparse member stores almost nothing but claims 300 MB: skipped from its header."""
    shards = tmp_path / "shards"
    shards.mkdir()
    sparse = tmp_path / "k2.png"
    with open(sparse, "wb") as f:
        f.truncate(300 * 2**20)
    ok, png = cv2.imencode(".png", np.full((40, 40, 3), 90, np.uint8))
    (tmp_path / "k1.png").write_bytes(png.tobytes())
    subprocess.run(["tar", "--sparse", "-cf", str(shards / "images-000000.tar"), "k1.png", "k2.png"],
                   cwd=tmp_path, check=True)
    assert (shards / "images-000000.tar").stat().st_size < 100_000
    with tarfile.open(shards / "images-000000.tar") as tar:
        assert tar.getmember("k2.png").issparse()
    result = invoke("edges", "--canny", shards, "--out", tmp_path / "edges")
    assert result.exit_code == 0, result.output
    assert "1 edge maps" in result.output and "1 inputs skipped" in result.output
    assert "(sparse) is over the 268,435,456-byte member limit" in result.output
    assert [k for k, _ in iter_records(tmp_path / "edges")] == ["k1"]
