import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from inpaint_data import __version__
from inpaint_data.cli.main import main
from inpaint_data.datasets.readers import iter_records
from inpaint_data.fileio import is_temp_name

CLI = [sys.executable, "-m", "inpaint_data.cli"]


def _invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_version_and_help():
    assert __version__ in _invoke("--version").output
    out = _invoke("masks", "--help").output
    assert "--free-form" in out and "--shard-size" in out and "255 = hole" in out


def test_every_listed_command_loads_and_help_imports_nothing_heavy():
    import click

    from inpaint_data.cli.main import COMMANDS

    for name in COMMANDS:
        command = main.get_command(None, name)
        assert isinstance(command, click.Command) and command.name in (name, f"{name}_command"), name
    out = _invoke("--help").output
    assert all(name in out for name in COMMANDS)
    code = ("import sys; from click.testing import CliRunner; from inpaint_data.cli.main import main; "
            "CliRunner().invoke(main, ['--help']); "
            "print(sorted(m for m in ('numpy', 'cv2', 'torch', 'ray') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


@pytest.mark.parametrize(
    "args,message",
    [
        (["--count", "0"], "--count"),
        (["--size", "7"], "at least 32"),
        (["--size", "12xq"], "not a size"),
        (["--format", "zip"], "--format"),
        (["--box-size", "0.6:0.5"], "low end is above"),
    ],
)
def test_bad_arguments_exit_2_with_one_clear_line(tmp_path, args, message):
    result = CliRunner().invoke(main, ["masks", "--free-form", "--out", str(tmp_path / "o"), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "o").exists()


def test_missing_mode_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["masks", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--free-form" in result.output


def test_folder_of_another_job_is_refused_untouched(ray_session, tmp_path):
    out = tmp_path / "o"
    first = _invoke("masks", "--free-form", "--style", "box", "--count", "20", "--size", "64", "--out", str(out))
    assert first.exit_code == 0 and "20 masks" in first.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    args = ["masks", "--free-form", "--style", "box", "--count", "30", "--size", "64", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "different job" in result.output and "count" in result.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    again = _invoke("masks", "--free-form", "--style", "box", "--count", "20", "--size", "64", "--out", str(out))
    assert "0 written, 1 already done" in again.output


def _shards_done(out: Path) -> int:
    return len(list(out.glob(".masks-*.stats.json"))) if out.exists() else 0


def test_killed_job_resumes_to_the_same_bytes(ray_session, tmp_path):
    args = ["masks", "--free-form", "--style", "box", "--count", "6000", "--size", "256", "--shard-size", "200",
            "--workers", "1"]
    reference = tmp_path / "ref"
    assert _invoke(*args, "--out", str(reference)).exit_code == 0

    out = tmp_path / "killed"
    proc = subprocess.Popen([*CLI, *args, "--out", str(out)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _shards_done(out) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and the Ray it started, mid-job
    proc.wait()
    done_at_kill = _shards_done(out)
    assert 3 <= done_at_kill < 30, "the job was not killed part-way"

    result = _invoke(*args, "--out", str(out))
    assert result.exit_code == 0 and "6000 masks" in result.output
    got = dict(iter_records(out))
    assert len(got) == 6000
    assert got == dict(iter_records(reference))
    assert not [p for p in out.iterdir() if is_temp_name(p.name)]


def test_without_a_terminal_progress_is_logged_in_lines(tmp_path, monkeypatch):
    """CliRunner's stderr is not a terminal: a line per interval (0 s here) with count, share, rate
    and ETA, and a last `done:` line."""
    monkeypatch.setenv("INPAINT_DATA_LOG_EVERY", "0")
    result = CliRunner().invoke(main, ["masks", "--free-form", "--count", "24", "--size", "64", "--shard-size", "8",
                                       "--workers", "0", "--out", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith(("progress:", "done:"))]
    assert lines[0].startswith("progress: 8/24 mask") and "(33.3%)" in lines[0] and "ETA" in lines[0]
    assert lines[-1].startswith("done: 24/24 mask") and "ETA" not in lines[-1]
