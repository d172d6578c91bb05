"""Start or join Ray: a local instance with this machine's cores, or a cluster by address."""

from __future__ import annotations

import logging
import os

import ray


def init_ray(address: str | None = None, num_cpus: int | None = None) -> dict:
    """Connect to `address` (or RAY_ADDRESS); else start a local Ray. Reuses a running session.

    Returns the cluster's resources, e.g. {"CPU": 2.0, ...}.
    """
    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS") or None
        common = dict(logging_level=logging.WARNING, log_to_driver=True, configure_logging=True)
        if address:
            ray.init(address=address, **common)
        else:
            ray.init(num_cpus=num_cpus or os.cpu_count(), include_dashboard=False, **common)
    return ray.cluster_resources()


def cluster_cpus() -> int:
    """Whole CPUs in the cluster Ray is connected to (at least 1)."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))
