"""A real S3 API on loopback for the storage tests: moto's server, started once per test
session on 127.0.0.1 (no mock is patched into our code; s3fs talks HTTP to it).

`configure()` runs when pytest starts (tests/conftest.py): it picks the port and points the AWS
variables at it before any Ray starts, so every Ray worker the tests start inherits them, and so
that no test can ever reach a real AWS account.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

_server: subprocess.Popen | None = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configure() -> None:
    port = _free_port()
    os.environ.update(
        INPAINT_DATA_TEST_S3_PORT=str(port),
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="inpaint-data-test",
        AWS_SECRET_ACCESS_KEY="inpaint-data-test-secret",
        AWS_DEFAULT_REGION="us-east-1",
    )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        os.environ.pop(name, None)


def start() -> str:
    """Start the server (once) and return its endpoint URL."""
    global _server
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    if _server is None:
        port = os.environ["INPAINT_DATA_TEST_S3_PORT"]
        _server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", port],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                if _server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto's S3 server did not start") from None
                time.sleep(0.2)
    return endpoint


def stop() -> None:
    global _server
    if _server is not None:
        _server.terminate()
        _server.wait(timeout=10)
        _server = None
