"""Training-time datasets: image shards paired with masks (from mask shards or drawn on the fly)
and optional sketches, as batches of {"image", "mask", "sketch", "key"}.

Every random choice of a sample comes from default_rng([seed, epoch, hash(key)]), so a sample
is the same whichever process reads it, worker or rank. An epoch visits
the shards in a permutation drawn from (seed, epoch); samples keep their order within a shard.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from ..edges.sketch import DEEPFILL_THRESHOLD
from ..maskgen.styles import STYLES, draw_mask
from .codec import decode_gray
from .geometry import crop, crop_box, resize_short_side
from .images import decode_rgb
from .readers import detect_format, iter_records, shard_paths, shard_records
from .records import EDGE_EXT, IMAGE_EXTS, MASK_EXT, key_seed


@dataclass(frozen=True)
class MaskSource:
    """Where masks come from: a mask output folder (`path`) or a style drawn on the fly."""

    style: str | None = None
    path: str | None = None

    def __post_init__(self):
        if (self.style is None) == (self.path is None):
            raise ValueError("give a mask style or a mask folder, not both")
        if self.style is not None and self.style not in STYLES:
            raise ValueError(f"unknown mask style {self.style!r}; expected one of {sorted(STYLES)}")


class MaskBank:
    """The encoded masks of a mask folder, in memory (a PNG mask is 1-5 KB), decoded on demand."""

    def __init__(self, path: str):
        self.masks = []
        for _, members in iter_records(path):
            if MASK_EXT in members:
                inverted = json.loads(members.get("json", b"{}")).get("hole_value", 255) == 0
                self.masks.append((members[MASK_EXT], inverted))
        if not self.masks:
            raise ValueError(f"{path} holds no masks")

    def get(self, index: int) -> np.ndarray:
        data, inverted = self.masks[index % len(self.masks)]
        mask = decode_gray(data)
        return 255 - mask if inverted else mask


@dataclass(frozen=True)
class PairSpec:
    """How an image is turned into a training sample."""

    size: int = 256
    masks: MaskSource = MaskSource(style="deepfill-train")
    sketch: bool = False
    sketch_threshold: float = DEEPFILL_THRESHOLD
    flip: bool = True
    seed: int = 0


def _mask_for(spec: PairSpec, bank: MaskBank | None, rng: np.random.Generator) -> np.ndarray:
    s = spec.size
    if bank is None:
        mask, _ = draw_mask(spec.masks.style, s, s, rng)
        return mask
    mask = bank.get(int(rng.integers(0, 2**31)))
    if min(mask.shape) < s:
        mask = resize_short_side(mask, s)
    top, left = crop_box(*mask.shape, s, "random", rng)
    mask = crop(mask, top, left, s)
    if rng.random() < 0.5:
        mask = mask[:, ::-1]
    if rng.random() < 0.5:
        mask = mask[::-1]
    return (mask > 127).astype(np.uint8) * 255


def make_sample(key: str, members: dict[str, bytes], spec: PairSpec, epoch: int, bank: MaskBank | None) -> dict:
    """One training sample from a shard record: numpy arrays in the model conventions."""
    rng = np.random.default_rng([spec.seed, epoch, key_seed(key)])
    ext = next((e for e in IMAGE_EXTS if e in members), None)
    if ext is None:
        raise ValueError(f"sample {key} has no image; give a folder of image shards (`inpaint-data shard`)")
    image = decode_rgb(members[ext])
    edge = decode_gray(members[EDGE_EXT]) if spec.sketch else None
    if spec.sketch and edge is None:
        raise ValueError(f"sample {key} has no edge map; shard with --edges or train without the sketch")
    s = spec.size
    if min(image.shape[:2]) < s:
        image = resize_short_side(image, s)
        edge = resize_short_side(edge, s) if edge is not None else None
    top, left = crop_box(*image.shape[:2], s, "random", rng)
    image = crop(image, top, left, s)
    edge = crop(edge, top, left, s) if edge is not None else None
    if spec.flip and rng.random() < 0.5:
        image = image[:, ::-1]
        edge = edge[:, ::-1] if edge is not None else None
    hole = _mask_for(spec, bank, rng) > 0
    out = {
        "key": key,
        "image": np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32) / 127.5 - 1.0,
        "mask": hole[None].astype(np.float32),
    }
    if edge is not None:
        out["sketch"] = ((edge.astype(np.float32) / 255.0 > spec.sketch_threshold) & hole)[None].astype(np.float32)
    return out


def epoch_shards(path: str, seed: int, epoch: int) -> list[Path]:
    """The shards of an image folder in this epoch's order."""
    shards = shard_paths(path, detect_format(path))
    order = np.random.default_rng([seed, epoch, 7]).permutation(len(shards))
    return [shards[i] for i in order]


class ShardedTrainingDataset(IterableDataset):
    """The plain PyTorch path: an IterableDataset over image shards, split between ranks and
    DataLoader workers (by shard when there are enough shards, else by sample), so that together
    they cover each epoch once. Call set_epoch(e) before each epoch."""

    def __init__(self, path: str, spec: PairSpec, rank: int = 0, world_size: int = 1):
        self.path, self.spec, self.rank, self.world_size = path, spec, rank, world_size
        self.epoch = 0
        self._bank: MaskBank | None = None
        self._stream: tuple[int, int, int] | None = None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self._stream = None

    def stream(self, epoch: int, batch: int, batches_per_epoch: int, batch_size: int) -> None:
        """Iterate without end, epoch after epoch, from batch `batch` of `epoch` on, for one
        DataLoader built once for a whole run (not one per epoch, which restarts its workers).

        Each epoch is its first `batches_per_epoch` batches, a multiple of the DataLoader
        workers, which take turns one batch each: so every worker yields the same share of each
        epoch, and the batches are those of a fresh loader per epoch. The samples of batches
        before `batch` are passed over without being decoded (a resumed run)."""
        self._stream = (epoch, batch, batches_per_epoch, batch_size)
        self.epoch = epoch

    def _records(self, epoch: int, worker: int, workers: int) -> Iterator[tuple[str, dict[str, bytes]]]:
        """The raw records of `epoch` for this rank's loader worker `worker` of `workers`, in order."""
        slot, slots = self.rank * workers + worker, self.world_size * workers
        shards = epoch_shards(self.path, self.spec.seed, epoch)
        by_shard = len(shards) >= slots
        position = 0
        for i, shard in enumerate(shards):
            if by_shard and i % slots != slot:
                continue
            for key, members in shard_records(shard):
                mine = by_shard or position % slots == slot
                position += 1
                if mine:
                    yield key, members

    def __iter__(self) -> Iterator[dict]:
        if self.spec.masks.path and self._bank is None:
            self._bank = MaskBank(self.spec.masks.path)
        info = get_worker_info()
        workers, worker = (info.num_workers, info.id) if info else (1, 0)
        if self._stream is None:
            for key, members in self._records(self.epoch, worker, workers):
                yield make_sample(key, members, self.spec, self.epoch, self._bank)
            return
        epoch, batch, per_epoch, batch_size = self._stream
        if per_epoch % workers:
            raise ValueError(f"{per_epoch} batches per epoch do not split over {workers} loader workers")
        # A fresh loader asks worker 0 first; resumed at `batch`, that batch is worker batch % workers's
        # in a per-epoch loader, so worker w plays that loader's worker (w + batch) % workers.
        role = (worker + batch) % workers
        while True:
            skipped = len(range(role, batch, workers)) * batch_size  # the samples of batches done
            share = per_epoch // workers * batch_size
            n = 0
            for n, (key, members) in enumerate(itertools.islice(self._records(epoch, role, workers), share), 1):
                if n > skipped:
                    yield make_sample(key, members, self.spec, epoch, self._bank)
            if n < share:
                raise RuntimeError(f"epoch {epoch} gave rank {self.rank}, loader worker {role} {n} samples "
                                   f"of the {share} it needs")
            epoch, batch = epoch + 1, 0


def collate(samples: list[dict]) -> dict:
    """Stack samples into a batch dict of tensors (keys as a list)."""
    batch = {"key": [s["key"] for s in samples]}
    for name in ("image", "mask", "sketch"):
        if name in samples[0]:
            batch[name] = torch.from_numpy(np.stack([s[name] for s in samples]))
    return batch
