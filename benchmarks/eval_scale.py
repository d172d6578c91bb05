"""Eval's memory and speed on a large test set: peak RSS of `inpaint-data eval` (a child process)
and pairs per second, for this checkout and, with --baseline-code, another checkout run the same
way (e.g. a worktree of the commit before streaming: `git worktree add /tmp/old <commit>`).
Prints JSON.

The set: N smooth random 256 x 256 PNGs and 12 masks (mean fill, so the model costs nothing and
the figures are the pipeline's own). --batch-sizes times a model at several batch sizes.

Usage: python benchmarks/eval_scale.py [--count 3000] [--baseline-code /tmp/old]
       [--model inpaint_data/weights/deepfillv2_frames64.pt --batch-sizes 1,16]
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

import cv2
import numpy as np

HERE = Path(__file__).resolve().parents[1]


def make_set(root: Path, count: int, size: int = 256) -> None:
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(count):
        small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        image = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(root / "images" / f"{i:06d}.png"), image)
    for j in range(12):
        mask = np.zeros((size, size), np.uint8)
        mask[20:40 + 15 * j, 30:200] = 255
        cv2.imwrite(str(root / "masks" / f"m{j:02d}.png"), mask)


#: Runs the CLI in a child and prints that process's own peak RSS (KiB on Linux) last.
CHILD = """
import resource, sys
import inpaint_data
from inpaint_data.cli.main import main
main(standalone_mode=False)
print(inpaint_data.__file__)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run_eval(code: Path, root: Path, filler: list[str], batch_size: int | None = None) -> dict:
    """One `eval` in a child process: wall seconds and the child's peak RSS (MiB)."""
    out = root / f"out-{time.time_ns()}"
    cmd = [sys.executable, "-c", CHILD, "eval",
           "--images", str(root / "images"), "--masks", str(root / "masks"), *filler, "--out", str(out)]
    if batch_size:
        cmd += ["--batch-size", str(batch_size)]
    env = {**os.environ, "PYTHONPATH": str(code)}
    start = time.perf_counter()
    # cwd outside any checkout: sys.path[0] is the cwd, which would shadow PYTHONPATH
    done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, cwd=root)
    seconds = time.perf_counter() - start
    package, peak_kib = done.stdout.strip().splitlines()[-2:]
    if not Path(package).resolve().is_relative_to(code.resolve()):
        raise RuntimeError(f"the child imported {package}, not the code under {code}")
    peak_kib = int(peak_kib)
    cases = len(json.loads((out / "metrics.json").read_text())["cases"])
    return {"seconds": round(seconds, 2), "pairs_per_s": round(cases / seconds, 1),
            "peak_rss_mib": round(peak_kib / 1024), "cases": cases}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--baseline-code", type=Path, help="another checkout, run the same way")
    parser.add_argument("--model", help="time this model too")
    parser.add_argument("--batch-sizes", default="1,16")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_set(root, args.count)
        report = {"count": args.count, "size": 256, "image_bytes_in_memory": args.count * 256 * 256 * 3}
        if args.baseline_code:
            report["baseline_code"] = run_eval(args.baseline_code, root, ["--baseline", "mean-fill"])
        report["this_code"] = run_eval(HERE, root, ["--baseline", "mean-fill"])
        if args.model:
            report["model"] = {bs: run_eval(HERE, root, ["--model", args.model], int(bs))
                               for bs in args.batch_sizes.split(",")}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
