"""Round 2, item 6: no secret recorded. Inputs and outputs at URLs carrying `user:secret@` (and
signed-URL parameters) leave the secret in no file we write and on no console line."""

import io

import cv2
import fsspec
import numpy as np
import pytest
from safety_helpers import invoke, write_rgb

from inpaint_data.fileio import redact

SECRET = "SECRET123"
BUCKET = f"memory://AKIA:{SECRET}@bkt"


def test_redact_removes_userinfo_and_signed_url_parameters():
    assert redact(f"{BUCKET}/a.png") == "memory://bkt/a.png"
    signed = "https://b.s3.amazonaws.com/k.png?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F1&X-Amz-Signature=f00"
    assert redact(signed) == ("https://b.s3.amazonaws.com/k.png?X-Amz-Algorithm=AWS4&X-Amz-Credential=REDACTED"
                              "&X-Amz-Signature=REDACTED")
    assert redact("gs://b/x?X-Goog-Signature=abc") == "gs://b/x?X-Goog-Signature=REDACTED"
    assert redact("plain/path.png") == "plain/path.png"


def _memory_files(prefix: str) -> dict[str, bytes]:
    fs = fsspec.filesystem("memory")
    return {p: fs.cat_file(p) for p in fs.find(prefix)}


def _leaks(folder) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]


@pytest.fixture
def bucket(tmp_path):
    fs = fsspec.filesystem("memory")
    for i in range(4):
        path = write_rgb(tmp_path / f"p{i}.png", 40, seed=i)
        fs.pipe(f"{BUCKET}/imgs/p{i}.png", path.read_bytes())
    fs.pipe(f"{BUCKET}/imgs/broken.png", b"not a png")
    mask = np.zeros((32, 32), np.uint8)
    mask[4:20, 4:20] = 255
    fs.pipe(f"{BUCKET}/masks/m.png", cv2.imencode(".png", mask)[1].tobytes())
    yield BUCKET
    fs.rm(f"{BUCKET}/", recursive=True)


def test_jobs_record_no_secret_of_their_inputs(bucket, tmp_path):
    outputs = []
    for command in (["shard", f"{bucket}/imgs", "--size", "32", "--workers", "0", "--out", tmp_path / "shards"],
                    ["edges", "--canny", f"{bucket}/imgs", "--workers", "0", "--out", tmp_path / "edges"],
                    ["eval", "--images", f"{bucket}/imgs", "--masks", f"{bucket}/masks", "--baseline", "telea",
                     "--out", tmp_path / "eval"]):
        result = invoke(*command)
        assert result.exit_code == 0, result.output
        assert "broken.png" in result.output or command[0] == "edges"  # the skipped input is named ...
        assert SECRET not in result.output  # ... without the secret
        outputs.append(result.output)
    assert not _leaks(tmp_path), _leaks(tmp_path)
    # a re-run reads the redacted list back and finds the inputs with the secret given again
    result = invoke("shard", f"{bucket}/imgs", "--size", "32", "--workers", "0", "--out", tmp_path / "shards")
    assert result.exit_code == 0 and "0 written" in result.output and SECRET not in result.output
    (tmp_path / "shards" / ".images-000000.stats.json").unlink()
    result = invoke("shard", f"{bucket}/imgs", "--size", "32", "--workers", "0", "--out", tmp_path / "shards")
    assert result.exit_code == 0 and "1 written" in result.output, result.output
    assert not _leaks(tmp_path)


def test_errors_name_urls_without_their_secret(tmp_path):
    result = invoke("shard", f"{BUCKET}/nothing-here", "--out", tmp_path / "s")
    assert result.exit_code != 0 and "memory://bkt/nothing-here" in result.output
    assert SECRET not in result.output


def test_a_run_in_a_bucket_records_no_secret(bucket, tmp_path):
    shards = f"{bucket}/shards"
    assert invoke("shard", f"{bucket}/imgs", "--size", "32", "--workers", "0", "--out", shards).exit_code == 0
    run = f"{bucket}/run"
    result = invoke("train", "deepfillv2", "--data", shards, "--steps", "2", "--size", "32", "--batch-size", "2",
                    "--cnum", "4", "--dcnum", "4", "--num-val", "2", "--checkpoint-every", "1", "--workers", "0",
                    "--out", run)
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    files = _memory_files(f"{bucket}/run")
    names = {p.rsplit("/", 1)[-1] for p in files}
    assert "train_config.json" in names and any(n.startswith("step_") for n in names)
    assert not [p for p, data in files.items() if SECRET.encode() in data]
    import torch  # the checkpoints' recorded settings name the run's data without the secret

    step = next(data for p, data in files.items() if p.rsplit("/", 1)[-1].startswith("step_"))
    config = torch.load(io.BytesIO(step), weights_only=True)["config"]
    assert config["data"] == "memory://bkt/shards"
    result = invoke("train", "deepfillv2", "--data", shards, "--steps", "3", "--size", "32", "--batch-size", "2",
                    "--cnum", "4", "--dcnum", "4", "--num-val", "2", "--checkpoint-every", "1", "--workers", "0",
                    "--out", run)
    assert result.exit_code == 0, result.output  # resumes: the recorded settings match, secrets aside


def test_urls_inside_a_list_file_are_read_as_written(bucket, tmp_path):
    """The one documented exception: a `.txt` list's lines name files no input root can give
    their secrets back to, so its rows are kept as written (and read)."""
    listing = tmp_path / "inputs.txt"
    listing.write_text("".join(f"{bucket}/imgs/p{i}.png\n" for i in range(4)))
    result = invoke("shard", listing, "--size", "32", "--workers", "0", "--out", tmp_path / "shards")
    assert result.exit_code == 0 and "4 images" in result.output, result.output
    assert SECRET not in result.output
