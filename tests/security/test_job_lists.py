"""Round 2, item 4: a job's file list is its own. An edited `.files.parquet` (its rows, its hash,
even the manifest) is refused in one line, and no row outside the job's inputs is ever read."""

import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from safety_helpers import assert_one_line_error, invoke, write_rgb

from inpaint_data.datasets.file_list import META_KEY, SCHEMA


@pytest.fixture
def job(tmp_path):
    """A finished `shard` job over four images, and a photo outside its inputs."""
    (tmp_path / "images").mkdir()
    for i in range(4):
        write_rgb(tmp_path / "images" / f"p{i}.png", 40, seed=i)
    write_rgb(tmp_path / "private.png", 40, seed=9)
    command = ["shard", tmp_path / "images", "--size", "32", "--shard-size", "2", "--workers", "0",
               "--out", tmp_path / "out"]
    assert invoke(*command).exit_code == 0
    return tmp_path, command


def _rewrite(location, edit, fix_hash: bool):
    """Rewrite a file list with `edit(rows)`; with `fix_hash`, its metadata made to match."""
    import hashlib

    parquet = pq.ParquetFile(location)
    meta = json.loads(parquet.metadata.metadata[META_KEY])
    table = parquet.read()
    stamps = table.column("stamp").to_pylist()
    rows = edit(list(zip(table.column("path").to_pylist(), table.column("key").to_pylist())))
    if fix_hash:
        meta["sha1"] = hashlib.sha1("".join(f"{p}\t{k}\t{s}\n" for (p, k), s in zip(rows, stamps)).encode()).hexdigest()
        meta["count"] = len(rows)
    new = pa.table([[p for p, _ in rows], [k for _, k in rows], stamps], schema=SCHEMA)
    with pq.ParquetWriter(location, SCHEMA) as writer:
        writer.write_table(new, row_group_size=meta["rows_per_group"])
        writer.add_key_value_metadata({META_KEY: json.dumps(meta, sort_keys=True).encode()})
    return meta


def _point_at(path):
    return lambda rows: [(str(path), rows[0][1]), *rows[1:]]


def _shard_of_first_row_redone(out):
    (out / ".images-000000.stats.json").unlink()


@pytest.mark.parametrize("target, fix_hash", [("private", False), ("http", False), ("private", True)])
def test_an_edited_list_is_refused_and_the_row_not_read(job, target, fix_hash):
    """Rows edited, with the list's own hash left (or made to match: the manifest still differs)."""
    root, command = job
    out = root / "out"
    outside = root / "private.png" if target == "private" else "http://127.0.0.1:9/photo.png"
    _rewrite(out / ".files.parquet", _point_at(outside), fix_hash=fix_hash)
    _shard_of_first_row_redone(out)
    assert_one_line_error(invoke(*command), "changed after the job wrote it", "--relist")
    assert not (out / ".images-000000.stats.json").exists()


def test_a_row_outside_the_inputs_is_refused_even_when_list_and_manifest_agree(job):
    root, command = job
    out = root / "out"
    meta = _rewrite(out / ".files.parquet", _point_at(root / "private.png"), fix_hash=True)
    manifest = json.loads((out / ".manifest.json").read_text())
    manifest["job"]["inputs"] = {"count": meta["count"], "sha1": meta["sha1"]}
    (out / ".manifest.json").write_text(json.dumps(manifest))
    _shard_of_first_row_redone(out)
    assert_one_line_error(invoke(*command), "outside the job's inputs", "--relist")
    assert not (out / ".images-000000.stats.json").exists()


@pytest.mark.parametrize("key", ["../../x", "a/b", "x.png"])
def test_a_key_that_is_not_a_key_is_one_line(job, key):
    root, command = job
    out = root / "out"
    _rewrite(out / ".files.parquet", lambda rows: [(rows[0][0], key), *rows[1:]], fix_hash=True)
    assert_one_line_error(invoke(*command), "not a sample key")


def test_relist_after_an_edit_lists_the_inputs_again(job):
    root, command = job
    out = root / "out"
    _rewrite(out / ".files.parquet", _point_at(root / "private.png"), fix_hash=False)
    result = invoke(*command, "--relist")
    assert result.exit_code == 0, result.output
    rows = pq.read_table(out / ".files.parquet").column("path").to_pylist()
    assert str(root / "private.png") not in rows and len(rows) == 4
    shutil.rmtree(out)


def test_a_row_swapped_inside_the_inputs_with_its_hash_fixed_differs_from_the_manifest(job):
    root, command = job
    out = root / "out"
    _rewrite(out / ".files.parquet", _point_at(root / "images" / "p3.png"), fix_hash=True)
    _shard_of_first_row_redone(out)
    assert_one_line_error(invoke(*command))
    assert not (out / ".images-000000.stats.json").exists()
