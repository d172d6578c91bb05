import numpy as np
import pytest

from inpaint_data.datasets.video import VideoError, find_videos, probe_video, read_frames, video_id
from inpaint_data.maskgen.synthetic_motion import MovingSquare


@pytest.fixture(scope="module")
def square(tmp_path_factory):
    root = tmp_path_factory.mktemp("v")
    video = MovingSquare(dx=3, dy=2)
    video.write(root / "a.mkv", 20)
    return root, video


def test_chunk_reads_are_the_exact_frames(square):
    root, video = square
    info = probe_video(str(root / "a.mkv"))
    assert (info.frames, info.height, info.width, info.backend) == (20, 240, 320, "decord")
    got = list(read_frames(info, 7, 12, stride=2))
    assert [i for i, _ in got] == [7, 9, 11]
    for i, frame in got:
        assert frame.shape == (240, 320, 3) and np.array_equal(frame[..., 0], video.gray(i))


def test_resize_keeps_the_aspect_and_even_sides(square):
    root, _ = square
    info = probe_video(str(root / "a.mkv"), short_side=120)
    assert (info.height, info.width) == (120, 160)
    assert next(read_frames(info, 0, 2))[1].shape == (120, 160, 3)


def test_find_videos_walks_folders_and_globs(square, tmp_path):
    root, _ = square
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "b.MP4").write_bytes(b"")
    assert find_videos([str(root)]) == [str((root / "a.mkv").resolve())]
    assert find_videos([str(tmp_path)]) == [str((tmp_path / "b.MP4").resolve())]
    assert len(find_videos([str(root / "*.mkv"), str(root / "a.mkv")])) == 1
    with pytest.raises(FileNotFoundError, match="no video matches"):
        find_videos([str(tmp_path / "*.avi")])


def test_video_ids_are_key_safe_and_distinct():
    a, b = video_id("/x/my clip.v2.mp4"), video_id("/y/my clip.v2.mp4")
    assert a != b and a.startswith("my_clip_v2-") and "." not in a


def test_unreadable_files_raise_video_error(tmp_path):
    (tmp_path / "t.mp4").write_text("not a video")
    with pytest.raises(VideoError, match="cannot open"):
        probe_video(str(tmp_path / "t.mp4"))


def test_time_split_frames_hold_out_the_later_frames_of_each_video(tmp_path):
    from inpaint_data.datasets.samples import write_time_split_frames

    split = dict(short_side=32, train_share=0.8, videos=("carphone_pristine.mp4",))
    counts = write_time_split_frames(tmp_path, **split)
    assert counts == {"train": 96, "val": 24}
    index = {split: sorted(int(p.stem.split("_")[-1]) for p in (tmp_path / split).glob("*.png"))
             for split in ("train", "val")}
    assert index["train"] == list(range(96)) and index["val"] == list(range(96, 120))
    first = (tmp_path / "val" / "carphone_pristine_00096.png").stat().st_mtime_ns
    assert write_time_split_frames(tmp_path, **split) == counts
    assert (tmp_path / "val" / "carphone_pristine_00096.png").stat().st_mtime_ns == first  # kept, not rewritten
    held_out = write_time_split_frames(tmp_path / "only_val", **split, splits=("val",))
    assert held_out == {"val": 24} and not (tmp_path / "only_val" / "train").exists()
