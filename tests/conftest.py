import pytest


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray for the whole test session (2 CPUs, like the CI machine)."""
    import ray

    from inpaint_data.pipelines.ray_runtime import init_ray

    init_ray(num_cpus=2)
    yield ray
    ray.shutdown()
