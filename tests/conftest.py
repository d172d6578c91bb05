import pytest


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

    from inpaint_data.pipelines.ray_runtime import init_ray

    init_ray(num_cpus=2)
    yield ray
    ray.shutdown()
