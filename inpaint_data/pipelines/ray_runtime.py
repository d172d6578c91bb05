"""Start or join Ray: a local instance with this machine's cores, or a cluster by address.

Exposure: Ray 2.60's gRPC servers listen on every interface whatever node address is asked
for, so what keeps a local Ray private is Ray's token authentication, which Ray turns on for
every local start unless RAY_AUTH_MODE says otherwise. We warn when it is off, for a local
start or when joining a cluster (see README, "On a Ray cluster").
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import warnings

from ..errors import InputError

log = logging.getLogger("inpaint_data")
#: Seconds to wait for a cluster's address to answer before giving up.
CONNECT_TIMEOUT_S = 10.0
DEFAULT_PORT = 6379
#: Set (to 1) by `inpaint-data --verbose`: Ray's worker and raylet output is then streamed to the
#: driver; by default it stays in Ray's log files (the session folder's logs/).
VERBOSE_ENV = "INPAINT_DATA_VERBOSE"


def verbose() -> bool:
    return os.environ.get(VERBOSE_ENV, "") not in ("", "0")


class RayUnreachable(InputError):
    """The Ray address given cannot be reached."""


def ray_address(address: str | None = None) -> str | None:
    """The cluster to join: `address`, else $RAY_ADDRESS, else None (this machine). The one place
    that reads RAY_ADDRESS."""
    return address or os.environ.get("RAY_ADDRESS") or None


def _host_port(address: str) -> tuple[str, int] | None:
    """Host and port of a Ray address (`host:port`, `ray://host:port`); None for `auto` or `local`."""
    if address in ("auto", "local"):
        return None
    rest = address.split("://", 1)[1] if "://" in address else address
    host, _, port = rest.rpartition(":") if ":" in rest else (rest, "", "")
    try:
        return host.strip("[]"), int(port) if port else (10001 if address.startswith("ray://") else DEFAULT_PORT)
    except ValueError:
        raise RayUnreachable(f"Ray address {address!r} is not HOST:PORT, ray://HOST:PORT or auto") from None


def check_address(address: str | None = None, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Fail fast, before anything is written, when the cluster at `address` (or RAY_ADDRESS)
    does not answer on its port: Ray's own connect retries for minutes."""
    address = ray_address(address)
    ray = sys.modules.get("ray")  # Ray is imported only by a job that needs it
    if not address or (ray is not None and ray.is_initialized()):
        return
    target = _host_port(address)
    if target is None:
        return
    try:
        with socket.create_connection(target, timeout=timeout):
            pass
    except OSError as e:
        raise RayUnreachable(
            f"no Ray cluster answers at {address} ({e.strerror or e}); start one with `ray start --head`, "
            "or leave --ray-address and RAY_ADDRESS unset to use this machine"
        ) from None


def _token_auth_on() -> bool:
    try:
        from ray._raylet import AuthenticationMode, get_authentication_mode
    except ImportError:  # a Ray without token authentication
        return False
    return get_authentication_mode() == AuthenticationMode.TOKEN


def init_ray(address: str | None = None, num_cpus: int | None = None) -> dict:
    """Connect to `address` (or RAY_ADDRESS); else start a local Ray. Reuses a running session.

    Returns the cluster's resources, e.g. {"CPU": 2.0, ...}.
    """
    import ray

    if not ray.is_initialized():
        address = ray_address(address)
        check_address(address)
        common = dict(logging_level=logging.WARNING if verbose() else logging.ERROR, log_to_driver=verbose(),
                      configure_logging=True)
        if address:
            ray.init(address=address, **common)
        else:
            ray.init(num_cpus=num_cpus or os.cpu_count(), include_dashboard=False, **common)
        if not _token_auth_on():
            log.warning(
                "Ray token authentication is off (RAY_AUTH_MODE=%s): anyone who can reach %s's ports can run "
                "code there. Set RAY_AUTH_MODE=token and share the token (`ray get-auth-token`); "
                "see README, On a Ray cluster.",
                os.environ.get("RAY_AUTH_MODE", "unset"), address or "this machine")
    return ray.cluster_resources()


def data_context():
    """Ray Data's context. Ray 2.60's own DataContext() sets three of its deprecated fields and
    warns about them (DeprecationWarning, whoever asks first, Ray Train included): not ours to
    fix, so it is made here without showing them, by the work that uses Ray Data or Ray Train
    (not by init_ray: importing ray.data costs a data job's driver ~40 MB)."""
    import ray.data

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ray\.data")
        return ray.data.DataContext.get_current()


def cluster_cpus() -> int:
    """Whole CPUs in the cluster Ray is connected to (at least 1)."""
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)))
