"""Item 4: a job's identity covers its inputs, so a re-run over a changed input is refused."""

from safety_helpers import assert_one_line_error, invoke, write_rgb

from inpaint_data.datasets.readers import iter_records


def test_edges_rerun_after_inputs_were_added_is_refused(ray_session, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in (1, 2):
        write_rgb(folder / f"x{i}.png", 32, seed=i)
    args = ("edges", "--canny", folder, "--shard-size", "1", "--out", tmp_path / "edges")
    assert invoke(*args).exit_code == 0
    assert invoke(*args).exit_code == 0  # the same inputs: resumes (nothing to do)
    write_rgb(folder / "x0.png", 32, seed=0)  # sorts first: every later shard would shift
    result = invoke(*args)
    assert_one_line_error(result, "differs in: inputs", "inputs changed")
    assert [k for k, _ in iter_records(tmp_path / "edges")] == ["x1", "x2"]


def test_shard_rerun_after_an_input_was_renamed_is_refused(ray_session, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_rgb(folder / "a.png", 32)
    args = ("shard", folder, "--size", "32", "--out", tmp_path / "shards")
    assert invoke(*args).exit_code == 0
    (folder / "a.png").rename(folder / "b.png")
    assert_one_line_error(invoke(*args), "differs in: inputs")
