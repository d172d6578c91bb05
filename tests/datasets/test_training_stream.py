"""One DataLoader for a whole run gives the batches of a fresh loader per epoch, and a resumed
run continues with the very next batch."""

import itertools

import cv2
import pytest
import torch
from skimage import data

from inpaint_data.datasets.torch import MaskSource, PairSpec, ShardedTrainingDataset, collate
from inpaint_data.pipelines.jobs.job import JobOptions
from inpaint_data.pipelines.jobs.shard import ShardSpec, run_shard_images

NAMES = ("astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "moon", "clock", "brick", "grass",
         "gravel", "colorwheel")


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    root = tmp_path_factory.mktemp("stream")
    (root / "images").mkdir()
    for name in NAMES:
        image = getattr(data, name)()
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image[..., :3]
        cv2.imwrite(str(root / "images" / f"{name}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    run_shard_images(root / "shards", [str(root / "images")], ShardSpec(size=32),
                     options=JobOptions(shard_size=2, workers=0))
    return str(root / "shards")


def _keys(batches):
    return [tuple(b["key"]) for b in batches]


@pytest.mark.parametrize("workers", [0, 2])
def test_stream_matches_a_loader_per_epoch_and_resumes_at_the_next_batch(shards, workers):
    spec = PairSpec(size=32, masks=MaskSource(style="box"))
    per_epoch, batch_size, epochs = 2, 2, 3  # 2 batches of 2 of the 12 images an epoch

    def loader(dataset):
        return torch.utils.data.DataLoader(dataset, batch_size=batch_size, num_workers=workers, collate_fn=collate,
                                           drop_last=True)

    dataset = ShardedTrainingDataset(shards, spec)
    expected = []
    for epoch in range(epochs):
        dataset.set_epoch(epoch)
        expected += list(itertools.islice(loader(dataset), per_epoch))
    dataset.stream(0, 0, per_epoch, batch_size)
    streamed = list(itertools.islice(loader(dataset), per_epoch * epochs))
    assert _keys(streamed) == _keys(expected)
    assert all(torch.equal(a["image"], b["image"]) and torch.equal(a["mask"], b["mask"])
               for a, b in zip(streamed, expected))
    dataset.stream(1, 1, per_epoch, batch_size)  # a run resumed after step 3
    assert _keys(itertools.islice(loader(dataset), 3)) == _keys(expected[3:6])
