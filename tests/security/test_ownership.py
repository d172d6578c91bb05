"""Item 5: nothing a user owns is overwritten or deleted."""

import json
import os
import socket
import subprocess

from safety_helpers import assert_one_line_error, invoke, write_rgb

from inpaint_data.datasets.writers import remove_temps
from inpaint_data.fileio import temp_path

MASKS = ("masks", "--free-form", "--style", "box", "--count", "20", "--size", "64", "--shard-size", "10")


def test_inpaint_refuses_an_out_that_holds_an_input(tmp_path):
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    original = write_rgb(imgs / "photo.png", 40).read_bytes()
    write_rgb(tmp_path / "hole.png", 40, seed=3)
    for out in (imgs, imgs / "filled", tmp_path):
        result = invoke("inpaint", imgs, "--mask", tmp_path / "hole.png", "--baseline", "telea", "--out", out)
        assert_one_line_error(result, "overlap")
    assert (imgs / "photo.png").read_bytes() == original and sorted(p.name for p in imgs.iterdir()) == ["photo.png"]


def test_inpaint_refuses_to_overwrite_unless_asked(tmp_path):
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    write_rgb(imgs / "photo.png", 40)
    write_rgb(tmp_path / "hole.png", 40, seed=3)
    args = ("inpaint", imgs, "--mask", tmp_path / "hole.png", "--baseline", "telea", "--out", tmp_path / "out")
    assert invoke(*args).exit_code == 0
    (tmp_path / "out" / "photo.png").write_bytes(b"mine")
    assert_one_line_error(invoke(*args), "already exist", "--overwrite")
    assert (tmp_path / "out" / "photo.png").read_bytes() == b"mine"
    assert invoke(*args, "--overwrite").exit_code == 0
    assert (tmp_path / "out" / "photo.png").read_bytes() != b"mine"


def test_a_non_empty_folder_that_is_not_ours_is_refused_untouched(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    files = {"notes.txt": b"a", "draft.tmp-1": b"b", ".cache.tmp-x": b"c", ".masks-000000.tar.tmp-1-0000000z": b"d"}
    for name, data in files.items():
        (out / name).write_bytes(data)
    assert_one_line_error(invoke(*MASKS, "--out", out), "not empty", "not an inpaint-data output folder")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == files


def test_only_our_own_temp_names_are_cleaned_up(tmp_path):
    ours = temp_path(tmp_path / "masks-000000.tar")
    ours.write_bytes(b"partial")
    lookalikes = ["a.tmp-1", ".a.tmp-12-xyz", ".a.tmp-12-0123456789", "x.tmp-1-01234567", ".a.tmp"]
    for name in lookalikes:
        (tmp_path / name).write_bytes(b"user")
    assert remove_temps(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(lookalikes)


def _plant_lock(out, pid):
    out.mkdir(parents=True, exist_ok=True)
    (out / ".job.lock").write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "started": "then"}))


def test_a_second_run_into_a_busy_folder_is_refused_and_takes_nothing(ray_session, tmp_path):
    out = tmp_path / "out"
    assert invoke(*MASKS, "--out", out).exit_code == 0
    for name in (".masks-000001.stats.json", "masks-000001.tar"):  # as if shard 1 were still being written
        (out / name).unlink()
    other = subprocess.Popen(["sleep", "60"])
    try:
        _plant_lock(out, other.pid)
        live_temp = temp_path(out / "masks-000001.tar")
        live_temp.write_bytes(b"the other run's shard in progress")
        result = invoke(*MASKS, "--out", out)
        assert_one_line_error(result, f"process {other.pid}", ".job.lock")
        assert live_temp.exists()
    finally:
        other.kill()
        other.wait()
    result = invoke(*MASKS, "--out", out)  # the holder is gone: its lock is stale, taken over
    assert result.exit_code == 0, result.output
    assert "20 masks in 2 shards" in result.output and "1 written" in result.output
    assert not live_temp.exists() and not (out / ".job.lock").exists()


def test_the_lock_is_released_after_a_run_and_names_this_process_during_it(ray_session, tmp_path):
    out = tmp_path / "out"
    assert invoke(*MASKS, "--out", out).exit_code == 0
    assert not (out / ".job.lock").exists()
    _plant_lock(out, os.getpid())  # this very process counts as alive: refused
    assert_one_line_error(invoke(*MASKS, "--out", out), "is being written")
