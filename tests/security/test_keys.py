"""Item 2: no sample is lost to a key collision; every printed count equals what is read back."""

import pytest
from safety_helpers import invoke, write_rgb

from inpaint_data.datasets.images import find_images, unique_keys
from inpaint_data.datasets.readers import iter_records

TRIO = ("a b.png", "a_b.png", "a_b-2.png")


@pytest.fixture
def trio(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i, name in enumerate(TRIO):
        write_rgb(folder / name, 40, seed=i)
    return folder


def test_keys_are_unique_for_names_that_clean_to_the_same_key(trio):
    keys = [key for _, key in find_images([str(trio)])]
    assert len(keys) == 3 and len(set(keys)) == 3
    many = unique_keys({f"/x/{n}": n for n in ("a b", "a_b", "a_b-2", "a?b", "a_b-3", "a__b", "a-b")})
    assert len(set(many.values())) == 7


def _keys(folder):
    return [key for key, _ in iter_records(folder)]


def test_shard_and_edges_keep_all_three(ray_session, trio, tmp_path):
    result = invoke("shard", trio, "--size", "32", "--out", tmp_path / "shards")
    assert result.exit_code == 0, result.output
    assert "3 images" in result.output
    assert len(set(_keys(tmp_path / "shards"))) == 3
    result = invoke("edges", "--canny", trio, "--out", tmp_path / "edges")
    assert result.exit_code == 0, result.output
    assert "3 edge maps" in result.output
    assert len(set(_keys(tmp_path / "edges"))) == 3


def test_inpaint_writes_all_three(trio, tmp_path):
    write_rgb(tmp_path / "hole.png", 40)
    result = invoke("inpaint", trio, "--mask", tmp_path / "hole.png", "--baseline", "telea", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "3 images filled" in result.output
    assert len(list((tmp_path / "out").glob("*.png"))) == 3
