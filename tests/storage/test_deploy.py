"""The `ray up` recipe in deploy/: Ray's own cluster-config checks accept it (its JSON schema
and the autoscaler's rules, after Ray fills in the provider's defaults), and every node installs
this project with its S3 extra and starts Ray with token authentication."""

from pathlib import Path

import yaml

RECIPE = Path(__file__).resolve().parents[2] / "deploy" / "ray-cluster-aws.yaml"


def test_ray_accepts_the_cluster_recipe():
    from ray.autoscaler._private.util import fillout_defaults, validate_config

    config = yaml.safe_load(RECIPE.read_text())
    validate_config(fillout_defaults(config))
    assert set(config["available_node_types"]) == {"head", "cpu_workers", "gpu_workers"}
    assert config["file_mounts"]["~/inpaint-data"] == "."


def test_every_node_installs_the_project_and_starts_ray_with_token_authentication():
    config = yaml.safe_load(RECIPE.read_text())
    assert any('inpaint-data[s3]' in cmd and "pip install" in cmd for cmd in config["setup_commands"])
    starts = config["head_start_ray_commands"] + config["worker_start_ray_commands"]
    assert all("RAY_AUTH_MODE=token" in cmd for cmd in starts if "ray start" in cmd)
    assert "~/.ray/auth_token" in config["file_mounts"]
    assert "aws_secret_access_key" not in RECIPE.read_text().lower()  # credentials: the instance role
