"""Item 1: no code runs from a .pt we load; what we save loads with weights_only."""

from pathlib import Path

import numpy as np
import pytest
import torch
from safety_helpers import assert_one_line_error, crafted_pt, invoke, write_rgb

from inpaint_data.models.files import UnsafeFileError, check_plain, load_pt, save_pt
from inpaint_data.pipelines.jobs.job import JobOptions
from inpaint_data.pipelines.jobs.shard import ShardSpec, run_shard_images


@pytest.fixture(scope="module")
def shards(ray_session, tmp_path_factory):
    root = tmp_path_factory.mktemp("pickles")
    (root / "images").mkdir()
    for i in range(3):
        write_rgb(root / "images" / f"im{i}.png", 64, seed=i)
    run_shard_images(root / "shards", [str(root / "images")], ShardSpec(size=32), options=JobOptions(shard_size=2))
    return root


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "pwned"
    assert not path.exists()
    yield path
    assert not path.exists(), "code in a crafted .pt ran"


def test_load_pt_refuses_a_crafted_pickle(tmp_path, marker):
    evil = crafted_pt(tmp_path / "evil.pt", marker)
    with pytest.raises(UnsafeFileError, match="evil.pt refused"):
        load_pt(evil)


def test_inpaint_and_eval_refuse_a_crafted_model(shards, tmp_path, marker):
    evil = crafted_pt(tmp_path / "evil.pt", marker)
    write_rgb(tmp_path / "hole.png", 32)
    result = invoke("inpaint", shards / "images", "--mask", tmp_path / "hole.png", "--model", evil,
                    "--out", tmp_path / "filled")
    assert_one_line_error(result, "evil.pt", "refused")
    assert not (tmp_path / "filled").exists()
    (tmp_path / "masks").mkdir()
    write_rgb(tmp_path / "masks" / "m.png", 32)
    result = invoke("eval", "--images", shards / "images", "--masks", tmp_path / "masks", "--model", evil,
                    "--out", tmp_path / "eval")
    assert_one_line_error(result, "evil.pt", "refused")
    assert not (tmp_path / "eval").exists()


def test_export_refuses_a_planted_best_pt(tmp_path, marker):
    run = tmp_path / "run"
    run.mkdir()
    crafted_pt(run / "best.pt", marker, val_l1=0.1)
    result = invoke("export", run, "--out", tmp_path / "model.pt")
    assert_one_line_error(result, "best.pt", "refused")
    assert not (tmp_path / "model.pt").exists()


def test_train_init_refuses_a_crafted_file_before_writing(shards, tmp_path, marker):
    evil = crafted_pt(tmp_path / "evil.pt", marker)
    result = invoke("train", "pconv", "--data", shards / "shards", "--init", evil, "--steps", "1", "--size", "32",
                    "--batch-size", "1", "--workers", "0", "--out", tmp_path / "run")
    assert_one_line_error(result, "evil.pt", "refused")
    assert not (tmp_path / "run").exists()


def test_a_checkpoint_planted_in_a_run_folder_is_refused_on_resume(shards, tmp_path, marker):
    run = tmp_path / "run"
    args = ["train", "pconv", "--data", shards / "shards", "--size", "32", "--batch-size", "1", "--width", "8",
            "--layers", "2", "--random-vgg", "--workers", "0", "--num-val", "1", "--out", run]
    assert invoke(*args, "--steps", "1").exit_code == 0
    assert (run / "local_checkpoints" / "step_00000001.pt").exists()
    crafted_pt(run / "local_checkpoints" / "step_99999999.pt", marker, step=99999999)
    result = invoke(*args, "--steps", "2")
    assert_one_line_error(result, "step_99999999.pt", "refused")


def test_what_we_save_is_plain_and_loads_back(tmp_path):
    state = {"step": 3, "betas": (0.5, 0.999), "rng": [torch.get_rng_state()], "w": {"a.weight": torch.ones(2)},
             "note": None, "flag": True}
    loaded = load_pt(save_pt(state, tmp_path / "state.pt"))
    assert loaded["step"] == 3 and loaded["betas"] == (0.5, 0.999)
    assert torch.equal(loaded["w"]["a.weight"], torch.ones(2))
    for bad in ({"x": np.zeros(2)}, {"out": Path("/tmp")}, [object()]):
        with pytest.raises(TypeError, match="not plain data"):
            check_plain(bad)
    assert not list(tmp_path.glob(".*tmp*"))
