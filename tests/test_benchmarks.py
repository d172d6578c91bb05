"""benchmarks/run_all.py --quick: every benchmark README's figures come from still runs, and the
README block is rewritten from the JSON, the text around it untouched (the figures themselves are
not checked: toy sizes, and timing is not a test)."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.slow
def test_every_benchmark_runs_at_toy_sizes_and_fills_readmes_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("before\n<!-- benchmarks:begin -->\nstale figures\n<!-- benchmarks:end -->\nafter\n")
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--quick", "--out",
                           str(tmp_path / "b.json"), "--readme", str(readme)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "b.json").read_text())
    assert results["quick"] and results["machine"]["cores"] >= 1 and len(results["load_before"]) == 3
    scripts = {p.name for p in (ROOT / "benchmarks").glob("*.py")}
    assert {r["script"] for r in results["benchmarks"].values()} <= scripts
    assert len(results["benchmarks"]) >= 9
    for name, r in results["benchmarks"].items():
        assert r["figures"], name
        for label, figure in r["figures"].items():
            values = figure["median"] if isinstance(figure["median"], list) else [figure["median"]]
            assert all(isinstance(v, (int, float)) and math.isfinite(v) for v in values), (name, label)
    text = readme.read_text()
    assert text.startswith("before\n<!-- benchmarks:begin -->") and text.endswith("<!-- benchmarks:end -->\nafter\n")
    assert "stale figures" not in text and "**`masks_write.py`**" in text and "| figure |" in text
    again = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--render",
                            str(tmp_path / "b.json"), "--readme", str(readme)],
                           capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert again.returncode == 0 and readme.read_text() == text  # rendering the same JSON changes nothing


@pytest.mark.slow
def test_the_gpu_check_runs_every_section_on_a_cpu_at_tiny_sizes(tmp_path):
    """benchmarks/gpu_check.py --tiny: the three models' training steps in fp32, two
    DDP workers through `train` on Ray, eval with FID and LPIPS, HED; one JSON file, no errors."""
    out = tmp_path / "check.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--tiny", "--out", str(out)],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert json.loads(done.stdout) == report and report["tiny"] and report["gpus"] == []
    assert [(r["model"], r["precision"]) for r in report["train"]] == [
        (m, p) for m in ("pconv", "deepfillv2", "lama") for p in ("fp32",)]
    for row in report["train"] + report["ddp"]:
        assert "error" not in row, row
        assert row["steps_per_s"] > 0 and row["images_per_s"] > 0
    assert [r["model"] for r in report["ddp"]] == ["pconv", "deepfillv2", "lama"]
    assert all(r["workers"] == 2 for r in report["ddp"])
    assert report["eval"]["scored"] == 8 and report["eval"]["pairs_per_s"] > 0
    assert report["hed"][0]["images_per_s"] > 0
    assert not list(tmp_path.glob(".*partial"))
