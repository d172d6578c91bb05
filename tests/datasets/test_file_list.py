"""The file list of an image job (datasets/file_list.py): streamed walks in the order of sorted
Paths, unique keys as images.unique_keys makes them, repeated paths dropped, parts, row groups of
one shard, reuse by a re-run, flat memory."""

import os
import tracemalloc

import fsspec
import numpy as np
import pyarrow.parquet as pq
import pytest

from inpaint_data import storage
from inpaint_data.datasets.file_list import FILE_LIST, listed, read_file_list, read_rows, runs_of, write_file_lists
from inpaint_data.datasets.image_inputs import image_entry_runs
from inpaint_data.datasets.images import unique_keys
from inpaint_data.pipelines.jobs.job import JobOptions
from inpaint_data.pipelines.jobs.shard import ShardSpec, run_shard_images
from tests.security.safety_helpers import write_rgb

TRICKY = ["a/x.png", "a.png", "a-b/y.png", "a b.png", "b/c/d/e.png", "b/c.png", "B.png", "z/ä.png", "b/c/a.png",
          "b/c/notes.txt"]


def test_the_walk_streams_the_order_of_sorted_paths_locally_and_on_memory(tmp_path):
    for rel in TRICKY:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    os.symlink(tmp_path / "b", tmp_path / "link_to_folder")  # not followed, as Path.rglob
    os.symlink(tmp_path / "a.png", tmp_path / "link.png")
    want = [f.relative_to(tmp_path).as_posix() for f in sorted(tmp_path.rglob("*")) if f.is_file()]
    assert [rel for _, rel in storage.walk_files(tmp_path)] == want
    fs = fsspec.filesystem("memory")
    for rel in TRICKY:
        fs.pipe_file(f"/walk/{rel}", b"x")
    walked = list(storage.walk_files("memory://walk"))
    assert [rel for _, rel in walked] == [r for r in want if not r.startswith("link")]
    assert walked[0] == ("memory://walk/B.png", "B.png")
    assert list(storage.walk_files("memory://nothing-here")) == []


def test_keys_are_unique_as_unique_keys_makes_them_and_repeated_paths_go(tmp_path):
    entries = [("/x/a b.png", "a_b"), ("/x/a_b.png", "a_b"), ("/x/a_b-2.png", "a_b-2"), ("/x/a b.png", "a_b"),
               ("/y/c.png", "c"), ("/z/c.png", "c")]
    lists = write_file_lists(runs_of(entries, size=4), tmp_path, 2, {"inputs": ["x"]})
    listed_rows = read_rows(lists[""].location, 0, 100)
    assert dict(listed_rows) == unique_keys(dict(entries))
    assert [path for path, _ in listed_rows] == [p for p, _ in entries[:3] + entries[4:]]  # list order kept
    assert lists[""].count == 5 and lists[""].identity()["count"] == 5
    parquet = pq.ParquetFile(lists[""].location)
    assert [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)] == [2, 2, 1]
    assert read_rows(lists[""].location, 1, 4) == listed_rows[1:4]  # across row groups
    assert read_file_list(lists[""].location) == lists[""]
    assert read_file_list(tmp_path / "nothing.parquet") is None


def test_parts_take_their_rows_in_list_order(tmp_path):
    entries = [(f"/i/{n}.png", f"k{n}") for n in range(50)]
    lists = write_file_lists(runs_of(entries, size=3), tmp_path, 7, {},
                             part_of=lambda key: "val" if int(key[1:]) % 5 == 0 else "train")
    assert sorted(lists) == ["train", "val"] and (lists["train"].count, lists["val"].count) == (40, 10)
    assert read_rows(lists["val"].location, 0, 10) == [(f"/i/{n}.png", f"k{n}") for n in range(0, 50, 5)]
    assert lists["val"].request == {"part": "val"}


def _listing_peak(n: int, folder) -> int:
    entries = ((f"/data/images/folder{i // 1000:04d}/image_{i:08d}.jpg", f"folder{i // 1000:04d}_image_{i:08d}")
               for i in range(n))
    tracemalloc.start()
    lists = write_file_lists(runs_of(entries), folder, 1000, {})
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert lists[""].count == n
    return peak


def test_listing_holds_a_few_bytes_an_input_not_the_inputs(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    small, large = _listing_peak(40_000, tmp_path / "a"), _listing_peak(120_000, tmp_path / "b")
    as_tuples = 80_000 * (2 * 90 + 64)  # what 80,000 more (path, key) tuples of these strings take
    assert large - small < 8e6 < as_tuples, f"{small / 1e6:.1f} MB, then {large / 1e6:.1f} MB"


def test_a_rerun_reads_the_list_and_a_new_request_lists_again(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for i in range(5):
        write_rgb(images / f"img{i}.png", 48, seed=i)
    targets = {"": tmp_path / "out"}
    (tmp_path / "out").mkdir()
    with listed(lambda: image_entry_runs([str(images)]), targets, 2, {"inputs": [str(images)]}) as lists:
        file_list, local = lists[""]
        assert local is not None and file_list.count == 5
        storage.put_file(local, tmp_path / "out" / FILE_LIST)
    write_rgb(images / "img9.png", 48)  # added after the listing: a resumed job does not see it

    def no_listing():
        raise AssertionError("listed again")

    with listed(no_listing, targets, 2, {"inputs": [str(images)]}) as lists:
        assert lists[""][1] is None and lists[""][0].count == 5
    with listed(lambda: image_entry_runs([str(images)]), targets, 3, {"inputs": [str(images)]}) as lists:
        assert lists[""][0].count == 6  # another shard size: listed again


def test_the_shard_job_keeps_its_list_and_records_a_missing_line_of_a_list_file(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for i in range(4):
        write_rgb(images / f"img{i}.png", 48, seed=i)
    names = tmp_path / "names.txt"
    names.write_text("\n".join([*(str(p) for p in sorted(images.iterdir())), str(images / "gone.png"), ""]))
    result = run_shard_images(tmp_path / "out", [str(names)], ShardSpec(size=32),
                              options=JobOptions(shard_size=2, workers=0))
    assert (result.count, result.shards) == (4, 3)
    assert [e["path"] for e in result.errors] == [str(images / "gone.png")]
    rows = pq.read_table(tmp_path / "out" / FILE_LIST).to_pydict()
    assert rows["key"] == ["img0", "img1", "img2", "img3", "gone"]
    again = run_shard_images(tmp_path / "out", [str(names)], ShardSpec(size=32),
                             options=JobOptions(shard_size=2, workers=0))
    assert (again.shards_skipped, again.count) == (3, 4)


@pytest.mark.parametrize("val_fraction", [0.0, 0.5])
def test_a_rerun_writes_nothing_and_the_lists_hold_every_key_once(tmp_path, val_fraction):
    images = tmp_path / "images"
    images.mkdir()
    for i in range(12):
        write_rgb(images / f"img{i:02d}.png", 40, seed=i)
    options = JobOptions(shard_size=4, workers=0)
    first = run_shard_images(tmp_path / "a", [str(images)], ShardSpec(size=32), val_fraction=val_fraction,
                             options=options)
    again = run_shard_images(tmp_path / "a", [str(images)], ShardSpec(size=32), val_fraction=val_fraction,
                             options=options)
    assert first.count == again.count == 12 and again.shards_written == 0
    folders = [tmp_path / "a" / p for p in ("train", "val")] if val_fraction else [tmp_path / "a"]
    keys = [pq.read_table(f / FILE_LIST).column("key").to_pylist() for f in folders]
    assert sorted(k for part in keys for k in part) == [f"img{i:02d}" for i in range(12)]
    assert all(keys)  # no empty list written


def test_the_edge_index_finds_each_images_shard_and_none_for_a_missing_one(tmp_path):
    from inpaint_data.pipelines.jobs.edges import EdgeSpec, run_edges
    from inpaint_data.pipelines.jobs.shard import EdgeIndex

    images = tmp_path / "images"
    images.mkdir()
    for i in range(3):
        write_rgb(images / f"img{i}.png", 40, seed=i)
    run_edges(tmp_path / "edges", [str(images)], EdgeSpec(method="canny"), options=JobOptions(shard_size=2, workers=0))
    index = EdgeIndex(str(tmp_path / "edges"))
    first, second = (str(tmp_path / "edges" / f"edges-00000{i}.tar") for i in (0, 1))
    source = {name: str((images / f"{name}.png").resolve()) for name in ("img0", "img1", "img2", "missing")}
    assert index.shards_of([source[n] for n in ("img2", "missing", "img0", "img1")]) == [second, "", first, first]
    assert index.keys.nbytes + index.numbers.nbytes == 3 * 20


def test_a_shared_hash_of_different_texts_is_no_repeat(tmp_path):
    """Hashes only pick the candidates; the strings decide (here two different keys and paths
    are given one hash, as a collision would)."""
    import pyarrow as pa

    from inpaint_data.datasets.file_list import SCHEMA, _renames, _repeated_paths

    scratch = tmp_path / "scratch.parquet"
    pq.write_table(pa.table([["/a.png", "/b.png", "/a.png"], ["a", "b", "a"], ["", "", ""]], schema=SCHEMA), scratch)
    colliding = np.array([7, 7, 7], np.uint64)
    assert _repeated_paths(scratch, colliding).tolist() == [2]
    assert _renames(scratch, colliding, dropped=np.array([2])) == {}
    assert _renames(scratch, colliding, dropped=np.array([], np.int64)) == {2: "a-2"}


def test_the_hash_is_the_same_in_every_process_and_tells_texts_apart():
    """`_hashes` (numpy over Arrow's buffers) is a function of the text: fixed values, any
    length (past its table of powers), empty and non-ASCII texts, and no two of 200,000 names
    of a listing's shape share one."""
    from inpaint_data.datasets.file_list import _hashes

    texts = ["", "a", "b", "ab", "ba", "é", "a" * 5000, "a" * 5001, "/data/x/000001.jpg"]
    hashes = _hashes(texts)
    assert len(set(hashes.tolist())) == len(texts)
    assert _hashes(texts[::-1]).tolist() == hashes.tolist()[::-1]  # each its own, whatever its neighbours
    assert hashes[:3].tolist() == [0, 17360999193197444373, 4824385676517010403]
    names = [f"/data/images/folder{i // 1000:04d}/image_{i:08d}.jpg" for i in range(200_000)]
    assert len(np.unique(_hashes(names))) == len(names)


def test_keys_made_a_run_at_a_time_are_key_safes_own():
    """key_safe_all (one regex pass over a run joined by newlines) gives key_safe's key for every
    name, names holding a newline or nothing at all included."""
    from inpaint_data.datasets.images import key_safe, key_safe_all

    names = ["a b", "", "é.x", "x\udcff", "__", "a--b", "日本語", "/", "a/b/c", "-", "x\n", "\n\n"]
    assert key_safe_all(names) == [key_safe(n) for n in names]
    assert key_safe_all(names[:9]) == [key_safe(n) for n in names[:9]]  # no newline: the one-pass path
    assert key_safe_all([]) == [] and key_safe_all([""]) == ["_"]
