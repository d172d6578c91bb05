"""Forward + backward time and peak memory per image of the inpainting models on CPU (and CUDA
when --device cuda). Each configuration runs in a fresh subprocess so peak RSS is its own.
Prints JSON.

Models: pconv (PConv-UNet + its loss), deepfill (generator + SN-PatchGAN, both losses),
attention (contextual attention alone, on 96-channel features at 1/4 of the size).
Usage: python benchmarks/models_step.py [--model pconv,deepfill,attention] [--sizes 256,512]
       [--batch 1] [--device cpu|cuda] [--precisions fp32,bf16]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time


def run_one(model_name: str, size: int, batch: int, device: str, precision: str) -> dict:
    import torch

    from inpaint_data.models.losses import PConvLoss
    from inpaint_data.models.pconv import PConvUNet
    from inpaint_data.models.vgg import VGG16Features

    torch.manual_seed(0)
    dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    image = torch.rand(batch, 3, size, size, device=device) * 2 - 1
    hole = (torch.rand(batch, 1, size, size, device=device) > 0.7).float()
    if model_name == "pconv":
        model = PConvUNet(layers=8 if size >= 512 else 7).to(device)
        loss_fn = PConvLoss(VGG16Features().to(device))

        def step():
            with torch.autocast(device, dtype or torch.float32, enabled=dtype is not None):
                loss, _ = loss_fn(model(image, hole), image, hole)
            loss.backward()
    elif model_name == "deepfill":
        from inpaint_data.models.deepfill import Discriminator, Generator, composite
        from inpaint_data.models.losses import deepfill_g_loss, hinge_d_loss

        hole = torch.zeros(batch, 1, size, size, device=device)
        hole[..., size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 1
        model, disc = Generator().to(device), Discriminator().to(device)

        def step():
            with torch.autocast(device, dtype or torch.float32, enabled=dtype is not None):
                coarse, fine = model(image, hole)
                done = composite(fine, image, hole)
                d_loss = hinge_d_loss(disc(image, hole), disc(done.detach(), hole))
                g_loss, _ = deepfill_g_loss(disc(done, hole), coarse, fine, image)
            (d_loss + g_loss).backward()
    elif model_name == "attention":
        from inpaint_data.models.attention import ContextualAttention

        model = ContextualAttention()
        features = torch.randn(batch, 96, size // 4, size // 4, device=device, requires_grad=True)
        small = torch.zeros(batch, 1, size // 4, size // 4, device=device)
        small[..., size // 16 : 3 * size // 16, size // 16 : 3 * size // 16] = 1

        def step():
            with torch.autocast(device, dtype or torch.float32, enabled=dtype is not None):
                out, _ = model(features, features, small)
            out.float().sum().backward()
    else:
        raise ValueError(model_name)
    step()  # warm-up
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    repeats = 3
    started = time.perf_counter()
    for _ in range(repeats):
        if isinstance(model, torch.nn.Module):
            model.zero_grad(set_to_none=True)
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - started) / repeats
    row = {"model": model_name, "size": size, "batch": batch, "device": device, "precision": precision,
           "seconds_per_image": round(seconds / batch, 3), "images_per_s": round(batch / seconds, 2),
           "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
           "rss_before_timed_steps_mib": round(base / 1024, 1)}
    if device == "cuda":
        row["peak_cuda_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        row["gpu"] = torch.cuda.get_device_name()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="pconv")
    parser.add_argument("--sizes", default="256,512")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precisions", default="fp32")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        model, size, batch, device, precision = args.one.split(",")
        print(json.dumps(run_one(model, int(size), int(batch), device, precision)))
        return
    rows = []
    for model in args.model.split(","):
        for size in args.sizes.split(","):
            for precision in args.precisions.split(","):
                spec = f"{model},{size},{args.batch},{args.device},{precision}"
                out = subprocess.run([sys.executable, __file__, "--one", spec], capture_output=True, text=True)
                rows.append(json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0
                            else {"config": spec, "error": out.stderr[-400:]})
    print(json.dumps({"benchmark": "models_step", "threads": os.cpu_count(),
                      "machine": f"{platform.machine()}, {os.cpu_count()} cores", "results": rows}, indent=2))


if __name__ == "__main__":
    main()
