"""The video mask job: one Ray task per chunk of a video's frames (chunks overlap by one frame,
so every consecutive pair is seen once), occlusion masks from each pair, then NVIDIA's
augmentation and the hole-ratio targets shared with the free-form job."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ... import storage
from ...datasets.ecosystem import MAX_VIDEO_BYTES
from ...datasets.file_list import input_roots, read_table, resolve_row, write_table
from ...datasets.manifest import side_file
from ...datasets.records import Sample, SampleError, Skipped, key_seed
from ...datasets.video import VideoError, find_videos, probe_video, read_frames, video_id
from ...fileio import redact
from ...maskgen.augment import augment_video_mask
from ...maskgen.ratios import (
    NVIDIA_BIN_LABELS,
    bin_range,
    fit_hole_ratio,
    hole_ratio,
    nvidia_bin,
    nvidia_cell,
    touches_border,
)
from ...maskgen.video import (
    FlowEstimator,
    OcclusionParams,
    frame_difference,
    near_duplicate,
    occlusion_mask,
    to_gray,
)
from .engine import run_job
from .job import JobOptions, JobResult
from .shards import ShardPlan

VIDEO_LIST = ".videos.parquet"  # the videos found and their frame counts, read back by re-runs

PREFIX = "masks"
#: An augmented mask needs at least this hole ratio to be kept when no range is asked for.
MIN_HOLE_RATIO = 0.01


@dataclass(frozen=True)
class VideoMaskSpec:
    """Everything that decides the masks of a video job.

    By default pixels that leave the frame are not counted as holes (`occlusion.off_frame`):
    camera motion makes them a band along the frame edge, which the augmentation's rotation turns
    into straight lines across the masks. The CLI turns them on for --augment none. Targets are in
    the frame while their pixel overlaps it (`in_frame="footprint"`), not by Ruder's stricter rule,
    which draws lines along the borders of still frames (docs/references.md, section 1)."""

    flow: str = "dis"
    preset: str = "medium"
    occlusion: OcclusionParams = field(default_factory=lambda: OcclusionParams(off_frame=False, in_frame="footprint"))
    stride: int = 1
    max_frames: int | None = None  # per video, counted after the stride
    resize: int | None = None  # short side of the frames before the flow
    chunk_frames: int = 64
    cut_threshold: float = 35.0  # mean abs difference (0..255) at 1/8 scale above which a pair is a cut
    static_ratio: float = 0.001  # raw hole ratio at or below which a pair counts as static
    max_raw_ratio: float = 0.5  # raw hole ratio above which the flow is taken to have failed
    dedupe_iou: float = 0.8  # a raw mask this close to the previous kept one is a near-duplicate
    augment: bool = True
    per_pair: int = 1
    height: int = 512
    width: int = 512
    seed: int = 0
    hole_range: tuple[float, float] | None = None
    max_video_bytes: int = MAX_VIDEO_BYTES  # larger remote videos and tar members are skipped (recorded)
    balance: str | None = None
    dilate: bool = False


#: Videos probed per Ray task when the probing runs on Ray (see probe_frame_counts).
PROBE_BATCH = 64


def frame_counts(videos: list[str], max_bytes: int = MAX_VIDEO_BYTES) -> list[int | None]:
    """The frame count of each video, None for one that cannot be probed (Ray-free: one batch)."""
    counts: list[int | None] = []
    for path in videos:
        try:
            counts.append(probe_video(path, max_bytes=max_bytes).frames)
        except (VideoError, OSError):
            counts.append(None)
    return counts


def probe_frame_counts(videos: list[str], options: JobOptions,
                       max_bytes: int = MAX_VIDEO_BYTES) -> list[int | None]:
    """frame_counts of every video: in this process for one batch or `workers=0`, else as Ray
    tasks of PROBE_BATCH videos each (remote videos are fetched by the nodes, not the driver)."""
    if options.workers == 0 or len(videos) <= PROBE_BATCH:
        return frame_counts(videos, max_bytes)
    from .distributor import map_batches_on_ray

    return map_batches_on_ray(partial(frame_counts, max_bytes=max_bytes), videos, PROBE_BATCH, options)


def plan_video_shards(videos: list[str], spec: VideoMaskSpec, counts: list[int | None]) -> list[ShardPlan]:
    """Chunks of `chunk_frames` sampled frames per video (`counts`: their frame counts),
    consecutive chunks sharing a frame. A video that cannot be probed gets one empty chunk,
    whose task records why."""
    plans: list[ShardPlan] = []
    for path, frames in zip(videos, counts):
        if frames is None:
            plans.append(ShardPlan(len(plans), 0, 0, path))
            continue
        last = frames - 1
        if spec.max_frames:
            last = min(last, (spec.max_frames - 1) * spec.stride)
        step = (spec.chunk_frames - 1) * spec.stride
        for start in range(0, max(1, last), step):
            stop = min(start + step, last)
            plans.append(ShardPlan(len(plans), start, stop + 1, path))
    return plans


def _augmented(raw: np.ndarray, spec: VideoMaskSpec, vid: str, vseed: int, frame: int,
               pair: int) -> Iterator[Sample | Skipped]:
    for k in range(spec.per_pair):
        rng = np.random.default_rng([spec.seed, vseed, frame, k])
        draw = partial(lambda h, w, r: augment_video_mask(raw, h, w, r))
        meta: dict[str, Any] = {}
        target_bin, border = nvidia_cell(pair * spec.per_pair + k) if spec.balance else (None, None)
        hole_range = bin_range(target_bin) if spec.balance else spec.hole_range or (MIN_HOLE_RATIO, 1.0)
        try:
            mask, info = fit_hole_ratio(draw, spec.height, spec.width, rng, hole_range, border=border,
                                        dilate=spec.dilate)
        except ValueError:
            yield Skipped("out_of_range")
            continue
        meta.update(info)
        if spec.balance:
            meta["target_bin"] = NVIDIA_BIN_LABELS[target_bin]
        yield Sample(key=f"{vid}-{frame:06d}-{k:02d}", mask=mask, meta=meta)


def video_chunk_samples(plan: ShardPlan, spec: VideoMaskSpec) -> Iterator[Sample | SampleError | Skipped]:
    """The samples of one chunk: an occlusion mask per usable frame pair (or `per_pair`
    augmented masks of it), with skipped pairs and unreadable input reported."""
    cv2.setNumThreads(1)  # one Ray task per CPU
    try:
        info = probe_video(plan.source, spec.resize, spec.max_video_bytes)
    except (VideoError, OSError) as e:
        yield SampleError(plan.source, str(e))
        return
    flow = FlowEstimator(spec.flow, spec.preset)
    vid, vseed = video_id(plan.source), key_seed(plan.source)
    previous: tuple[int, np.ndarray] | None = None
    kept_raw: np.ndarray | None = None
    try:
        for frame, rgb in read_frames(info, plan.start, plan.stop, spec.stride, spec.max_video_bytes):
            gray = to_gray(rgb)
            if previous is None:
                previous = frame, gray
                continue
            first, a = previous
            previous = frame, gray
            if frame_difference(a, gray) > spec.cut_threshold:
                yield Skipped("scene_cut")
                continue
            fwd, bwd = flow(a, gray), flow(gray, a)
            if not (np.isfinite(fwd).all() and np.isfinite(bwd).all()):
                yield Skipped("flow_failed")
                continue
            raw = occlusion_mask(fwd, bwd, spec.occlusion)
            ratio = hole_ratio(raw)
            if ratio <= spec.static_ratio:
                yield Skipped("static")
                continue
            if ratio > spec.max_raw_ratio:
                yield Skipped("flow_failed")
                continue
            if kept_raw is not None and near_duplicate(raw, kept_raw, spec.dedupe_iou):
                yield Skipped("near_duplicate")
                continue
            kept_raw = raw
            common = {"style": "video", "video": plan.source, "frame": first, "next_frame": frame,
                      "raw_hole_ratio": ratio}
            if not spec.augment:
                samples: Iterator[Sample | Skipped] = iter([Sample(key=f"{vid}-{first:06d}", mask=raw)])
            else:
                samples = _augmented(raw, spec, vid, vseed, first, first // spec.stride)
            for sample in samples:
                if isinstance(sample, Sample):
                    r = hole_ratio(sample.mask)
                    h, w = sample.mask.shape
                    sample.meta.update(common, hole_ratio=r, bin=nvidia_bin(r), border=touches_border(sample.mask),
                                       height=h, width=w, seed=spec.seed)
                yield sample
    except VideoError as e:
        yield SampleError(plan.source, str(e))


def run_video_masks(out_dir: str | Path, inputs: list[str], spec: VideoMaskSpec, *,
                    options: JobOptions = JobOptions(), relist: bool = False) -> JobResult:
    """Occlusion masks from every video named by `inputs`, a shard per chunk of frames
    (`options.shard_size` does not apply); re-running resumes a killed run. The videos found and
    their frame counts are kept in the output (`_videos.parquet`) and read back by a re-run with
    the same inputs, which neither lists nor probes again (`relist`: it does; the job is then
    refused if the videos changed)."""
    if spec.balance and spec.hole_range:
        raise ValueError("use either a hole range or a balance, not both")
    FlowEstimator(spec.flow, spec.preset)  # fail fast on a bad method or preset
    request = {"inputs": [storage.absolute(i) for i in inputs]}
    listing = None if relist else read_table(side_file(out_dir, VIDEO_LIST), request)
    if listing is not None:  # recorded without URL secrets, and only inside the inputs
        roots = input_roots(inputs)
        listing["path"] = [resolve_row(path, roots) for path in listing["path"]]
    with tempfile.TemporaryDirectory(prefix="inpaint-data-") as scratch:
        local = None
        if listing is None:  # listed and probed once; a re-run reads the list back
            videos = find_videos(inputs)
            if not videos:
                raise FileNotFoundError(f"no videos found in {inputs}")
            listing = {"path": videos, "frames": probe_frame_counts(videos, options, spec.max_video_bytes)}
            local = write_table({**listing, "path": [redact(p) for p in videos]}, Path(scratch) / VIDEO_LIST,
                                request)
        settings = {k: v for k, v in asdict(spec).items() if k != "max_video_bytes"}  # a limit, not the output's
        job = {"name": "masks-video", "format": options.fmt, "videos": listing["path"], **settings}
        plans = plan_video_shards(listing["path"], spec, listing["frames"])
        if options.on_total is not None:
            options.on_total(sum(plan.stop - plan.start for plan in plans))
        return run_job(out_dir, job, plans, partial(video_chunk_samples, spec=spec), prefix=PREFIX,
                       options=options, input_list=(VIDEO_LIST, local))
