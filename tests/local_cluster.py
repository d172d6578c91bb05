"""A local multi-node Ray cluster for the cluster tests and benchmarks/node_loss.py: each node a
`ray start --block` of its own (own process group, raylet, object store and --temp-dir) on
127.0.0.1, the head with `--head`, the others with `--address`, token authentication on."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))


def node_env(**extra: str) -> dict:
    """This process's environment (the S3 endpoint and keys included) with Ray's token
    authentication on, as README asks (the token is shared through ~/.ray/auth_token)."""
    return dict(os.environ, RAY_AUTH_MODE="token", **extra)


class Node:
    """One `ray start --block` in its own process group and temporary folder."""

    def __init__(self, *args: str):
        self.temp_dir = tempfile.mkdtemp(prefix="ray-")  # short: Ray's socket paths have a length limit
        self.proc = subprocess.Popen([RAY, "start", "--block", "--node-ip-address", "127.0.0.1", "--num-cpus", "1",
                                      "--temp-dir", self.temp_dir, "--disable-usage-stats", *args],
                                     env=node_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)

    def raylet_pid(self) -> int | None:
        """The pid of this node's raylet; None once it is gone."""
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmd[0].endswith(b"/raylet") and any(self.temp_dir.encode() in arg for arg in cmd):
                return int(pid)
        return None

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def wait_for_nodes(address: str, count: int) -> list[str]:
    """The ids of the cluster's alive nodes, once there are `count`."""
    code = (f"import ray, time; ray.init(address={address!r}, logging_level='ERROR')\n"
            f"while len([n for n in ray.nodes() if n['Alive']]) < {count}: time.sleep(0.2)\n"
            "print(' '.join(n['NodeID'] for n in ray.nodes() if n['Alive']))")
    out = subprocess.run([sys.executable, "-c", code], env=node_env(), capture_output=True, text=True, timeout=120)
    return out.stdout.split()


def start_cluster(workers: int = 1) -> dict:
    """A head and `workers` worker nodes of one CPU each: {"address", "nodes", "ids"}."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"127.0.0.1:{port}"
    nodes = [Node("--head", "--port", str(port), "--include-dashboard", "false")]
    time.sleep(3)
    nodes += [Node("--address", address) for _ in range(workers)]
    try:
        ids = wait_for_nodes(address, workers + 1)
    except BaseException:
        stop_cluster({"nodes": nodes})
        raise
    return {"address": address, "nodes": nodes, "ids": set(ids)}


def stop_cluster(cluster: dict) -> None:
    for node in reversed(cluster["nodes"]):
        node.stop()
