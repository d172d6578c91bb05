
import cv2
import pytest
from click.testing import CliRunner

from inpaint_data.cli.main import main
from inpaint_data.datasets.readers import iter_records, read_samples
from inpaint_data.datasets.samples import sample_video
from inpaint_data.maskgen.synthetic_motion import MovingSquare
from inpaint_data.pipelines.jobs.job import JobOptions
from inpaint_data.pipelines.jobs.masks_video import VideoMaskSpec, run_video_masks


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """A folder with a synthetic video of known motion and every kind of bad input."""
    root = tmp_path_factory.mktemp("videos")
    square = MovingSquare(x0=40, y0=30, dx=7, dy=5)
    square.write(root / "square.mkv", 14)
    MovingSquare().write(root / "one_frame.mkv", 1)
    real = sample_video("bikes.mp4").read_bytes()
    (root / "empty.mp4").write_bytes(b"")
    (root / "truncated.mp4").write_bytes(real[:150_000])
    (root / "text.mp4").write_text("this is not a video\n")
    middle = bytearray(real)
    middle[len(real) // 3 : len(real) // 3 + 60_000] = bytes(60_000)
    (root / "broken_middle.mp4").write_bytes(bytes(middle))
    return root, square


def _near(mask, px):
    return cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * px + 1, 2 * px + 1)))


def test_raw_masks_match_the_known_motion_and_bad_inputs_are_recorded(ray_session, videos, tmp_path):
    root, square = videos
    spec = VideoMaskSpec(augment=False, chunk_frames=5, max_frames=60, dedupe_iou=1.0)  # keep every pair
    result = run_video_masks(tmp_path, [str(root)], spec, options=JobOptions(fmt="parquet"))
    reasons = {e["path"].rsplit("/", 1)[-1]: e["reason"] for e in result.errors}
    assert reasons["empty.mp4"] == "empty file"
    assert reasons["one_frame.mkv"].startswith("1 frame")
    assert reasons["text.mp4"].startswith("cannot open") and reasons["truncated.mp4"].startswith("cannot open")
    assert "decoding failed at frame" in reasons["broken_middle.mp4"]
    samples = [s for s in read_samples(tmp_path) if s.meta["video"].endswith("square.mkv")]
    assert [s.meta["frame"] for s in samples] == list(range(13))  # chunks overlap by one frame: every pair once
    for s in samples:
        truth = square.occluded_and_disoccluded(s.meta["frame"])
        assert s.mask.shape == truth.shape
        assert (s.mask[truth > 0] > 0).mean() >= 0.8
        assert (_near(truth, 5)[s.mask > 0] > 0).mean() >= 0.8
    broken = [s for s in read_samples(tmp_path) if s.meta["video"].endswith("broken_middle.mp4")]
    assert broken and max(s.meta["frame"] for s in broken) < 60  # frames before the damage were kept


def test_same_bytes_for_any_workers_and_after_a_partial_run(ray_session, tmp_path):
    bikes = str(sample_video("bikes.mp4"))
    spec = VideoMaskSpec(preset="fast", max_frames=25, chunk_frames=8, resize=136, height=128, width=128, per_pair=2)
    one = run_video_masks(tmp_path / "one", [bikes], spec, options=JobOptions(workers=1))
    two = run_video_masks(tmp_path / "two", [bikes], spec, options=JobOptions(workers=2))
    first = dict(iter_records(tmp_path / "one"))
    assert first == dict(iter_records(tmp_path / "two")) and len(first) == one.count > 10
    # a run killed after some shards: drop the last shard and its stats, then run again
    (tmp_path / "two" / f".masks-{two.shards - 1:06d}.stats.json").unlink()
    (tmp_path / "two" / f"masks-{two.shards - 1:06d}.tar").unlink()
    again = run_video_masks(tmp_path / "two", [bikes], spec, options=JobOptions(workers=2))
    assert again.shards_written == 1 and dict(iter_records(tmp_path / "two")) == first


def test_real_videos_fill_at_least_four_nvidia_bins(ray_session, tmp_path):
    videos = [str(sample_video("bikes.mp4")), str(sample_video("bigbuckbunny.mp4"))]
    result = run_video_masks(tmp_path, videos, VideoMaskSpec(max_frames=40, resize=360))
    filled = [label for label, n in result.bins.items() if label != "outside" and n > 0]
    assert len(filled) >= 4, result.bins
    sample = next(read_samples(tmp_path))
    assert sample.mask.shape == (512, 512) and {"video", "frame", "hole_ratio", "dilation"} <= set(sample.meta)


def test_cli_video_arguments(tmp_path, videos):
    root, _ = videos
    runner = CliRunner()
    missing = runner.invoke(main, ["masks", "--from-video", str(tmp_path / "nope*.mp4"), "--out", str(tmp_path / "o")])
    assert missing.exit_code == 2 and "no video matches" in missing.output
    both = runner.invoke(main, ["masks", "--free-form", "--from-video", str(root), "--out", str(tmp_path / "o")])
    assert both.exit_code == 2 and "--free-form or --from-video" in both.output
    raw_balance = runner.invoke(main, ["masks", "--from-video", str(root), "--augment", "none", "--balance", "nvidia",
                                       "--out", str(tmp_path / "o")])
    assert raw_balance.exit_code == 2 and "--augment none" in raw_balance.output
    assert not (tmp_path / "o").exists()


def test_probing_as_ray_tasks_gives_the_in_process_counts(ray_session, videos, monkeypatch):
    from inpaint_data.datasets.video import find_videos
    from inpaint_data.pipelines.jobs import masks_video

    paths = find_videos([str(videos[0])])
    here = masks_video.frame_counts(paths)
    monkeypatch.setattr(masks_video, "PROBE_BATCH", 2)  # 6 videos: 3 Ray tasks, 2 at once
    on_ray = masks_video.probe_frame_counts(paths, JobOptions(workers=2))
    assert on_ray == here and here.count(None) >= 3 and 14 in here  # broken ones None, the square's 14 frames


def test_video_progress_counts_frames_against_the_probed_total(tmp_path, monkeypatch):
    monkeypatch.setenv("INPAINT_DATA_LOG_EVERY", "0")
    bikes = str(sample_video("bikes.mp4"))
    result = CliRunner().invoke(main, ["masks", "--from-video", bikes, "--max-frames", "13", "--chunk-frames", "7",
                                       "--resize", "96", "--size", "64", "--workers", "0", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith(("progress:", "done:"))]
    # 13 frames in chunks 0-6 and 6-12: 14 frames read (the shared one twice), known before any is read
    assert lines[0].startswith("progress: 7/14 frames") and lines[-1].startswith("done: 14/14 frames"), lines


def test_a_rerun_reads_the_probed_video_list_back(tmp_path):
    import shutil

    import pyarrow.parquet as pq

    folder = tmp_path / "videos"
    folder.mkdir()
    shutil.copy(sample_video("bikes.mp4"), folder / "bikes.mp4")
    spec = VideoMaskSpec(preset="fast", max_frames=7, chunk_frames=7, resize=96, height=64, width=64, augment=False)
    first = run_video_masks(tmp_path / "out", [str(folder)], spec, options=JobOptions(workers=0))
    listed = pq.read_table(tmp_path / "out" / ".videos.parquet").to_pydict()
    assert listed["path"] == [str(folder / "bikes.mp4")] and listed["frames"][0] > 7
    shutil.copy(sample_video("bikes.mp4"), folder / "more.mp4")  # not in the list: the re-run resumes over it
    again = run_video_masks(tmp_path / "out", [str(folder)], spec, options=JobOptions(workers=0))
    assert (again.count, again.shards_written) == (first.count, 0)
