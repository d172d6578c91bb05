import json
import tarfile

import numpy as np
import pyarrow.parquet as pq
import pytest
import webdataset as wds

from inpaint_data.datasets.readers import detect_format, read_samples, shard_paths
from inpaint_data.datasets.records import Sample, check_key
from inpaint_data.datasets.writers import (
    FORMATS,
    open_shard_writer,
    read_stats,
    remove_temps,
    shard_path,
    write_stats,
)


def _samples(n, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        out.append(
            Sample(
                key=f"{i:06d}",
                image=rng.integers(0, 256, (24, 32, 3), dtype=np.uint8),
                mask=(rng.random((24, 32)) > 0.5).astype(np.uint8) * 255,
                edge=rng.integers(0, 256, (24, 32), dtype=np.uint8),
                meta={"index": i, "hole_ratio": 0.5, "source": "test", "nested": {"a": [1, 2]}},
            )
        )
    return out


def _write(tmp_path, fmt, samples, shard=0):
    with open_shard_writer(fmt, tmp_path, "data", shard) as writer:
        for s in samples:
            writer.write(s)
    return writer


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_every_member(tmp_path, fmt):
    written = _samples(5)
    _write(tmp_path, fmt, written[:3], shard=0)
    _write(tmp_path, fmt, written[3:], shard=1)
    assert detect_format(tmp_path) == fmt
    assert len(shard_paths(tmp_path)) == 2
    read = list(read_samples(tmp_path))
    assert [s.key for s in read] == [s.key for s in written]
    for a, b in zip(written, read):
        assert np.array_equal(a.image, b.image)  # PNG is lossless
        assert np.array_equal(a.mask, b.mask)
        assert np.array_equal(a.edge, b.edge)
        assert a.meta == b.meta


def test_webdataset_reader_reads_our_tars(tmp_path):
    _write(tmp_path, "webdataset", _samples(4))
    url = str(shard_path(tmp_path, "data", 0, "webdataset"))
    rows = list(wds.WebDataset(url, shardshuffle=False))
    assert [r["__key__"] for r in rows] == ["000000", "000001", "000002", "000003"]
    assert set(rows[0]) >= {"png", "mask.png", "edge.png", "json"}
    assert json.loads(rows[2]["json"])["index"] == 2


def test_parquet_columns_are_plain_bytes_and_scalars(tmp_path):
    _write(tmp_path, "parquet", _samples(3))
    table = pq.read_table(shard_path(tmp_path, "data", 0, "parquet"))
    assert table.num_rows == 3
    columns = {"key", "image", "image_format", "mask", "edge", "meta", "hole_ratio", "source", "index"}
    assert columns <= set(table.column_names)
    assert "nested" not in table.column_names  # only scalars become columns; all of meta stays in `meta`
    assert table.schema.field("mask").type == "binary"
    assert json.loads(table.column("meta")[1].as_py())["nested"] == {"a": [1, 2]}


def test_tar_bytes_are_reproducible(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    _write(a, "webdataset", _samples(3))
    _write(b, "webdataset", _samples(3))
    assert (a / "data-000000.tar").read_bytes() == (b / "data-000000.tar").read_bytes()
    with tarfile.open(a / "data-000000.tar") as tar:
        assert all(m.mtime == 0 for m in tar.getmembers())


@pytest.mark.parametrize("fmt", FORMATS)
def test_failed_shard_leaves_nothing_behind(tmp_path, fmt):
    with pytest.raises(RuntimeError):
        with open_shard_writer(fmt, tmp_path, "data", 0) as writer:
            writer.write(_samples(1)[0])
            raise RuntimeError("worker failed mid-shard")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_commit_replaces_a_shard_left_without_stats(tmp_path, fmt):
    _write(tmp_path, fmt, _samples(4, seed=1))
    _write(tmp_path, fmt, _samples(2, seed=2))
    read = list(read_samples(tmp_path, fmt))
    assert len(read) == 2
    assert np.array_equal(read[0].mask, _samples(2, seed=2)[0].mask)


def test_remove_temps_clears_killed_writers(tmp_path):
    writer = open_shard_writer("files", tmp_path, "data", 0)
    writer.write(_samples(1)[0])  # never committed: the process "died"
    (tmp_path / "keep.txt").write_text("user file")
    assert remove_temps(tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_stats_mark_a_shard_done(tmp_path):
    assert read_stats(tmp_path, "data", 3) is None
    write_stats(tmp_path, "data", 3, {"count": 7})
    assert read_stats(tmp_path, "data", 3) == {"count": 7}
    assert not any(".tmp-" in p.name for p in tmp_path.iterdir())


def test_keys_with_dots_are_rejected():
    assert check_key("000123") == "000123"
    with pytest.raises(ValueError, match="invalid sample key"):
        check_key("img.001")
