import cv2
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from inpaint_data.datasets.readers import iter_records, read_samples
from inpaint_data.datasets.torch import (
    MaskSource,
    PairSpec,
    ShardedTrainingDataset,
    collate,
)
from inpaint_data.pipelines.jobs.job import JobOptions
from inpaint_data.pipelines.jobs.masks_synth import FreeFormSpec, run_free_form_masks
from inpaint_data.pipelines.jobs.shard import ShardSpec, run_shard_images


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Random photos of several sizes plus every kind of awkward input."""
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for i in range(12):
        h, w = int(rng.integers(64, 120)), int(rng.integers(64, 120))
        coarse = rng.integers(0, 256, (h // 4, w // 4, 3), dtype=np.uint8)
        smooth = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(root / f"p{i:02d}.png"), smooth)
    cv2.imwrite(str(root / "gray.png"), rng.integers(0, 256, (70, 80), dtype=np.uint8))
    cv2.imwrite(str(root / "rgba.png"), rng.integers(0, 256, (70, 80, 4), dtype=np.uint8))
    cv2.imwrite(str(root / "deep.png"), rng.integers(0, 65535, (70, 80), dtype=np.uint16))
    jpg = cv2.imencode(".jpg", rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))[1].tobytes()
    (root / "truncated.jpg").write_bytes(jpg[: len(jpg) // 2])
    (root / "zero.jpg").write_bytes(b"")
    (root / "text.jpg").write_text("not an image")
    exact = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    cv2.imwrite(str(root / "exact.png"), exact)  # already 64 x 64 PNG: kept byte for byte
    return root


@pytest.fixture(scope="module")
def shards(ray_session, photos, tmp_path_factory):
    out = tmp_path_factory.mktemp("shards")
    spec = ShardSpec(size=64, ext="png")
    result = run_shard_images(out / "wds", [str(photos)], spec, options=JobOptions(shard_size=3))
    run_shard_images(out / "pq", [str(photos)], spec, options=JobOptions(fmt="parquet", shard_size=3))
    return out, result


def test_bad_inputs_are_recorded_and_odd_modes_converted(shards, photos):
    out, result = shards
    assert sorted(e["path"].rsplit("/", 1)[-1] for e in result.errors) == ["text.jpg", "truncated.jpg", "zero.jpg"]
    samples = {s.key: s for s in read_samples(out / "wds")}
    assert len(samples) == result.count == 16
    for key in ("gray", "rgba", "deep"):
        assert samples[key].image.shape == (64, 64, 3)
    members = dict(iter_records(out / "wds"))
    assert members["exact"]["png"] == (photos / "exact.png").read_bytes()
    assert samples["exact"].meta["reencoded"] is False and samples["p00"].meta["reencoded"] is True


def test_loader_round_trip_keeps_known_pixels(shards, photos):
    out, _ = shards
    spec = PairSpec(size=64, flip=False)
    for sample in ShardedTrainingDataset(str(out / "wds"), spec):
        if not sample["key"].startswith("p"):
            continue
        source = cv2.cvtColor(cv2.imread(str(photos / f"{sample['key']}.png")), cv2.COLOR_BGR2RGB)
        scale = 64 / min(source.shape[:2])
        resized = cv2.resize(source, (max(64, round(source.shape[1] * scale)), max(64, round(source.shape[0] * scale))),
                             interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        top, left = (resized.shape[0] - 64) // 2, (resized.shape[1] - 64) // 2
        expected = resized[top : top + 64, left : left + 64].transpose(2, 0, 1) / 127.5 - 1
        known = np.broadcast_to(sample["mask"] == 0, expected.shape)
        assert np.allclose(sample["image"][known], expected[known], atol=1e-6)
        assert set(np.unique(sample["mask"])) <= {0.0, 1.0} and sample["mask"].any()


def test_ranks_and_workers_split_each_epoch_disjointly(shards):
    out, result = shards
    for path in (out / "wds",):
        seen = []
        for rank in range(2):
            dataset = ShardedTrainingDataset(str(path), PairSpec(size=32), rank=rank, world_size=2)
            loader = DataLoader(dataset, batch_size=4, num_workers=2, collate_fn=collate)
            seen.append([k for batch in loader for k in batch["key"]])
        assert not set(seen[0]) & set(seen[1])
        assert sorted(seen[0] + seen[1]) == sorted(s.key for s in read_samples(path))


def test_fewer_shards_than_slots_split_by_sample(ray_session, photos, tmp_path):
    run_shard_images(tmp_path, [str(photos)], ShardSpec(size=32), options=JobOptions(shard_size=100))  # one shard
    keys = []
    for rank in range(3):
        keys += [s["key"] for s in ShardedTrainingDataset(str(tmp_path), PairSpec(size=32), rank, 3)]
    assert sorted(keys) == sorted(s.key for s in read_samples(tmp_path)) and len(keys) == len(set(keys))


@pytest.mark.parametrize("fmt", ["wds", "pq"])
def test_an_epoch_gives_the_same_batches_whoever_reads_it(shards, fmt):
    out, _ = shards
    spec = PairSpec(size=48, seed=5)

    def batches(epoch, workers=0):
        dataset = ShardedTrainingDataset(str(out / fmt), spec)
        dataset.set_epoch(epoch)
        return list(DataLoader(dataset, batch_size=4, collate_fn=collate, num_workers=workers))

    first, again = batches(3), batches(3)
    assert len(first) == len(again) == 4
    for a, b in zip(first, again):
        assert list(a["key"]) == list(b["key"])
        assert torch.equal(a["image"], b["image"]) and torch.equal(a["mask"], b["mask"])
    assert not torch.equal(batches(4)[0]["mask"], first[0]["mask"])


def test_masks_from_mask_shards_and_sketches_inside_holes(ray_session, photos, tmp_path):
    images = tmp_path / "images"
    edge_dir = tmp_path / "edges"
    from inpaint_data.pipelines.jobs.edges import EdgeSpec, run_edges

    run_edges(edge_dir, [str(photos)], EdgeSpec(method="canny", canny_sigma=1.0))
    run_shard_images(images, [str(photos)], ShardSpec(size=64), edges_dir=str(edge_dir), val_fraction=0.25)
    assert (images / "train").exists() and (images / "val").exists()
    train = {s.key for s in read_samples(images / "train")}
    val = {s.key for s in read_samples(images / "val")}
    assert train and val and not train & val
    masks = tmp_path / "masks"
    run_free_form_masks(masks, FreeFormSpec(style="box", height=80, width=80, invert=True), count=10)
    spec = PairSpec(size=64, masks=MaskSource(path=str(masks)), sketch=True)
    for sample in ShardedTrainingDataset(str(images / "train"), spec):
        hole = sample["mask"][0] > 0
        assert 0.1 < hole.mean() < 0.5  # a box of the inverted mask set, read back as holes
        assert not sample["sketch"][0][~hole].any()


def test_preview_grid_shows_a_row_per_sample(shards):
    from inpaint_data.pipelines.training.preview import pair_spec, preview_grid

    out, _ = shards
    grid, shown = preview_grid(str(out / "wds"), pair_spec(48, "box", None, False, seed=0), count=3)
    assert shown == 3 and grid.shape == (4 + 3 * (48 + 4), 4 + 2 * 48 + 4 + 4, 3)
    again, _ = preview_grid(str(out / "wds"), pair_spec(48, "box", None, False, seed=0), count=3)
    assert np.array_equal(grid, again)
