"""The video half of `inpaint-data masks`: its options and its run."""

from __future__ import annotations

import click

from ..maskgen.video import DIRECTIONS, DIS_PRESETS, FLOW_METHODS, IN_FRAME_RULES
from .jobs import RELIST_HELP, run_job_command
from .params import RangeType

_OPTIONS = [
    click.option("--flow", type=click.Choice(FLOW_METHODS), default="dis", show_default=True,
                 help="video: optical flow: OpenCV DIS, Farneback, or DeepFlow (~30x slower than DIS medium)."),
    click.option("--flow-preset", type=click.Choice(list(DIS_PRESETS)), default="medium", show_default=True,
                 help="video: DIS preset. medium: at half resolution; fast: ~4x faster, wide halos; fine: at "
                      "full resolution, ~4x slower, keeps 3 px strips but its patch grid makes false "
                      "holes on real footage."),
    click.option("--stride", type=click.IntRange(min=1), default=1, show_default=True,
                 help="video: pair frame t with frame t + stride."),
    click.option("--max-frames", type=click.IntRange(min=2), default=None, help="video: frames used per video."),
    click.option("--resize", type=click.IntRange(min=32), default=None,
                 help="video: resize frames to this short side before the flow."),
    click.option("--augment", type=click.Choice(["nvidia", "none"]), default="nvidia", show_default=True,
                 help="video: nvidia: dilate 9..49 px, rotate, translate, crop to --size; "
                      "none: the raw mask at the video's resolution."),
    click.option("--per-pair", type=click.IntRange(min=1), default=1, show_default=True,
                 help="video: augmented masks per frame pair."),
    click.option("--max-video-bytes", type=click.IntRange(min=1), default=4 * 2**30, show_default=True,
                 help="video: largest video copied from a URL or a tar member for decoding; larger ones are "
                      "skipped and recorded."),
    click.option("--chunk-frames", type=click.IntRange(min=2), default=64, show_default=True,
                 help="video: frames per Ray task (chunks overlap by one frame)."),
    click.option("--consistency", type=RangeType(float, 0.0, None), default="0.01:0.5", show_default=True,
                 help="video: REL:ABS, occluded if |w+w'|^2 >= REL(|w|^2+|w'|^2) + ABS."),
    click.option("--motion-boundary", type=RangeType(float, 0.0, None, ordered=False), default="0.01:0.002",
                 show_default=True, help="video: REL:ABS, boundary if |grad w|^2 > REL|w|^2 + ABS."),
    click.option("--reliability-sigma", type=click.FloatRange(min=0), default=0.8, show_default=True,
                 help="video: Gaussian sigma on the reliability map."),
    click.option("--reliability-threshold", type=click.FloatRange(0, 1), default=0.6, show_default=True,
                 help="video: hole where the smoothed reliability <= this."),
    click.option("--min-component", type=click.IntRange(min=0), default=16, show_default=True,
                 help="video: drop holes smaller than this many pixels."),
    click.option("--off-frame-holes/--no-off-frame-holes", "off_frame", default=None,
                 help="video: count pixels the flow carries off the frame as holes. Default: yes with "
                      "--augment none (Ruder's check), no when augmenting (they become straight lines)."),
    click.option("--in-frame", type=click.Choice(IN_FRAME_RULES), default="footprint", show_default=True,
                 help="video: when a flow target is in the frame. ruder: floor(x')+1 < W, as Ruder's "
                      "checker (lines along still borders); footprint: its pixel overlaps the frame."),
    click.option("--directions", type=click.Choice(DIRECTIONS), default="both", show_default=True,
                 help="video: both: occluded pixels of the forward check OR dis-occluded pixels of the "
                      "backward one; forward: Ruder's single check."),
    click.option("--cut-threshold", type=click.FloatRange(min=0), default=35.0, show_default=True,
                 help="video: mean abs frame difference (0..255) above which a pair is a scene cut."),
    click.option("--relist", is_flag=True, help="video: " + RELIST_HELP.replace(".files", ".videos")),
    click.option("--dedupe-iou", type=click.FloatRange(0, 1), default=0.8, show_default=True,
                 help="video: skip a raw mask this similar (IoU at 1/8 scale) to the previous one kept."),
]


def video_options(fn):
    for option in reversed(_OPTIONS):
        fn = option(fn)
    return fn


def run_video_command(ctx, videos, size, out_dir, fmt, seed, workers, hole_range, balance, dilate, *,
                      flow, flow_preset, stride, max_frames, resize, augment, per_pair, chunk_frames,
                      consistency, motion_boundary, reliability_sigma, reliability_threshold, min_component,
                      off_frame, in_frame, directions, cut_threshold, dedupe_iou, relist, max_video_bytes):
    from ..maskgen.video import OcclusionParams
    from ..pipelines.jobs.masks_video import VideoMaskSpec, run_video_masks

    if augment == "none" and (hole_range or balance):
        raise click.UsageError("--hole-range and --balance apply to augmented masks, not --augment none")
    spec = VideoMaskSpec(
        flow=flow, preset=flow_preset,
        occlusion=OcclusionParams(
            consistency_rel=consistency[0], consistency_abs=consistency[1], motion_rel=motion_boundary[0],
            motion_abs=motion_boundary[1], sigma=reliability_sigma, threshold=reliability_threshold,
            min_component=min_component, off_frame=augment == "none" if off_frame is None else off_frame,
            in_frame=in_frame, directions=directions),
        stride=stride, max_frames=max_frames, resize=resize, chunk_frames=chunk_frames,
        cut_threshold=cut_threshold, dedupe_iou=dedupe_iou, augment=augment == "nvidia", per_pair=per_pair,
        height=size[0], width=size[1], seed=seed, hole_range=hole_range, balance=balance, dilate=dilate,
        max_video_bytes=max_video_bytes,
    )
    def run(options):
        try:
            return run_video_masks(out_dir, videos, spec, options=options, relist=relist)
        except FileNotFoundError as e:
            raise click.BadParameter(str(e), param_hint="--from-video") from None

    run_job_command(ctx, run, "masks", unit="frames", fmt=fmt, workers=workers)
