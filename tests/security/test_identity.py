"""Item 4: a job's identity covers its inputs. A re-run reads the file list the first run wrote
(its inputs cannot drift under a resumed job) and says so; `--relist` lists them again, and a
re-run over changed inputs is then refused."""

from safety_helpers import assert_one_line_error, invoke, write_rgb

from inpaint_data.datasets.readers import iter_records


def test_edges_rerun_after_inputs_were_added_reads_its_list_and_relist_is_refused(ray_session, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in (1, 2):
        write_rgb(folder / f"x{i}.png", 32, seed=i)
    args = ("edges", "--canny", folder, "--shard-size", "1", "--out", tmp_path / "edges")
    assert invoke(*args).exit_code == 0
    write_rgb(folder / "x0.png", 32, seed=0)  # sorts first: every later shard would shift
    again = invoke(*args)
    assert again.exit_code == 0 and "2 edge maps in 2 shards" in again.output
    assert "the list of the first run" in again.output and "--relist" in again.output
    assert_one_line_error(invoke(*args, "--relist"), "differs in: inputs", "inputs changed")
    assert [k for k, _ in iter_records(tmp_path / "edges")] == ["x1", "x2"]


def test_shard_rerun_after_an_input_was_renamed_with_relist_is_refused(ray_session, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_rgb(folder / "a.png", 32)
    args = ("shard", folder, "--size", "32", "--out", tmp_path / "shards")
    assert invoke(*args).exit_code == 0
    (folder / "a.png").rename(folder / "b.png")
    assert invoke(*args).exit_code == 0  # nothing left to do over the listed inputs
    assert_one_line_error(invoke(*args, "--relist"), "differs in: inputs")
