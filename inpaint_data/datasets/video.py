"""Video input: finding videos, probing them and reading frames sequentially.

decord first (what Ray's read_videos uses); containers decord cannot open are retried with
OpenCV. Frames are RGB uint8, optionally resized so the short side has a given length.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .. import storage
from .ecosystem import MAX_VIDEO_BYTES, archive_members, is_img2dataset_folder, local_file

VIDEO_EXTS = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".flv", ".wmv", ".ts"}


class VideoError(RuntimeError):
    """A video that cannot be opened or read; the message says why."""


@dataclass(frozen=True)
class VideoInfo:
    path: str
    frames: int
    height: int  # after resizing
    width: int
    fps: float
    backend: str  # "decord" or "opencv"


def find_videos(inputs: list[str]) -> list[str]:
    """Video files named by `inputs` (files, folders searched recursively, or globs; local paths
    or URLs), sorted and without duplicates. A file named explicitly is kept whatever its
    extension. A video2dataset output folder (`00000.tar`, ... with video members) gives
    `TAR::member` addresses."""
    found: set[str] = set()
    for item in inputs:
        if is_img2dataset_folder(item):
            found.update(archive_members(item, VIDEO_EXTS))
        else:
            found.update(storage.find_files(item, VIDEO_EXTS, "video"))
    return sorted(found)


def video_id(path: str) -> str:
    """A key-safe, stable name for a video: its stem and a short hash of its full path."""
    stem = re.sub(r"[^A-Za-z0-9_]+", "_", Path(path).stem)[:40] or "video"
    return f"{stem}-{hashlib.sha1(path.encode()).hexdigest()[:8]}"


def _resized(height: int, width: int, short_side: int | None) -> tuple[int, int]:
    if not short_side:
        return height, width
    scale = short_side / min(height, width)
    return max(2, round(height * scale / 2) * 2), max(2, round(width * scale / 2) * 2)


def _decord_reader(path: str, size: tuple[int, int] | None = None):
    import decord

    if size is None:
        return decord.VideoReader(path, ctx=decord.cpu(0), num_threads=1)
    return decord.VideoReader(path, ctx=decord.cpu(0), num_threads=1, height=size[0], width=size[1])


def probe_video(path: str, short_side: int | None = None, max_bytes: int = MAX_VIDEO_BYTES) -> VideoInfo:
    """Frame count, size (after resizing) and rate; raises VideoError when neither backend opens it.
    `path` may be a `TAR::member` address or a URL (a temporary copy, of at most `max_bytes`, is opened)."""
    address, path = path, local_file(path, max_bytes)
    if Path(path).stat().st_size == 0:
        raise VideoError("empty file")
    try:
        vr = _decord_reader(path)
        h, w = vr[0].shape[:2] if len(vr) else (0, 0)
        frames, fps, backend = len(vr), float(vr.get_avg_fps()), "decord"
    except Exception as decord_error:  # decord raises its own DECORDError and RuntimeErrors
        cap = cv2.VideoCapture(path)
        ok, frame = cap.read() if cap.isOpened() else (False, None)
        if not ok:
            cap.release()
            raise VideoError(f"cannot open ({str(decord_error).splitlines()[0][:200]})") from None
        h, w = frame.shape[:2]
        frames, fps, backend = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), float(cap.get(cv2.CAP_PROP_FPS)), "opencv"
        cap.release()
    if frames < 2:
        raise VideoError(f"{frames} frame(s); a frame pair needs at least 2")
    h, w = _resized(h, w, short_side)
    return VideoInfo(address, frames, h, w, fps, backend)


def read_frames(info: VideoInfo, start: int, stop: int, stride: int = 1,
                max_bytes: int = MAX_VIDEO_BYTES) -> Iterator[tuple[int, np.ndarray]]:
    """(frame index, RGB frame) for start, start+stride, ... < stop, decoded sequentially.

    Raises VideoError when a frame in the range cannot be decoded (frames before it are yielded).
    """
    size = (info.height, info.width)
    path = local_file(info.path, max_bytes)
    if info.backend == "decord":
        vr = _decord_reader(path, size)
        index = start
        try:
            # random access to the first frame positions the decoder; then decode onwards
            # (decord's seek() followed by next() returns wrong frames)
            for index in range(start, min(stop, len(vr))):
                frame = (vr[start] if index == start else vr.next()).asnumpy()
                if (index - start) % stride == 0:
                    yield index, frame
        except StopIteration:
            raise VideoError(f"stream ended at frame {index} of {info.frames}") from None
        except Exception as e:  # decord's DECORDError is a RuntimeError subclass, sometimes not
            raise VideoError(f"decoding failed at frame {index}: {str(e).splitlines()[0][:200]}") from None
        return
    cap = cv2.VideoCapture(path)
    try:
        cap.set(cv2.CAP_PROP_POS_FRAMES, start)
        for index in range(start, stop):
            ok, bgr = cap.read()
            if not ok:
                raise VideoError(f"decoding failed at frame {index}")
            if (index - start) % stride == 0:
                frame = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                if frame.shape[:2] != size:
                    frame = cv2.resize(frame, (size[1], size[0]), interpolation=cv2.INTER_AREA)
                yield index, frame
    finally:
        cap.release()
