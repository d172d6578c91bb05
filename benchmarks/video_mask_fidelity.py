"""Raw video masks against exact ground truth: a textured object translating over a textured
background (`maskgen.synthetic_motion.MovingSquare`, 320x240) by 3-12 px a frame, horizontally and
diagonally. For each flow and each direction rule: recall of the true occluded and dis-occluded
strips, precision within 4 px of those strips or of the object's outline, hole pixels within 2 px
of the (still) frame border, and the flow's cost per pair on one core. Prints JSON.

Usage: python benchmarks/video_mask_fidelity.py [--flows dis:fast,dis:medium,dis:fine,farneback,deepflow]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import cv2
import numpy as np

from inpaint_data.maskgen.synthetic_motion import MovingSquare, mask_fidelity
from inpaint_data.maskgen.video import FlowEstimator, OcclusionParams, occlusion_mask
from inpaint_data.pipelines.jobs.masks_video import VideoMaskSpec

MOTIONS = [(3, 0), (6, 0), (12, 0), (3, 3), (6, -6), (9, 6), (12, 12), (-8, 4)]


def border_holes(mask: np.ndarray, px: int = 2) -> int:
    ring = np.ones(mask.shape, bool)
    ring[px:-px, px:-px] = False
    return int(np.count_nonzero(mask[ring]))


def measure(name: str) -> list[dict]:
    method, _, preset = name.partition(":")
    flow = FlowEstimator(method, preset or "medium")
    rules = {"job (both, footprint)": VideoMaskSpec().occlusion,
             "forward only": OcclusionParams(off_frame=False, in_frame="footprint", directions="forward"),
             "Ruder's in-frame rule": OcclusionParams(off_frame=True)}
    found = {rule: [] for rule in rules}
    seconds = 0.0
    for dx, dy in MOTIONS:
        video = MovingSquare(dx=dx, dy=dy, x0=90, y0=60)
        a, b = video.gray(0), video.gray(1)
        started = time.perf_counter()
        fwd, bwd = flow(a, b), flow(b, a)
        seconds += time.perf_counter() - started
        for rule, params in rules.items():
            mask = occlusion_mask(fwd, bwd, params)
            found[rule].append(mask_fidelity(mask, video) | {"border_holes": border_holes(mask)})
    rows = []
    for rule, results in found.items():
        recall = [r["recall"] for r in results]
        precision = [r["precision"] for r in results]
        rows.append({"flow": name, "rule": rule, "flow_ms_per_pair": round(seconds / len(MOTIONS) * 1000, 1),
                     "recall_mean": round(float(np.mean(recall)), 3), "recall_min": round(min(recall), 3),
                     "precision_mean": round(float(np.mean(precision)), 3), "precision_min": round(min(precision), 3),
                     "border_holes_max": max(r["border_holes"] for r in results),
                     "per_motion": {f"{dx},{dy}": [round(r["recall"], 3), round(r["precision"], 3)]
                                    for (dx, dy), r in zip(MOTIONS, results)}})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--flows", default="dis:fast,dis:medium,dis:fine,farneback,deepflow")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    rows = [row for name in args.flows.split(",") for row in measure(name)]
    print(json.dumps({"benchmark": "video_mask_fidelity", "motions": MOTIONS, "within_px": 4, "cores": 1,
                      "machine": f"{platform.machine()}, {os.cpu_count()} cores", "results": rows}, indent=2))


if __name__ == "__main__":
    main()
