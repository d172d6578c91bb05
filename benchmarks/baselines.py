"""The classical baselines on one protocol: Telea, Navier-Stokes (OpenCV) and PatchMatch
(pypatchmatch, 7 x 7 patches) on five scikit-image photos x 120 NVIDIA-balanced `deepfill` masks
at 256 (`eval`, one process, one thread). Prints JSON: per baseline the seconds and, per NVIDIA
bin, L1 (%), hole L1 (mmagic's, x100) and PSNR.

    python benchmarks/baselines.py [--masks 120] [--baselines telea,navier-stokes,patchmatch]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import cv2
from skimage import data

from inpaint_data.pipelines.evaluation.evaluate import EvalSpec
from inpaint_data.pipelines.evaluation.run import run_evaluation
from inpaint_data.pipelines.jobs.job import JobOptions
from inpaint_data.pipelines.jobs.masks_synth import FreeFormSpec, run_free_form_masks
from inpaint_data.pipelines.options import RunOptions

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--masks", type=int, default=120)
    parser.add_argument("--baselines", default="telea,navier-stokes,patchmatch")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "images").mkdir()
        for name in PHOTOS:
            cv2.imwrite(str(root / "images" / f"{name}.png"), cv2.cvtColor(getattr(data, name)(), cv2.COLOR_RGB2BGR))
        run_free_form_masks(root / "masks", FreeFormSpec(style="deepfill", height=256, width=256, seed=0,
                                                         balance="nvidia", dilate=True),
                            count=args.masks, options=JobOptions(fmt="webdataset", workers=0))
        results = {}
        for baseline in args.baselines.split(","):
            started = time.perf_counter()
            report = run_evaluation(str(root / "images"), str(root / "masks"), root / baseline,
                                    EvalSpec(baseline=baseline), RunOptions(workers=0))
            seconds = time.perf_counter() - started
            results[baseline] = {
                "seconds": round(seconds, 2), "ms_per_pair": round(1000 * seconds / report.cases, 1),
                "bins": {r["bin"]: {"l1": round(r["l1"], 2), "l1_hole": round(r["l1_hole"], 2),
                                    "psnr": round(r["psnr"], 2)} for r in report.rows if r["group"] == "all"}}
    print(json.dumps({"pairs": report.cases, "size": 256, "photos": PHOTOS, "baselines": results}, indent=2))


if __name__ == "__main__":
    main()
