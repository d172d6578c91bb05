import json
import re
from pathlib import Path

from click.testing import CliRunner

from inpaint_data.cli.main import main


def test_quick_demo_writes_a_report_with_every_image(ray_session, tmp_path):
    result = CliRunner().invoke(main, ["demo", "--quick", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    for stage in ("video masks", "free-form masks", "HED edges", "image shards", "train DeepFill v2",
                  "train PConv-UNet", "evaluation", "a model that learned", "inpainting", "report"):
        assert f"] {stage}:" in result.output
    html = (tmp_path / "demo" / "report.html").read_text()
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert len(sources) == 13
    assert all((tmp_path / "demo" / s).stat().st_size > 1000 for s in sources)  # none missing or empty
    assert html.count("<table>") == 5 and "(0.5,0.6]" in html
    shipped = (tmp_path / "demo" / "eval_frames" / "deepfillv2_shipped" / "metrics.json").read_text()
    telea = (tmp_path / "demo" / "eval_frames" / "telea" / "metrics.json").read_text()
    assert 'deepfillv2_frames64.pt (deepfillv2)"' in shipped and '"filler": "baseline telea"' in telea

    def overall_l1(name):  # the shipped model learned: it beats Telea and the 150-step run (3.0 vs 4.2 and 5.8 %)
        rows = json.loads((tmp_path / "demo" / "eval_frames" / name / "metrics.json").read_text())["rows"]
        return next(r["l1"] for r in rows if r["bin"] == "all bins" and r["group"] == "all")

    assert overall_l1("deepfillv2_shipped") < overall_l1("telea") < overall_l1("deepfillv2_150_steps")
    assert Path(tmp_path / "demo" / "deepfillv2.pt").exists()
