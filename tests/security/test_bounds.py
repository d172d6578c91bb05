"""Item 8: bounds on --size and --count, and shard plans generated lazily."""

import glob
import os
import signal
import subprocess
import sys
import time
from itertools import islice

import pytest
from safety_helpers import invoke

from inpaint_data.datasets.readers import shard_paths
from inpaint_data.pipelines.jobs.shards import plan_shards


def test_plans_are_lazy():
    """The bound that matters is memory, not time: a million plans (240 MB as a list) and then a
    trillion are planned in well under a megabyte (tracemalloc: Python and numpy allocations)."""
    import tracemalloc

    for count in (10**6, 10**12):
        tracemalloc.start()
        try:
            plans = plan_shards(count, 1)
            assert [p.index for p in islice(plans, 3)] == [0, 1, 2]
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 1_000_000, f"planning {count} shards held {peak:,} bytes"


def test_size_and_count_bounds_are_refused_up_front(tmp_path):
    for args, message in ((["--size", "16385"], "at most 16384"), (["--count", str(10**12)], "--count")):
        result = invoke("masks", "--free-form", *args, "--out", tmp_path / "o")
        assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
        assert not (tmp_path / "o").exists()


def test_shards_past_a_million_are_found_in_number_order(tmp_path):
    for n in (999_999, 1_000_000, 12, 100_001):
        (tmp_path / f"masks-{n:06d}.tar").write_bytes(b"")
    assert [p.name for p in shard_paths(tmp_path, "webdataset")] == [
        "masks-000012.tar", "masks-100001.tar", "masks-999999.tar", "masks-1000000.tar"]


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


@pytest.mark.slow
def test_ten_billion_masks_start_at_once_in_bounded_memory(tmp_path):
    """The driver of `--count 10**10 --shard-size 1` plans lazily: it writes shards while the
    plan runs to ten billion, and stays under 200 MB while 50 of them are written; then it is
    killed. (Bounded by memory and by shards written, not by seconds: the 180 s window only
    stops a hung job.)"""
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "inpaint_data.cli", "masks", "--free-form", "--style", "box", "--count", str(10**10),
           "--shard-size", "1", "--size", "32", "--workers", "1", "--out", str(out)]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started, written, peak = time.perf_counter(), 0, 0.0
    try:
        while time.perf_counter() - started < 180 and written <= 50 and proc.poll() is None:
            peak = max(peak, _rss_mb(proc.pid))
            written = len(glob.glob(str(out / ".masks-*.stats.json")))
            time.sleep(0.25)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert written > 50, written
    assert peak < 200, peak
