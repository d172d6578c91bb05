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
    done = sorted(p.name for p in out.glob(".masks-*.stats.json"))
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


def _file_size_limit(limit: int):
    """For a child process: writes past `limit` bytes in any file fail with EFBIG (the kernel's
    RLIMIT_FSIZE, no root needed; SIGXFSZ ignored so the write returns the error)."""
    import resource
    import signal

    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_write_that_fails_midway_leaves_no_partial_file_and_a_rerun_completes(tmp_path):
    """Without root: the job's process may write no file past 64 KiB, so its first shard fails in
    the middle of being written, through the writers' real code. One line, a non-zero exit,
    no temporary or partial file; the same command without the limit then writes every shard."""
    import sys

    args = [sys.executable, "-m", "inpaint_data.cli", "masks", "--free-form", "--style", "deepfill", "--count",
            "120", "--size", "256", "--shard-size", "40", "--workers", "0", "--seed", "3", "--out", str(tmp_path / "m")]
    failed = subprocess.run(args, capture_output=True, text=True, timeout=300, preexec_fn=_file_size_limit(64 * 1024))
    assert failed.returncode != 0 and "File too large" in failed.stderr and "Traceback" not in failed.stderr
    out = tmp_path / "m"
    assert not _temps(out) and not list(out.glob("*.tar"))
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert len(list(out.glob("*.tar"))) == 3 and not _temps(out)
    assert len(dict(iter_records(out))) == 120
