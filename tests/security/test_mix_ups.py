"""Round 2, item 7: no silent mix-up. Edge maps join the image they were made from, tar members
of the same name in two folders stay two images, dotted member names are read."""

import json

import cv2
import numpy as np
from safety_helpers import invoke, write_rgb, write_tar

from inpaint_data.datasets.readers import read_samples


def _stats_errors(folder):
    return [e for path in folder.glob(".*.stats.json") for e in json.loads(path.read_text())["errors"]]


def test_shard_edges_join_by_source_and_record_images_without_one(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    write_rgb(photos / "a b.png", 40, seed=1)
    write_rgb(photos / "a_b.png", 40, seed=2)
    write_rgb(photos / "c.png", 40, seed=3)
    # the edge job listed one file only: its key a_b is what `a b.png` gets in the shard job
    assert invoke("edges", "--canny", photos / "a_b.png", "--workers", "0", "--out", tmp_path / "edges").exit_code == 0
    result = invoke("shard", photos, "--edges", tmp_path / "edges", "--size", "0", "--ext", "png", "--workers", "0",
                    "--out", tmp_path / "shards")
    assert result.exit_code == 0, result.output
    edge_of_a_b = next(s.edge for s in read_samples(tmp_path / "edges"))
    samples = {s.meta["source"].rsplit("/", 1)[-1]: s for s in read_samples(tmp_path / "shards")}
    assert np.array_equal(samples["a_b.png"].edge, edge_of_a_b)
    assert samples["a b.png"].edge is None and samples["c.png"].edge is None
    missing = {e["path"].rsplit("/", 1)[-1] for e in _stats_errors(tmp_path / "shards")
               if "without an edge map" in e["reason"]}
    assert missing == {"a b.png", "c.png"}


def _png(seed: int) -> bytes:
    image = np.random.default_rng(seed).integers(0, 256, (24, 24, 3), np.uint8)
    return cv2.imencode(".png", image)[1].tobytes()


def test_img2dataset_members_of_one_name_in_two_folders_and_dotted_names(tmp_path):
    folder = tmp_path / "i2d"
    folder.mkdir()
    members = {"a/x.png": _png(1), "b/x.png": _png(2), "dots.in.name.png": _png(3)}
    write_tar(folder / "00000.tar", members)
    result = invoke("shard", folder, "--size", "0", "--ext", "png", "--workers", "0", "--out", tmp_path / "shards")
    assert result.exit_code == 0, result.output
    assert _stats_errors(tmp_path / "shards") == []
    by_member = {s.meta["source"].split("::", 1)[1]: s for s in read_samples(tmp_path / "shards")}
    assert set(by_member) == set(members)
    for name, data in members.items():
        original = cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        assert np.array_equal(by_member[name].image, original), name
    assert sorted(s.key for s in by_member.values()) == ["dots_in_name", "x", "x-2"]


def test_an_image_changed_under_its_name_counts_as_changed_on_relist(tmp_path):
    import os

    (tmp_path / "photos").mkdir()
    for i in range(2):
        write_rgb(tmp_path / "photos" / f"p{i}.png", 40, seed=i)
    command = ["edges", "--canny", tmp_path / "photos", "--workers", "0", "--out", tmp_path / "edges"]
    assert invoke(*command).exit_code == 0
    changed = tmp_path / "photos" / "p0.png"
    write_rgb(changed, 48, seed=7)  # same name, other pixels
    os.utime(changed, ns=(1, 1))
    result = invoke(*command, "--relist")
    assert result.exit_code != 0 and "changed" in result.output, result.output
    assert "Traceback" not in result.output
