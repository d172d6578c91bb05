"""The image shard job: a folder tree, glob, list file or img2dataset output of images into
training shards, resized and cropped, optionally joined with edge maps by key, split into train
and val."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import numpy as np

from .. import storage
from ..datasets.codec import decode_gray, encode_image
from ..datasets.ecosystem import ContainerReader, img2dataset_images, is_img2dataset_folder
from ..datasets.geometry import crop, crop_box, resize_short_side
from ..datasets.images import MAX_PIXELS, ImageError, decode_rgb, find_images
from ..datasets.manifest import ManifestMismatch, listing_identity
from ..datasets.readers import detect_format, shard_paths, shard_records
from ..datasets.records import EDGE_EXT, Sample, SampleError, key_seed
from .job import JobOptions, JobResult, combine, run_job
from .shards import ShardPlan, plan_item_shards

PREFIX = "images"
CROPS = ("center", "random", "none")


@dataclass(frozen=True)
class ShardSpec:
    size: int | None = 256  # short side; None keeps the images as they are
    crop: str = "center"
    ext: str = "jpg"
    quality: int = 95
    seed: int = 0
    max_pixels: int | None = MAX_PIXELS  # larger images are refused from their header


def expand_inputs(inputs: list[str]) -> list[str]:
    """Text files (.txt, .lst) name one image per line; everything else is passed through."""
    out: list[str] = []
    for item in inputs:
        if item.lower().endswith((".txt", ".lst")) and storage.is_file(item):
            out.extend(line.strip() for line in storage.read_bytes(item).decode().splitlines() if line.strip())
        else:
            out.append(item)
    return out


def list_inputs(inputs: list[str]) -> list[tuple[str, str]]:
    """(address, key) of every image: img2dataset output folders through their shards, the rest
    through find_images (files, folders, globs)."""
    ecosystem = [item for item in inputs if is_img2dataset_folder(item)]
    plain = [item for item in inputs if item not in ecosystem]
    found = [pair for folder in ecosystem for pair in img2dataset_images(folder)]
    return sorted(found + (find_images(plain) if plain else []), key=lambda t: t[0])


def in_validation(key: str, fraction: float, seed: int) -> bool:
    """Deterministic split: a key's hash with the seed decides, whatever the order or workers."""
    if fraction <= 0:
        return False
    digest = hashlib.sha1(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little") / 2**64 < fraction


def edge_index(edges_dir: str) -> dict[str, str]:
    """key -> edge shard path of an edges output folder (keys only are read)."""
    index = {}
    for shard in shard_paths(edges_dir, detect_format(edges_dir)):
        for key, members in shard_records(shard):
            if EDGE_EXT in members:
                index[key] = str(shard)
    return index


def _edges_for(items) -> dict[str, bytes]:
    wanted: dict[str, set[str]] = {}
    for _, key, edge_shard in items:
        if edge_shard:
            wanted.setdefault(edge_shard, set()).add(key)
    found = {}
    for shard, keys in wanted.items():
        for key, members in shard_records(shard):
            if key in keys:
                found[key] = members[EDGE_EXT]
    return found


def image_samples(plan: ShardPlan, spec: ShardSpec) -> Iterator[Sample | SampleError]:
    """Resized, cropped, re-encoded images (kept as they are when nothing changes) with edges."""
    edges = _edges_for(plan.items)
    reader = ContainerReader()
    for path, key, _ in plan.items:
        try:
            data = reader.read(path)
            image = decode_rgb(data, spec.max_pixels)
        except (OSError, ImageError) as e:
            yield SampleError(path, str(e) if isinstance(e, ImageError) else f"cannot read: {e}")
            continue
        h0, w0 = image.shape[:2]
        try:
            edge = decode_gray(edges[key]) if key in edges else None
        except ValueError as e:
            yield SampleError(path, f"edge map: {e}")
            continue
        if edge is not None and edge.shape != (h0, w0):
            yield SampleError(path, f"edge map {edge.shape} does not match the image {(h0, w0)}")
            continue
        out = image
        if spec.size:
            out = resize_short_side(image, spec.size)
            edge = resize_short_side(edge, spec.size) if edge is not None else None
            if spec.crop != "none":
                rng = np.random.default_rng([spec.seed, key_seed(key)])
                top, left = crop_box(*out.shape[:2], spec.size, spec.crop, rng)
                out = crop(out, top, left, spec.size)
                edge = crop(edge, top, left, spec.size) if edge is not None else None
        original_ext = "jpg" if data[:2] == b"\xff\xd8" else "png" if data[:4] == b"\x89PNG" else None
        unchanged = out.shape == image.shape and original_ext == spec.ext
        encoded = data if unchanged else encode_image(out, spec.ext, jpeg_quality=spec.quality, png_level=3)
        h, w = out.shape[:2]
        meta = {"source": path, "height": h, "width": w, "source_height": h0, "source_width": w0,
                "reencoded": not unchanged}
        yield Sample(key=key, image=encoded, image_ext=spec.ext, edge=edge, meta=meta)


def run_shard_images(out_dir: str | Path, inputs: list[str], spec: ShardSpec, *, edges_dir: str | None = None,
                     val_fraction: float = 0.0, options: JobOptions = JobOptions()) -> JobResult:
    """Shard the images into `out_dir` (1000 a shard by default), or into `out_dir`/train and /val
    with a validation fraction (the result's `parts`)."""
    if spec.crop not in CROPS:
        raise ValueError(f"unknown crop {spec.crop!r}; expected one of {CROPS}")
    images = list_inputs(expand_inputs(inputs))
    if not images:
        raise FileNotFoundError(f"no images found in {inputs}")
    edges = edge_index(edges_dir) if edges_dir else {}
    splits: dict[str, list] = {"train": [], "val": []}
    for path, key in images:
        split = "val" if in_validation(key, val_fraction, spec.seed) else "train"
        splits[split].append((path, key, edges.get(key, "")))
    root = storage.normalise(out_dir)
    if val_fraction > 0 and any(name not in ("train", "val") for name in storage.list_names(root)):
        raise ManifestMismatch(f"{root} is not empty and is not an inpaint-data shard folder; "
                               "choose a new or empty --out")
    shard_size = options.size(1000)
    results = {}
    for name, items in splits.items():
        if not items or (name == "val" and val_fraction <= 0):
            continue
        target = storage.join(root, name) if val_fraction > 0 else root
        job = {"name": "shard-images", "format": options.fmt, "split": name,
               "inputs": listing_identity(sorted(f"{p}\t{k}" for p, k, _ in items)),
               "edges": storage.absolute(edges_dir) if edges_dir else None, "shard_size": shard_size,
               "val_fraction": val_fraction, **asdict(spec)}
        results[name] = run_job(target, job, plan_item_shards(items, shard_size), partial(image_samples, spec=spec),
                                prefix=PREFIX, options=options)
    return results["train"] if val_fraction <= 0 else combine(root, results)
