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
