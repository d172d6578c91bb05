from collections import Counter

import cv2
import pytest
from click.testing import CliRunner

from inpaint_data.cli.main import main
from inpaint_data.datasets.readers import read_samples
from inpaint_data.maskgen.ratios import NVIDIA_BIN_LABELS


def _run(*args):
    return CliRunner().invoke(main, list(args))


def test_balance_nvidia_fills_every_bin_and_border_cell(ray_session, tmp_path):
    out = tmp_path / "bal"
    result = _run("masks", "--free-form", "--style", "deepfill", "--balance", "nvidia", "--count", "120",
                  "--size", "128", "--shard-size", "50", "--out", str(out), "--format", "parquet")
    assert result.exit_code == 0, result.output
    cells = Counter()
    for s in read_samples(out):
        label = NVIDIA_BIN_LABELS[s.meta["bin"]]
        assert label == s.meta["target_bin"]
        cells[label, s.meta["border"]] += 1
    assert set(cells.values()) == {10} and len(cells) == 12

    stats = _run("masks", "stats", str(out), "--sheet", "16")
    assert stats.exit_code == 0, stats.output
    for label in NVIDIA_BIN_LABELS:
        assert f"{label:<12}{20:>8}{'16.7%':>8}{10:>8}" in stats.output
    assert "nearest known pixel (LaMa's Dist 2known), px: mean" in stats.output
    sheet = cv2.imread(str(out / ".contact_sheet.png"), cv2.IMREAD_UNCHANGED)
    assert sheet.shape == (2 * 132 + 4, 8 * 132 + 4)
    assert cv2.imread(str(out / ".histogram.png")).shape[2] == 3


def test_hole_range_invert_and_mixed(ray_session, tmp_path):
    out = tmp_path / "inv"
    result = _run("masks", "--free-form", "--style", "mixed", "--mix", "deepfill:1,pconv-keras:1", "--count", "40",
                  "--size", "96x64", "--hole-range", "0.1:0.3", "--invert", "--out", str(out), "--format", "files")
    assert result.exit_code == 0, result.output
    samples = list(read_samples(out))
    assert len(samples) == 40
    assert {s.meta["component"] for s in samples} == {"deepfill", "pconv-keras"}
    for s in samples:
        assert s.mask.shape == (64, 96) and s.meta["hole_value"] == 0
        holes = (s.mask == 0).mean()  # inverted: 0 marks the holes
        assert 0.1 < holes <= 0.3 and holes == pytest.approx(s.meta["hole_ratio"])


def test_lama_presets_cannot_fill_the_top_bin_and_say_so_before_writing(tmp_path):
    result = _run("masks", "--free-form", "--style", "lama-thin-256", "--balance", "nvidia", "--count", "12",
                  "--size", "256", "--out", str(tmp_path / "x"))
    assert result.exit_code == 2 and "allows at most 0.5" in result.output
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    "args,message",
    [
        (["--style", "mixed"], "--mix"),
        (["--style", "box", "--mix", "box:1"], "--mix"),
        (["--style", "mixed", "--mix", "nope:1"], "unknown style"),
        (["--balance", "nvidia", "--hole-range", "0.1:0.2"], "not both"),
        (["--hole-range", "0.5:0.1"], "low end is above"),
        (["--style", "box", "--hole-range", "0.5:0.6"], "no mask with hole ratio"),
    ],
)
def test_bad_free_form_arguments(tmp_path, args, message):
    result = _run("masks", "--free-form", "--size", "64", "--out", str(tmp_path / "o"), *args)
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "o").exists()


def test_stats_of_a_folder_without_masks_is_an_error(tmp_path):
    result = _run("masks", "stats", str(tmp_path))
    assert result.exit_code == 2 and "no shards" in result.output
