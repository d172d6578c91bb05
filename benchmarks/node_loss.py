"""The wall-clock cost of losing a Ray node mid-job: the same masks job on a local 3-node cluster
(one CPU a node, `ray start` processes on 127.0.0.1, output in moto's S3 server on loopback),
once whole and once with the last node's raylet killed when a third of the shards are done.
On a 2-core machine three 1-CPU nodes oversubscribe the cores, so the figure is mostly the cost
of noticing the loss and redoing the lost node's shards, not of the capacity lost.

Prints JSON. Usage (from the repository root): python benchmarks/node_loss.py [--count N]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import fsspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' S3 server and cluster helpers
from tests import s3_server  # noqa: E402
from tests.local_cluster import node_env, start_cluster, stop_cluster  # noqa: E402

CLI = [sys.executable, "-m", "inpaint_data.cli"]


def _count(fs, pattern: str) -> int:
    fs.invalidate_cache()
    return len(fs.glob(pattern))


def _timed(cluster: dict, args: list[str], kill_when=None) -> dict:
    """Run one job on the cluster; `kill_when()` true: kill the last node's raylet (once)."""
    env = node_env(RAY_ADDRESS=cluster["address"])
    started = time.perf_counter()
    proc = subprocess.Popen([*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    killed_at = None
    while kill_when is not None and killed_at is None and proc.poll() is None:
        if kill_when():
            os.kill(cluster["nodes"][-1].raylet_pid(), signal.SIGKILL)
            killed_at = time.perf_counter() - started
        time.sleep(0.1)
    output, _ = proc.communicate()
    if proc.returncode:
        raise RuntimeError(output[-2000:])
    return {"seconds": round(time.perf_counter() - started, 1), "killed_at_s": killed_at and round(killed_at, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=6000, help="masks (box style, 128 px, 50 a shard)")
    args = parser.parse_args()
    s3_server.configure()
    s3_server.start()
    fs = fsspec.filesystem("s3")
    fs.mkdir("bench")
    shards = args.count // 50
    masks = ["masks", "--free-form", "--style", "box", "--count", str(args.count), "--size", "128",
             "--shard-size", "50"]
    results = {}
    try:
        for name, kill in (("whole", False), ("node_lost", True)):
            cluster = start_cluster(workers=2)
            try:
                out = f"bench/masks-{name}"
                when = (lambda out=out: _count(fs, f"{out}/.masks-*.stats.json") >= shards // 3) if kill else None
                results[f"masks_{name}"] = _timed(cluster, [*masks, "--out", f"s3://{out}"], when)
                assert _count(fs, f"{out}/.masks-*.stats.json") == shards
            finally:
                stop_cluster(cluster)
    finally:
        s3_server.stop()
    whole, lost = results["masks_whole"]["seconds"], results["masks_node_lost"]["seconds"]
    results["masks_cost_s"] = round(lost - whole, 1)
    results["masks_ratio"] = round(lost / whole, 2)
    results["setup"] = {"nodes": 3, "cpus_per_node": 1, "masks": args.count, "shards": shards,
                        "machine_cores": os.cpu_count()}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
