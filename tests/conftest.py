import itertools

import pytest

from tests import s3_server


def pytest_configure(config):
    s3_server.configure()  # before any Ray starts: its workers inherit the S3 endpoint


def pytest_unconfigure(config):
    s3_server.stop()


def pytest_collection_modifyitems(config, items):
    """Every test that uses the shared Ray session is `slow`: `pytest -m "not slow"` runs the rest
    (pure functions, one process) in well under a minute; CI runs everything."""
    for item in items:
        if "ray_session" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray for the whole test session (2 CPUs, like the CI machine)."""
    import ray

    from inpaint_data.pipelines.ray_runtime import data_context, init_ray

    init_ray(num_cpus=2)
    data_context()  # tests that read our output with Ray Data directly: without Ray's own deprecation notes
    yield ray
    ray.shutdown()


_buckets = itertools.count()


@pytest.fixture
def s3_bucket():
    """`s3://NAME`, a new empty bucket on the loopback S3 server (tests/s3_server.py)."""
    import fsspec

    s3_server.start()
    name = f"test-{next(_buckets)}"
    fs = fsspec.filesystem("s3")
    fs.mkdir(name)
    fs.invalidate_cache()
    return f"s3://{name}"
