"""End to end, as a user runs it: `inpaint-data masks --free-form` (a fresh process: imports,
Ray's start, every shard, the summary) against the released DeepFill v2 generator (PIL strokes)
saving one PNG per mask from a process pool of the same number of processes. Also the start-up
costs: `inpaint-data --help` and a one-shard job. Prints JSON.

Usage: python benchmarks/masks_end_to_end.py [--counts 30000,100000] [--size 256]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from masks_write import pil_brush_strokes  # noqa: E402

CLI = str(Path(sys.executable).with_name("inpaint-data"))


def _draw_and_save(args: tuple[int, int, int, str]) -> None:
    start, stop, size, out = args
    for i in range(start, stop):
        pil_brush_strokes(size, size, np.random.default_rng([0, i])).save(os.path.join(out, f"{i:09d}.png"))


def released(count: int, size: int, processes: int, out: str) -> float:
    """Seconds for the released generator's masks, one PNG file each, from a process pool."""
    started = time.perf_counter()
    chunk = 1000
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pool.map(_draw_and_save, [(s, min(s + chunk, count), size, out) for s in range(0, count, chunk)])
    return time.perf_counter() - started


def ours(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([CLI, *args], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--counts", default="30000")
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    processes = os.cpu_count() or 1
    report = {"machine": platform.processor() or platform.machine(), "cpus": processes,
              "help_s": round(min(ours(["--help"]) for _ in range(3)), 3)}
    with tempfile.TemporaryDirectory() as tmp:
        report["one_shard_job_s"] = round(ours(["masks", "--free-form", "--count", "10", "--size", str(args.size),
                                                "--out", f"{tmp}/one"]), 2)
        rows = []
        for count in (int(c) for c in args.counts.split(",")):
            base_dir, our_dir = Path(tmp, "released"), Path(tmp, "ours")
            base_dir.mkdir()
            base = released(count, args.size, processes, str(base_dir))
            ours_s = ours(["masks", "--free-form", "--style", "deepfill", "--count", str(count), "--size",
                           str(args.size), "--out", str(our_dir)])
            rows.append({"count": count, "released_s": round(base, 2), "ours_s": round(ours_s, 2),
                         "released_per_s": round(count / base), "ours_per_s": round(count / ours_s),
                         "speedup": round(base / ours_s, 2)})
            shutil.rmtree(base_dir)
            shutil.rmtree(our_dir)
        report["end_to_end"] = rows
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
