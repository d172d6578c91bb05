"""Item 9: one-line errors, never a traceback, for every user mistake; strict JSON out."""

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from safety_helpers import assert_one_line_error, invoke, write_rgb

from inpaint_data.pipelines.jobs.job import JobOptions
from inpaint_data.pipelines.jobs.shard import ShardSpec, run_shard_images


@pytest.fixture(scope="module")
def shards(ray_session, tmp_path_factory):
    root = tmp_path_factory.mktemp("errors")
    (root / "images").mkdir()
    for i in range(2):
        write_rgb(root / "images" / f"im{i}.png", 48, seed=i)
    run_shard_images(root / "shards", [str(root / "images")], ShardSpec(size=32), options=JobOptions(shard_size=1))
    return root


TRAIN = ("train", "pconv", "--size", "32", "--batch-size", "1", "--workers", "0")


@pytest.mark.parametrize("name,text,needle", [
    ("bad.yaml", "steps: [1\n", "does not parse"),
    ("bad.json", "{\"steps\": ", "does not parse"),
    ("list.yaml", "- 1\n- 2\n", "mapping"),
    ("types.yaml", "steps: abc\n", "setting steps: expected an integer, got 'abc'"),
    ("zero.yaml", "steps: 0\n", "setting steps: must be at least 1"),
    ("betas.yaml", "steps: 1\nbetas: [0.5]\n", "setting betas"),
])
def test_bad_training_configs_fail_in_one_line_before_writing(shards, tmp_path, name, text, needle):
    (tmp_path / name).write_text(text)
    result = invoke(*TRAIN, "--config", tmp_path / name, "--data", shards / "shards", "--out", tmp_path / "run")
    assert_one_line_error(result, needle)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("args,needle", [
    (["--steps", "0"], "--steps"),
    (["--steps", "1", "--size", "30"], "not divisible"),
    (["--steps", "1", "--batch-size", "50"], "too few samples"),
])
def test_invalid_settings_are_refused_before_train_config_is_written(shards, tmp_path, args, needle):
    result = invoke(*TRAIN, "--data", shards / "shards", "--out", tmp_path / "run", *args)
    assert_one_line_error(result, needle)
    assert not (tmp_path / "run").exists()


def test_an_unreadable_or_corrupt_mask_names_the_file(shards, tmp_path):
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    result = invoke("inpaint", shards / "images", "--mask", tmp_path / "corrupt.png", "--baseline", "telea",
                    "--out", tmp_path / "out")
    assert_one_line_error(result, "corrupt.png")
    masks = tmp_path / "masks"
    masks.mkdir()
    (masks / "im0.png").write_bytes(b"garbage")  # one corrupt, one missing: nothing filled
    result = invoke("inpaint", shards / "images", "--mask", masks, "--baseline", "telea", "--out", tmp_path / "o2")
    assert_one_line_error(result, "no image filled")
    assert "skipped" in result.output and "im0.png" in result.output


def test_eval_records_a_corrupt_mask_and_writes_strict_json(shards, tmp_path):
    masks = tmp_path / "masks"
    masks.mkdir()
    assert cv2.imwrite(str(masks / "a_empty.png"), np.zeros((32, 32), np.uint8))  # no hole: PSNR is infinite
    hole = np.zeros((32, 32), np.uint8)
    hole[8:20, 8:20] = 255
    assert cv2.imwrite(str(masks / "b_hole.png"), hole)
    (masks / "c_corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    result = invoke("eval", "--images", shards / "images", "--masks", masks, "--baseline", "telea",
                    "--out", tmp_path / "eval")
    assert result.exit_code == 0, result.output
    assert "c_corrupt.png" in result.output and "1 inputs skipped" in result.output
    text = (tmp_path / "eval" / "metrics.json").read_text()
    report = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert report["skipped"][0]["path"].endswith("c_corrupt.png")
    assert max(c["metrics"]["psnr"] for c in report["cases"]) == 100.0


def test_an_unreachable_ray_address_fails_fast_before_writing(shards, tmp_path):
    """In a fresh process (this one's Ray is already up): nothing listens on port 9 of loopback.
    Fast means before Ray is imported (its connect retries last minutes): -X importtime lists
    every module the process imported, and ray is not among them."""
    cli = [sys.executable, "-X", "importtime", "-m", "inpaint_data.cli", "--ray-address", "127.0.0.1:9"]
    for args, out in ((["masks", "--free-form", "--count", "4"], tmp_path / "o"),
                      (["train", "pconv", "--data", str(shards / "shards"), "--steps", "1", "--size", "32",
                        "--batch-size", "1"], tmp_path / "run")):
        done = subprocess.run([*cli, *args, "--out", str(out)], capture_output=True, text=True, timeout=120)
        imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                    if line.startswith("import time")]
        assert "torch" in imported or "click" in imported  # the listing is there
        assert not [name for name in imported if name == "ray" or name.startswith("ray.")]
        assert done.returncode != 0 and "Traceback" not in done.stderr
        assert "no Ray cluster answers at 127.0.0.1:9" in done.stderr and not out.exists()
