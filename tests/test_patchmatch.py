"""`--baseline patchmatch`: PatchMatch (Barnes et al. 2009) by the pypatchmatch package, the
classical baseline of the DeepFill papers, beside OpenCV's diffusion fills."""

import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from inpaint_data.cli.main import main
from inpaint_data.inference import baseline_fill

pytest.importorskip("patchmatch")


def _stripes() -> tuple[np.ndarray, np.ndarray]:
    """Diagonal colour stripes (period 8 px) with a 24 x 24 hole: texture that diffusion blurs."""
    y, x = np.mgrid[:64, :64]
    phase = ((x + y) // 4) % 2
    image = np.where(phase[..., None] == 1, np.array([200, 60, 30]), np.array([20, 90, 220])).astype(np.uint8)
    hole = np.zeros((64, 64), bool)
    hole[20:44, 20:44] = True
    return image, hole


def test_patchmatch_continues_a_texture_that_diffusion_blurs():
    image, hole = _stripes()
    patchmatch, telea = baseline_fill(image, hole, "patchmatch"), baseline_fill(image, hole, "telea")
    assert np.array_equal(patchmatch[~hole], image[~hole])
    error = {name: np.abs(fill.astype(int) - image)[hole].mean() for name, fill in
             (("patchmatch", patchmatch), ("telea", telea))}
    assert error["patchmatch"] < error["telea"] / 2, error


def test_patchmatch_is_the_same_for_the_same_image_and_hole():
    image, hole = _stripes()
    noisy = (image.astype(int) + np.random.default_rng(0).integers(-20, 20, image.shape)).clip(0, 255).astype(np.uint8)
    first = baseline_fill(noisy, hole, "patchmatch")
    baseline_fill(noisy[::-1].copy(), hole, "patchmatch")  # another fill between: each starts from one seed
    assert np.array_equal(baseline_fill(noisy, hole, "patchmatch"), first)


def test_eval_runs_the_patchmatch_baseline(tmp_path):
    import cv2

    image, hole = _stripes()
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    cv2.imwrite(str(tmp_path / "images" / "stripes.png"), image)
    cv2.imwrite(str(tmp_path / "masks" / "m.png"), hole.astype(np.uint8) * 255)
    result = CliRunner().invoke(main, ["eval", "--images", str(tmp_path / "images"), "--masks", str(tmp_path / "masks"),
                                       "--baseline", "patchmatch", "--out", str(tmp_path / "ev")])
    assert result.exit_code == 0 and "baseline patchmatch" in result.output, result.output


def test_without_the_package_the_baseline_is_one_line():
    script = ("import sys; sys.modules['patchmatch'] = None\n"
              "from click.testing import CliRunner\nfrom inpaint_data.cli.main import main\n"
              "r = CliRunner().invoke(main, ['inpaint', sys.argv[1], '--mask', sys.argv[2], '--baseline', 'patchmatch',"
              " '--out', sys.argv[3]])\nprint(r.exit_code); print(r.output)")
    import tempfile
    from pathlib import Path

    import cv2

    with tempfile.TemporaryDirectory() as folder:
        image, hole = _stripes()
        cv2.imwrite(f"{folder}/a.png", image)
        cv2.imwrite(f"{folder}/m.png", hole.astype(np.uint8) * 255)
        done = subprocess.run([sys.executable, "-c", script, f"{folder}/a.png", f"{folder}/m.png", f"{folder}/out"],
                              capture_output=True, text=True, timeout=120)
        assert not Path(f"{folder}/out/a.png").exists()
    code, *output = done.stdout.splitlines()
    assert code != "0" and "Traceback" not in done.stdout
    assert [line for line in output if line.startswith("Error:")] == [
        'Error: baseline patchmatch needs the pypatchmatch package: pip install "inpaint-data[patchmatch]"']
