"""`inpaint --hd` on images far larger than the model's training size: original, crop and resize
(IOPaint's strategies, inpaint_data/highres.py) against Telea, by hole L1 and time.

The model is the shipped demo DeepFill v2 (inpaint_data/weights/deepfillv2_frames64.pt, trained
at 64 px on three sample videos: a small model far from these photos, so the figures compare
strategies, not models). Images: scikit-image's photos resized to 512 px short side and
centre-cropped to 512 x 512; holes: two thick random strokes and a box per image (seeded), about
6 % of the image. The strategies' constants scale with the training size (64 px: crop above
200 px with a 32 px margin, resize to 320 px). One torch thread.

Writes OUT/highres.jpg (input | original | crop | resize for the first photo; the README's
picture is docs/highres_strategies.jpg) and prints JSON.
Usage: python benchmarks/highres.py [--out highres/]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from inpaint_data.datasets.images import write_image
from inpaint_data.highres import HighResPolicy, fill_high_res
from inpaint_data.inference import ModelFiller, baseline_fill, composite_uint8, without_hole
from inpaint_data.report import image_grid

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "brick", "grass", "gravel", "camera")
MODEL = Path(__file__).parents[1] / "inpaint_data" / "weights" / "deepfillv2_frames64.pt"
SIZE, TRAIN_SIZE = 512, 64


def photo(name: str) -> np.ndarray:
    from skimage import data

    image = getattr(data, name)()
    image = np.dstack([image] * 3) if image.ndim == 2 else image[..., :3]
    h, w = image.shape[:2]
    scale = SIZE / min(h, w)
    image = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    top, left = (image.shape[0] - SIZE) // 2, (image.shape[1] - SIZE) // 2
    return np.ascontiguousarray(image[top:top + SIZE, left:left + SIZE])


def holes(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    for _ in range(2):
        points = rng.integers(40, SIZE - 40, (4, 2))
        cv2.polylines(mask, [points.reshape(-1, 1, 2).astype(np.int32)], False, 255, int(rng.integers(14, 24)))
    y, x = rng.integers(40, SIZE - 120, 2)
    mask[y:y + 50, x:x + 70] = 255
    return mask > 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("highres"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    model = ModelFiller(MODEL)
    fillers = {"telea": lambda image, hole, sketch=None: baseline_fill(image, hole, "telea")}
    fillers |= {s: s for s in ("original", "crop", "resize")}
    errors = {name: [] for name in fillers}
    seconds = {name: 0.0 for name in fillers}
    shown = None
    for k, name in enumerate(PHOTOS):
        image, hole = photo(name), holes(k)
        row = [np.where(hole[..., None], 255, image).astype(np.uint8)]
        for filler, how in fillers.items():
            started = time.perf_counter()
            if callable(how):
                filled = how(without_hole(image, hole), hole)
            else:
                filled, _ = fill_high_res(model.fill, without_hole(image, hole), hole, None,
                                          HighResPolicy(how, TRAIN_SIZE))
            seconds[filler] += time.perf_counter() - started
            filled = composite_uint8(filled, image, hole)
            diff = np.abs(filled.astype(np.float32) - image.astype(np.float32))[hole]
            errors[filler].append(float(diff.mean() / 255 * 100))
            if filler != "telea":
                row.append(filled)
        if shown is None:
            shown = row
    write_image(args.out / "highres.jpg", image_grid([shown]))
    report = {"benchmark": "highres", "machine": platform.machine(), "images": len(PHOTOS), "size": SIZE,
              "train_size": TRAIN_SIZE, "hole_share": round(float(np.mean([holes(k).mean() for k in range(8)])), 3),
              "hole_l1_percent": {f: round(float(np.mean(v)), 2) for f, v in errors.items()},
              "seconds_per_image": {f: round(s / len(PHOTOS), 3) for f, s in seconds.items()}}
    (args.out / "highres.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
