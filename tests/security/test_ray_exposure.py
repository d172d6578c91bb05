"""Item 10: a local Ray started by us requires Ray's auth token (its gRPC ports are open on
every interface in Ray 2.60, so the token is what keeps it private), and we warn whenever
token authentication is off."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # each test starts its own Ray in a subprocess

LOCAL_RAY = """
import os, subprocess, sys
from inpaint_data.pipelines.ray_runtime import _token_auth_on, init_ray
import ray
init_ray(num_cpus=1)
address = ray.get_runtime_context().gcs_address
print("auth", _token_auth_on())
joiner = "import ray; ray.init(address=%r); print('JOINED')" % address
env = {**os.environ, "RAY_AUTH_MODE": "disabled", "HOME": sys.argv[1]}
done = subprocess.run([sys.executable, "-c", joiner], env=env, capture_output=True, text=True, timeout=120)
print("joined" if "JOINED" in done.stdout else "refused")
"""


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_AUTH_MODE")}
    return {**env, **extra}


def test_a_local_ray_of_ours_refuses_a_client_without_the_token(tmp_path):
    done = subprocess.run([sys.executable, "-c", LOCAL_RAY, str(tmp_path)], env=_env(), capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "auth True" in done.stdout and "refused" in done.stdout
    assert "token authentication is off" not in done.stderr


def test_we_warn_when_token_authentication_is_off(tmp_path):
    cli = [sys.executable, "-m", "inpaint_data.cli", "masks", "--free-form", "--count", "2", "--size", "32",
           "--shard-size", "1", "--out", str(tmp_path / "o")]  # two shards: a job that starts Ray
    done = subprocess.run(cli, env=_env(RAY_AUTH_MODE="disabled"), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr.count("Ray token authentication is off (RAY_AUTH_MODE=disabled)") == 1
