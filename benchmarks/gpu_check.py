"""One command for a machine with GPUs, in under 8 minutes: what a user asks before training there.

- train: steps/s and peak GPU memory of each model's real training step (models/registry.py's
  train_step: generator and discriminator, their losses and optimiser steps) at 256 px, batch 16,
  in fp32, bf16 and fp16, on one GPU, on batches already on the device (the model's cost alone);
- ddp: where there are two GPUs or more, the same through `train` itself (Ray Train, two DDP
  workers of one GPU each, data read from shards made here from scikit-image's photos);
- eval: pairs/s of `eval`'s pipeline with FID's Inception and LPIPS (AlexNet and VGG) on the GPU,
  filling with the shipped DeepFill v2;
- hed: images/s of HED at 512 x 512, fp32 and bf16.

The metric and perceptual networks are untrained unless their files are given: their cost does
not depend on their weights, and no hub is asked for anything. Writes JSON (--out) and prints it.

`--tiny` runs every section on the CPU at 64 px, batch 2, narrow models, fp32 (bf16 autocast on
this CPU takes seconds a step), and the two-worker section on two CPU workers: what the test runs
(tests/test_benchmarks.py).

Usage:
    python benchmarks/gpu_check.py [--out gpu_check.json]      # a GPU machine
    python benchmarks/gpu_check.py --tiny [--out tiny.json]    # anywhere
On a Ray cluster with GPU nodes, run it on the head node with RAY_ADDRESS=auto: the ddp section's
workers are placed by Ray on the cluster's GPUs (README, "Check a GPU machine").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch

MODELS = ("pconv", "deepfillv2", "lama")


@dataclass(frozen=True)
class Scale:
    """Sizes of one run of the check: the real one on GPUs, or --tiny on a CPU."""

    size: int
    batch: int
    precisions: tuple[str, ...]
    seconds: float  # timed steps last at least this long (and 3 steps)
    widths: dict  # model -> its own settings (narrow models for --tiny)
    eval_pairs: int
    eval_size: int
    hed_size: int
    hed_images: int
    ddp_steps: int


GPU = Scale(256, 16, ("fp32", "bf16", "fp16"), 6.0, {m: {} for m in MODELS}, 512, 256, 512, 64, 30)
TINY = Scale(64, 2, ("fp32",), 0.5,
             {"pconv": {"width": 8, "layers": 4}, "deepfillv2": {"cnum": 8, "dcnum": 8},
              "lama": {"blocks": 1, "ngf": 8, "ndf": 8}}, 8, 64, 64, 2, 6)
UNTRAINED = {"pconv": {"random_vgg": True}, "deepfillv2": {}, "lama": {"random_perceptual": True}}


def _peak_reset(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)


def _peak_mib(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    torch.cuda.synchronize(device)
    return round(torch.cuda.max_memory_allocated(device) / 2**20, 1)


def _timed(step, device: torch.device, seconds: float) -> tuple[float, int]:
    """Calls of `step` per second over at least `seconds` and 3 calls, after 2 untimed ones."""
    for _ in range(2):
        step()
    _peak_reset(device)
    calls, started = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - started < seconds:
        step()
        calls += 1
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    return calls / (time.perf_counter() - started), calls


def train_config(model: str, scale: Scale, precision: str, device: torch.device, **more):
    from inpaint_data.pipelines.training.config import TrainConfig

    return TrainConfig.of(model=model, size=scale.size, batch_size=scale.batch, precision=precision,
                          gpus_per_worker=1 if device.type == "cuda" else 0, **scale.widths[model],
                          **UNTRAINED[model], **more)


def train_rows(scale: Scale, device: torch.device) -> list[dict]:
    """Each model's training step on one device, batches already there."""
    from inpaint_data.models.registry import build_trainee, model_entry

    rows = []
    for model in MODELS:
        for precision in scale.precisions:
            row = {"model": model, "size": scale.size, "batch": scale.batch, "precision": precision}
            try:
                cfg = train_config(model, scale, precision, device, data="-", out="-", steps=1).resolved()
                torch.manual_seed(0)
                trainee = build_trainee(cfg.as_dict(), device)
                image = torch.rand(scale.batch, 3, scale.size, scale.size, device=device) * 2 - 1
                mask = torch.zeros(scale.batch, 1, scale.size, scale.size, device=device)
                mask[..., scale.size // 4: 3 * scale.size // 4, scale.size // 8: 5 * scale.size // 8] = 1
                batch = {"image": image, "mask": mask}
                step = model_entry(model).train_step
                rate, calls = _timed(partial(step, trainee, batch, device), device, scale.seconds)
                row.update(steps_per_s=round(rate, 3), images_per_s=round(rate * scale.batch, 2), steps=calls,
                           skipped_steps=trainee.skipped, peak_gpu_mib=_peak_mib(device))
            except (RuntimeError, ValueError) as e:  # e.g. a precision this device lacks
                row["error"] = str(e).splitlines()[0][:300]
            rows.append(row)
    return rows


def _sample_photos(folder: Path, count: int, size: int) -> None:
    """`count` crops of scikit-image's photos (the package ships them), `size` px."""
    import cv2
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    photos = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket(), data.immunohistochemistry()]
    for i in range(count):
        photo = photos[i % len(photos)]
        h, w = photo.shape[:2]
        side = min(h, w) * (4 + i % 5) // 8
        y, x = (i * 37) % (h - side + 1), (i * 53) % (w - side + 1)
        crop = cv2.resize(photo[y:y + side, x:x + side], (size, size), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(folder / f"photo{i:04d}.png"), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))


def ddp_rows(scale: Scale, device: torch.device, work: Path) -> list[dict]:
    """`train` with two DDP workers on Ray Train (one GPU each; CPUs for --tiny): steps/s between
    the end of the second step and the step before the last (start-up and validation left out)."""
    from inpaint_data.pipelines.jobs.job import JobOptions
    from inpaint_data.pipelines.jobs.shard import ShardSpec, run_shard_images
    from inpaint_data.pipelines.options import RunOptions
    from inpaint_data.pipelines.training.run import run_training

    _sample_photos(work / "photos", 4 * scale.batch, scale.size)
    run_shard_images(work / "shards", [str(work / "photos")], ShardSpec(size=scale.size),
                     options=JobOptions(shard_size=scale.batch, workers=0))
    precision = "bf16" if device.type == "cuda" else "fp32"
    rows = []
    for model in MODELS:
        out = work / f"ddp-{model}"
        cfg = train_config(model, scale, precision, device, data=str(work / "shards"), out=str(out),
                           steps=scale.ddp_steps, workers=2, log_every=1, val_every=scale.ddp_steps,
                           sample_every=scale.ddp_steps, checkpoint_every=scale.ddp_steps, num_val=2,
                           loader_workers=2 if device.type == "cuda" else 0)
        row = {"model": model, "workers": 2, "size": scale.size, "batch_per_worker": scale.batch,
               "precision": precision}
        try:
            run_training(cfg, RunOptions())
            lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
            timed = {line["step"]: line["steps_per_s"] for line in lines if "steps_per_s" in line}
            first, last = 2, scale.ddp_steps - 1
            spent = last / timed[last] - first / timed[first]
            rate = (last - first) / spent
            row.update(steps_per_s=round(rate, 3), images_per_s=round(rate * 2 * scale.batch, 2))
        except Exception as e:  # noqa: BLE001 - a failed section is reported, the others still run
            row["error"] = str(e).splitlines()[0][:300] if str(e) else type(e).__name__
        rows.append(row)
    return rows


def eval_row(scale: Scale, device: torch.device, work: Path, inception: str | None,
             lpips: dict[str, str]) -> dict:
    """`eval`'s pipeline (read, fill with the shipped DeepFill v2, composite, score) on the device."""
    from inpaint_data.models.inception import FIDInceptionV3, load_fid_inception
    from inpaint_data.models.lpips import LPIPS, load_lpips
    from inpaint_data.pipelines.demo import SHIPPED_DEEPFILL
    from inpaint_data.pipelines.evaluation.evaluate import EvalSpec, evaluate, spec_filler
    from inpaint_data.pipelines.evaluation.scoring import FeatureScorer

    _sample_photos(work / "eval-images", scale.eval_pairs, scale.eval_size)
    masks = work / "eval-masks"
    masks.mkdir()
    import cv2

    rng = np.random.default_rng(0)
    for i in range(min(16, scale.eval_pairs)):
        mask = np.zeros((scale.eval_size, scale.eval_size), np.uint8)
        for _ in range(1 + i % 4):
            y, x = rng.integers(0, scale.eval_size * 3 // 4, 2)
            mask[y:y + scale.eval_size // 4, x:x + scale.eval_size // 3] = 255
        cv2.imwrite(str(masks / f"m{i:02d}.png"), mask)
    torch.manual_seed(0)
    networks = (load_fid_inception(inception) if inception else FIDInceptionV3(),
                {net: load_lpips(net, lpips[net]) if net in lpips else LPIPS(net) for net in ("alex", "vgg")})
    scorer = FeatureScorer(networks[0].eval(), {k: v.eval() for k, v in networks[1].items()}, str(device))
    _, fill_batch, _ = spec_filler(EvalSpec(model=str(SHIPPED_DEEPFILL), device=str(device)))
    row = {"pairs": scale.eval_pairs, "size": scale.eval_size, "metrics": "psnr, ssim, l1, fid, lpips alex+vgg",
           "weights": "given" if inception or lpips else "untrained (timing only)"}
    _peak_reset(device)
    started = time.perf_counter()
    done = evaluate(str(work / "eval-images"), str(masks), fill_batch=fill_batch, scorer=scorer,
                    batch_size=scale.batch)
    row.update(pairs_per_s=round(len(done.cases) / (time.perf_counter() - started), 2), scored=len(done.cases),
               peak_gpu_mib=_peak_mib(device))
    return row


def hed_rows(scale: Scale, device: torch.device) -> list[dict]:
    from inpaint_data.models.hed import detect_edges
    from inpaint_data.models.hed_weights import load_hed

    model = load_hed(random_weights=True)
    images = [np.random.default_rng(i).integers(0, 256, (scale.hed_size, scale.hed_size, 3), np.uint8)
              for i in range(scale.hed_images)]
    rows = []
    for precision in ("fp32", "bf16") if device.type == "cuda" else ("fp32",):
        edges = partial(detect_edges, model, images, batch_size=8, device=device, precision=precision)
        rate, _ = _timed(edges, device, scale.seconds)
        rows.append({"size": scale.hed_size, "precision": precision, "images_per_s": round(rate * len(images), 2),
                     "peak_gpu_mib": _peak_mib(device)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="CPU, 64 px, narrow models (the test's run)")
    parser.add_argument("--out", type=Path, default=Path("gpu_check.json"))
    parser.add_argument("--sections", default="train,ddp,eval,hed")
    parser.add_argument("--inception-weights", help="pytorch-fid's pt_inception-2015-12-05-6726825d.pth")
    parser.add_argument("--lpips-backbone", action="append", default=[], metavar="NET=FILE",
                        help="torchvision's alexnet/vgg16 ImageNet state_dict, e.g. alex=alexnet-owt-7be5be79.pth")
    args = parser.parse_args()
    scale = TINY if args.tiny else GPU
    device = torch.device("cpu" if args.tiny or not torch.cuda.is_available() else "cuda")
    if device.type == "cpu" and not args.tiny:
        parser.error("no CUDA device here; --tiny runs the check on the CPU")
    sections = args.sections.split(",")
    started = time.perf_counter()
    report = {"benchmark": "gpu_check", "tiny": args.tiny, "torch": torch.__version__,
              "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
              if device.type == "cuda" else [], "threads": torch.get_num_threads()}
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as work:
        if "train" in sections:
            report["train"] = train_rows(scale, device)
        if "ddp" in sections:
            enough = args.tiny or torch.cuda.device_count() >= 2
            report["ddp"] = ddp_rows(scale, device, Path(work)) if enough else "left out: one GPU"
        if "eval" in sections:
            lpips = dict(item.split("=", 1) for item in args.lpips_backbone)
            report["eval"] = eval_row(scale, device, Path(work), args.inception_weights, lpips)
        if "hed" in sections:
            report["hed"] = hed_rows(scale, device)
    report["seconds"] = round(time.perf_counter() - started, 1)
    text = json.dumps(report, indent=1)
    partial = args.out.with_name(f".{args.out.name}.partial")
    partial.write_text(text + "\n")
    partial.replace(args.out)
    print(text)


if __name__ == "__main__":
    main()
