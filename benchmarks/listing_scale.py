"""The driver's memory when an image job lists millions of inputs: a local tree of empty files
(groups of 1,000 folders of 1,000 files), listed and planned as the `edges` and `shard` jobs do
before any shard runs (datasets/file_list.py: a streamed walk into a Parquet file list, shards as
row ranges), each measurement in a fresh process (its peak RSS from getrusage), on the first
million files and on all. The baseline is what the driver did before the file list, in the same
run: every (path, key) found into a dict, made unique, sorted, and cut into plans holding their
inputs (about 3.7 GB at 10 million: the machine needs that much free memory).

The tree is made once under --root (10 million empty files take 10 million inodes and ~1 GB of
folder entries) and reused; remove it with `rm -rf ROOT` when done.

Prints JSON. Usage (from the repository root):
    python benchmarks/listing_scale.py [--count 10000000] [--root DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PER_FOLDER = 1000
FOLDERS_PER_GROUP = 1000


def make_tree(root: Path, count: int) -> None:
    """root/GG/FFFF/IIIIIII.jpg, empty files, `count` in all (made once; a marker records it)."""
    marker = root / f".made-{count}"
    if marker.exists():
        return
    for n in range(0, count, PER_FOLDER):
        group, folder = divmod(n // PER_FOLDER, FOLDERS_PER_GROUP)
        where = root / f"{group:02d}" / f"{folder:04d}"
        where.mkdir(parents=True, exist_ok=True)
        for i in range(n, min(n + PER_FOLDER, count)):
            os.close(os.open(where / f"{i:08d}.jpg", os.O_CREAT | os.O_WRONLY, 0o644))
    marker.touch()


CHILD = {
    "file_list": """
from inpaint_data.datasets.file_list import listed
from inpaint_data.datasets.image_inputs import image_entry_runs
from inpaint_data.pipelines.jobs.shards import plan_file_list_shards
out = sys.argv[3]
with listed(lambda: image_entry_runs([root]), {"": out}, 1000, {"inputs": [root]}) as lists:
    file_list, local = lists[""]
    plans = sum(1 for _ in plan_file_list_shards(out + "/.files.parquet", file_list.count, 1000))
    count = file_list.count
    list_bytes = local.stat().st_size
""",
    "in_memory": """
from inpaint_data.datasets.images import find_images
items = find_images([root])
plans = [tuple(items[s:s + 1000]) for s in range(0, len(items), 1000)]
count, plans, list_bytes = len(items), len(plans), None
""",
}


def measure(how: str, root: Path) -> dict:
    code = (
        "import json, resource, sys, time\n"
        "root = sys.argv[2]\n"
        "started = time.perf_counter()\n"
        + CHILD[how]
        + "print(json.dumps({'count': count, 'plans': plans, 'list_bytes': list_bytes,"
        " 'seconds': round(time.perf_counter() - started, 1),"
        " 'peak_rss_mib': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))\n"
    )
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run([sys.executable, "-c", code, how, str(root), out], capture_output=True, text=True,
                              cwd=out, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    if done.returncode:
        raise SystemExit(done.stderr)
    return {"how": how, "root": str(root), **json.loads(done.stdout)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000_000)
    parser.add_argument("--root", type=Path, default=Path(tempfile.gettempdir()) / "inpaint-data-listing")
    args = parser.parse_args()
    started = time.perf_counter()
    make_tree(args.root, args.count)
    made = time.perf_counter() - started
    group = args.root / "00"  # the first million files (or all, when fewer), then all: both ways each
    results = [measure(how, root) for root in (group, args.root) for how in ("in_memory", "file_list")]
    ratios = {f"{results[i + 1]['count']:,} files": {
        "rss_baseline_over_file_list": round(results[i]["peak_rss_mib"] / results[i + 1]["peak_rss_mib"], 2),
        "seconds_baseline_over_file_list": round(results[i]["seconds"] / results[i + 1]["seconds"], 2)}
        for i in (0, 2)}
    print(json.dumps({"files": args.count, "tree_seconds": round(made, 1), "results": results, "ratios": ratios},
                     indent=1))


if __name__ == "__main__":
    main()
