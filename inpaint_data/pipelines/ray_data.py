"""The Ray Data path of the training datasets (for Ray Train): the same samples as
datasets.torch.ShardedTrainingDataset, in the same order, read with Ray Data's readers."""

from __future__ import annotations

import numpy as np
import ray
import torch

from ..datasets.codec import row_to_members
from ..datasets.readers import detect_format
from ..datasets.torch import MaskBank, PairSpec, epoch_shards, make_sample


def ray_training_dataset(path: str, spec: PairSpec, epoch: int = 0):
    """The Ray Data path (for Ray Train): the same samples as ShardedTrainingDataset, in the same
    order, as a ray.data.Dataset of numpy columns image, mask, (sketch), key."""
    fmt = detect_format(path)
    files = [str(p) for p in epoch_shards(path, spec.seed, epoch)]
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    if fmt == "webdataset":
        ds = ray.data.read_webdataset(files, decoder=None, override_num_blocks=len(files))
    elif fmt == "parquet":
        ds = ray.data.read_parquet(files, override_num_blocks=len(files))
    else:
        raise ValueError("the Ray Data path reads webdataset or parquet shards; re-shard the files format")
    return ds.map_batches(_RayPairing, fn_constructor_kwargs={"spec": spec, "epoch": epoch, "fmt": fmt},
                          batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=1))


class _RayPairing:
    """map_batches callable: raw shard rows to training samples (holds the mask bank)."""

    def __init__(self, spec: PairSpec, epoch: int, fmt: str):
        self.spec, self.epoch, self.fmt = spec, epoch, fmt
        self.bank = MaskBank(spec.masks.path) if spec.masks.path else None

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        n = len(next(iter(batch.values())))
        samples = []
        for i in range(n):
            row = {name: column[i] for name, column in batch.items()}
            if self.fmt == "parquet":
                key = row["key"]
                members = row_to_members(row)
            else:
                key = row["__key__"]
                members = {k: v for k, v in row.items() if not k.startswith("__") and v is not None}
            samples.append(make_sample(str(key), members, self.spec, self.epoch, self.bank))
        out = {name: np.stack([s[name] for s in samples]) for name in samples[0] if name != "key"}
        out["key"] = np.array([s["key"] for s in samples])
        return out


def ray_batch_to_torch(batch: dict[str, np.ndarray]) -> dict:
    """collate_fn for Dataset.iter_torch_batches: the same batch dict as `collate` (the string
    keys stay a list, which Ray cannot turn into a tensor)."""
    out = {"key": [str(k) for k in batch["key"]]}
    for name in ("image", "mask", "sketch"):
        if name in batch:
            out[name] = torch.from_numpy(np.ascontiguousarray(batch[name]))
    return out
