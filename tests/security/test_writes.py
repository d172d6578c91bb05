"""Items 6 and 7: a failed write is a failure (one line, non-zero exit, no "1 images filled"),
and a full disk leaves no temporary file, keeps the finished shards, and a re-run completes."""

import subprocess

import pytest
from safety_helpers import assert_one_line_error, invoke, write_rgb

from inpaint_data.datasets.readers import iter_records
from inpaint_data.fileio import is_temp_name


@pytest.fixture
def small_disk(tmp_path):
    """A real 1 MB filesystem (tmpfs), mounted for the test; skipped where mounting is not allowed."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


def _remount(disk, options):
    subprocess.run(["mount", "-o", f"remount,{options}", str(disk)], check=True)


@pytest.fixture
def inputs(tmp_path):
    (tmp_path / "imgs").mkdir()
    write_rgb(tmp_path / "imgs" / "photo.png", 40)
    write_rgb(tmp_path / "hole.png", 40, seed=1)
    return tmp_path


def test_inpaint_into_a_read_only_folder_fails_in_one_line(inputs, small_disk):
    _remount(small_disk, "ro")
    result = invoke("inpaint", inputs / "imgs", "--mask", inputs / "hole.png", "--baseline", "telea",
                    "--out", small_disk / "filled")
    assert_one_line_error(result, "Read-only file system")
    assert "filled with" not in result.output


def test_outputs_under_a_file_or_a_missing_folder_fail_in_one_line(inputs, ray_session):
    blocker = inputs / "a_file"
    blocker.write_text("x")
    result = invoke("inpaint", inputs / "imgs", "--mask", inputs / "hole.png", "--baseline", "telea",
                    "--out", blocker / "filled")
    assert_one_line_error(result, "a_file")
    result = invoke("masks", "--free-form", "--count", "4", "--size", "32", "--out", blocker / "masks")
    assert_one_line_error(result, "Not a directory")
    masks = inputs / "masks"
    assert invoke("masks", "--free-form", "--count", "4", "--size", "32", "--out", masks).exit_code == 0
    assert_one_line_error(invoke("masks", "stats", masks, "--out", blocker / "stats"), "a_file")
    shards = inputs / "shards"
    assert invoke("shard", inputs / "imgs", "--size", "32", "--out", shards).exit_code == 0
    result = invoke("preview", shards, "--size", "32", "--count", "1", "--out", inputs / "missing" / "p.png")
    assert_one_line_error(result, "does not exist")


def _temps(folder):
    return [p.name for p in folder.iterdir() if is_temp_name(p.name)]


def test_a_full_disk_fails_the_job_cleanly_and_a_rerun_completes(ray_session, small_disk, tmp_path):
    args = ("masks", "--free-form", "--style", "deepfill", "--count", "600", "--size", "256", "--shard-size", "100",
            "--workers", "1", "--seed", "3")
    out = small_disk / "masks"
    result = invoke(*args, "--out", out)
    assert_one_line_error(result, "No space left on device")
    done = sorted(p.name for p in out.glob("_masks-*.stats.json"))
    assert 1 <= len(done) < 6 and not _temps(out)
    for stats in done:  # every finished shard is whole
        assert (out / stats[1:].replace(".stats.json", ".tar")).exists()
    _remount(small_disk, "size=20m")
    result = invoke(*args, "--out", out)
    assert result.exit_code == 0, result.output
    assert f"{len(done)} already done" in result.output and "600 masks" in result.output
    assert not _temps(out)
    assert invoke(*args, "--out", tmp_path / "reference").exit_code == 0
    assert dict(iter_records(out)) == dict(iter_records(tmp_path / "reference"))
