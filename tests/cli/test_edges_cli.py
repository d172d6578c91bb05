from click.testing import CliRunner

from inpaint_data.cli.main import main


def _run(*args):
    return CliRunner().invoke(main, list(args))


def test_edges_arguments_fail_clearly(tmp_path):
    out = str(tmp_path / "o")
    bf16 = _run("edges", "--hed", str(tmp_path), "--precision", "bf16", "--out", out)
    assert bf16.exit_code == 2 and "needs CUDA" in bf16.output
    missing = _run("edges", "--canny", str(tmp_path / "none*.png"), "--out", out)
    assert missing.exit_code == 2 and "no image matches" in missing.output
    weights = _run("edges", "--hed", str(tmp_path), "--weights", str(tmp_path / "w.pt"), "--out", out)
    assert weights.exit_code == 2 and "weights fetch hed" in weights.output
    assert not (tmp_path / "o").exists()


def test_weights_fetch_reports_the_cache():
    result = _run("weights", "fetch", "hed")
    assert result.exit_code == 0 and "hed_bsds500.pt" in result.output
