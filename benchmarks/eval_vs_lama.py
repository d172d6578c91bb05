"""`eval` against LaMa's own evaluation script on the same pairs: its bin/evaluate_predicts.py
(SSIM, LPIPS-VGG, FID, the papers' numbers come from it) and our evaluation pipeline, both
scoring one folder of saved predictions, with the same metric weights and threads. Prints the
seconds of each side, their ratio, and both sides' SSIM, LPIPS and FID over all pairs.

The set: --pairs crops of scikit-image's photos at 256 px, a mask each (our `lama-medium-256`
style at 256), and a prediction each (OpenCV's Telea fill, composited), laid out as LaMa's script
reads them (`NAME.png`, `NAME_mask000.png`, predictions `NAME_mask000.png`) and as `eval
--predictions` reads them (LaMa's predict.py naming).

Weights: no hub is asked for anything, so the FID Inception and the VGG16 behind LPIPS are
untrained, the same file on both sides (put in a scratch TORCH_HOME, where LaMa's code looks
before downloading); LPIPS's heads are LaMa's own models/lpips_models/vgg.pth, on both sides.
The figures are then the two pipelines' costs and agreement, not Places2 numbers.

LaMa's script needs its checkout and a venv with its packages (`--peer-python`; see
benchmarks/peers.py for one) and runs as released, with a config of its own format
(device cpu, batch 8, PNG suffixes). Its evaluator reads the set once per metric.

Usage: python benchmarks/eval_vs_lama.py --lama PATH --peer-python PY [--pairs 300] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

#: Runs LaMa's script as released, with torchvision's detection meta kernels kept out (its CUDA
#: `_C` does not load on the CPU torch; the models are plain torch).
LAMA = """
import runpy, sys, types
sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
import torch, tqdm.auto  # evaluator.py calls tqdm.auto without importing it (old tqdm imported it)
torch.set_num_threads(int(sys.argv[1]))
sys.argv = ["bin/evaluate_predicts.py", *sys.argv[2:]]
runpy.run_path("bin/evaluate_predicts.py", run_name="__main__")
"""

#: Writes an untrained torchvision VGG16 file where LaMa's LPIPS looks for it (peer's venv).
VGG = """
import sys, types
sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
import torch, torchvision
torch.manual_seed(0)
torch.save(torchvision.models.vgg16(weights=None).state_dict(), sys.argv[1])
"""


def make_set(root: Path, pairs: int, size: int = 256) -> None:
    from skimage import data

    from inpaint_data.maskgen.styles import draw_mask

    photos = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket(), data.immunohistochemistry()]
    rng = np.random.default_rng(0)
    for folder in ("lama", "images", "masks", "predictions"):
        (root / folder).mkdir(parents=True)
    for i in range(pairs):
        photo = photos[i % len(photos)]
        h, w = photo.shape[:2]
        side = min(h, w) * (4 + i % 5) // 8
        y, x = (i * 37) % (h - side + 1), (i * 53) % (w - side + 1)
        image = cv2.cvtColor(cv2.resize(photo[y:y + side, x:x + side], (size, size), interpolation=cv2.INTER_AREA),
                             cv2.COLOR_RGB2BGR)
        hole = draw_mask("lama-medium-256", size, size, rng)[0]
        filled = cv2.inpaint(image, hole, 3, cv2.INPAINT_TELEA)
        name = f"img{i:05d}"
        for path, pixels in ((root / "lama" / f"{name}.png", image), (root / "lama" / f"{name}_mask000.png", hole),
                             (root / "images" / f"{name}.png", image), (root / "masks" / f"{name}_mask000.png", hole),
                             (root / "predictions" / f"{name}_mask000.png", filled)):
            cv2.imwrite(str(path), pixels)


def run_ours(root: Path, torch_home: Path, heads: Path, threads: int) -> tuple[float, dict]:
    """Our pipeline on the same files and weights: seconds, and SSIM / LPIPS-VGG / FID over all pairs."""
    import torch

    from inpaint_data.models.inception import FIDInceptionV3, load_state
    from inpaint_data.models.lpips import LPIPS, set_weights
    from inpaint_data.pipelines.evaluation.evaluate import EvalSpec, evaluate, spec_filler, summarise
    from inpaint_data.pipelines.evaluation.scoring import FeatureScorer

    torch.set_num_threads(threads)
    checkpoints = torch_home / "hub" / "checkpoints"
    started = time.perf_counter()
    inception = FIDInceptionV3()
    load_state(inception, torch.load(checkpoints / "pt_inception-2015-12-05-6726825d.pth"), "inception")
    lpips = LPIPS("vgg")
    set_weights(lpips, torch.load(checkpoints / "vgg16-397923af.pth"), torch.load(heads, map_location="cpu"))
    _, fill_batch, _ = spec_filler(EvalSpec(predictions=str(root / "predictions")))
    done = evaluate(str(root / "images"), str(root / "masks"), fill_batch=fill_batch,
                    scorer=FeatureScorer(inception, {"vgg": lpips}), batch_size=8, keep_worst_best=0)
    rows = summarise(done.cases, "nvidia", done.features())
    seconds = time.perf_counter() - started
    total = next(r for r in rows if r["bin"] == "all bins" and r["group"] == "all")
    return seconds, {"ssim": total["ssim"], "lpips": total["lpips_vgg"], "fid": total["fid"]}


def run_lama(root: Path, checkout: Path, python: str, torch_home: Path, threads: int) -> tuple[float, dict]:
    config = root / "lama_eval.yaml"
    config.write_text("evaluator_kwargs:\n  batch_size: 8\n  device: cpu\n"
                      "dataset_kwargs:\n  img_suffix: .png\n  inpainted_suffix: .png\n")
    out = root / "lama_metrics.tsv"
    env = {**os.environ, "TORCH_HOME": str(torch_home), "PYTHONPATH": str(checkout)}
    started = time.perf_counter()
    done = subprocess.run([python, "-c", LAMA, str(threads), str(config), str(root / "lama") + "/",
                           str(root / "predictions"), str(out)], cwd=checkout, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"LaMa's script failed:\n{done.stderr[-3000:]}")
    lines = [line.split("\t") for line in out.read_text().splitlines()]
    header = [f"{a}/{b}" for a, b in zip(lines[0], lines[1])]  # two header rows: metric, then statistic
    total = dict(zip(header, next(line for line in lines if line[0] == "total")))
    return seconds, {"ssim": float(total["ssim/mean"]), "lpips": float(total["lpips/mean"]),
                     "fid": float(total["fid/mean"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lama", required=True, type=Path, help="a checkout of advimman/lama")
    parser.add_argument("--peer-python", required=True, help="a venv's Python with LaMa's packages")
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    import torch

    from inpaint_data.models.inception import FIDInceptionV3

    with tempfile.TemporaryDirectory(prefix="eval-vs-lama-") as scratch:
        root = Path(scratch)
        make_set(root / "set", args.pairs)
        checkpoints = root / "torch" / "hub" / "checkpoints"
        checkpoints.mkdir(parents=True)
        torch.manual_seed(0)
        inception = FIDInceptionV3()
        for layer in inception.modules():  # He's initialisation: PyTorch's default fades to ~1e-8 by the pool
            if isinstance(layer, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(layer.weight)
        torch.save(inception.state_dict(), checkpoints / "pt_inception-2015-12-05-6726825d.pth")
        subprocess.run([args.peer_python, "-c", VGG, str(checkpoints / "vgg16-397923af.pth")], check=True)
        heads = args.lama.resolve() / "models" / "lpips_models" / "vgg.pth"
        lama_s, lama = run_lama(root / "set", args.lama.resolve(), args.peer_python, root / "torch", args.threads)
        ours_s, ours = run_ours(root / "set", root / "torch", heads, args.threads)
    print(json.dumps({"benchmark": "eval_vs_lama", "pairs": args.pairs, "size": 256, "threads": args.threads,
                      "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                      "ours_s": round(ours_s, 1), "lama_s": round(lama_s, 1),
                      "lama_over_ours": round(lama_s / ours_s, 2),
                      "ours": {k: round(v, 4) for k, v in ours.items()},
                      "lama": {k: round(v, 4) for k, v in lama.items()}}, indent=1))


if __name__ == "__main__":
    main()
