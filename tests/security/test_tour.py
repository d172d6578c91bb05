"""Round 2, item 1: README's tour, command for command, from a working folder with relative
paths and default workers (Ray Train runs its workers in folders of their own), scaled down."""

import json
import shutil

import cv2
import numpy as np
from safety_helpers import invoke, write_rgb

from inpaint_data.datasets.samples import sample_video


def _ok(*args):
    result = invoke(*args)
    assert result.exit_code == 0, f"{' '.join(map(str, args))}\n{result.output}"
    return result


def test_the_readme_tour_runs_as_typed_with_relative_paths(ray_session, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_videos").mkdir()
    shutil.copy(sample_video("bikes.mp4"), tmp_path / "my_videos" / "bikes.mp4")
    (tmp_path / "places365" / "a").mkdir(parents=True)
    for i in range(11):  # keys a_p0..a_p10: a_p8 and a_p10 go to val (by key hash)
        write_rgb(tmp_path / "places365" / "a" / f"p{i}.png", 80, seed=i)
    (tmp_path / "photos").mkdir()
    write_rgb(tmp_path / "photos" / "q.png", 70, seed=9)
    hole = np.zeros((70, 70), np.uint8)
    hole[20:40, 20:50] = 255
    cv2.imwrite("hole.png", hole)

    _ok("masks", "--from-video", "my_videos/", "--per-pair", "4", "--balance", "nvidia", "--size", "64",
        "--max-frames", "8", "--resize", "96", "--out", "masks_video")
    _ok("masks", "--free-form", "--style", "deepfill", "--balance", "nvidia", "--count", "24", "--size", "64",
        "--out", "masks_test")
    _ok("masks", "stats", "masks_video")
    _ok("weights", "fetch", "hed")
    _ok("edges", "--hed", "places365/", "--out", "places_edges")
    _ok("shard", "places365/", "--edges", "places_edges", "--size", "64", "--val-fraction", "0.34",
        "--out", "places_shards")
    _ok("preview", "places_shards/train", "--sketch", "--out", "preview.png")
    _ok("train", "deepfillv2", "--data", "places_shards/train", "--val-data", "places_shards/val", "--sketch",
        "--steps", "3", "--size", "64", "--batch-size", "2", "--cnum", "8", "--dcnum", "8", "--num-val", "2",
        "--out", "runs/deepfill")
    _ok("export", "runs/deepfill", "--out", "deepfill.pt")
    _ok("eval", "--images", "places_shards/val", "--masks", "masks_test", "--model", "deepfill.pt",
        "--out", "eval_deepfill")
    _ok("eval", "--images", "places_shards/val", "--masks", "masks_test", "--model", "deepfill.pt",
        "--workers", "1", "--out", "eval_deepfill_ray")
    _ok("inpaint", "photos/", "--mask", "hole.png", "--model", "deepfill.pt", "--out", "filled")
    assert (tmp_path / "runs" / "deepfill" / "best.pt").exists() and (tmp_path / "filled" / "q.png").exists()
    rows = [json.loads((tmp_path / name / "metrics.json").read_text())["rows"]
            for name in ("eval_deepfill", "eval_deepfill_ray")]
    assert rows[0] == rows[1]
