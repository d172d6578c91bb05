"""The image shard job: a folder tree, glob, list file or img2dataset output of images into
training shards, resized and cropped, optionally joined with edge maps by key, split into train
and val."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import numpy as np

from ... import storage
from ...datasets.codec import decode_gray, encode_image
from ...datasets.ecosystem import ContainerReader
from ...datasets.file_list import FILE_LIST, input_roots, listed
from ...datasets.geometry import crop, crop_box, resize_short_side
from ...datasets.image_inputs import image_entry_runs
from ...datasets.images import MAX_PIXELS, MAX_SIDE, ImageError, decode_rgb
from ...datasets.manifest import ManifestMismatch
from ...datasets.readers import detect_format, shard_paths, shard_records
from ...datasets.records import EDGE_EXT, META_EXT, Sample, SampleError, key_seed
from ...errors import InputError
from ...fileio import redact
from .engine import run_job
from .job import JobOptions, JobResult, combine
from .shards import ShardPlan, plan_file_list_shards, plan_inputs

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


def in_validation(key: str, fraction: float, seed: int) -> bool:
    """Deterministic split: a key's hash with the seed decides, whatever the order or workers."""
    if fraction <= 0:
        return False
    digest = hashlib.sha1(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little") / 2**64 < fraction


class EdgeIndex:
    """Which edge shard holds the edge map of each source image of an edges output folder, in
    20 bytes an image (a 16-byte hash of the source the edge record names and a shard number,
    sorted numpy arrays), so that joining 10 million images with their edge maps does not hold
    10 million strings on the driver. Images are joined by what they are (their location, as
    the edges job recorded it), not by key: two jobs that listed other files give other keys."""

    def __init__(self, edges_dir: str):
        self.shards = [str(s) for s in shard_paths(edges_dir, detect_format(edges_dir))]
        hashes: list[bytes] = []
        numbers: list[int] = []
        for number, shard in enumerate(self.shards):
            for _, members in shard_records(shard):
                if EDGE_EXT in members and META_EXT in members:
                    hashes.append(_key_digest(_edge_source(members)))
                    numbers.append(number)
        keys = np.frombuffer(b"".join(hashes), "S16")
        order = np.argsort(keys, kind="stable")
        self.keys, self.numbers = keys[order], np.asarray(numbers, np.int32)[order]

    def shards_of(self, sources: list[str]) -> list[str]:
        """The edge shard of each source image ("" for one without an edge map)."""
        wanted = np.frombuffer(b"".join(_key_digest(redact(s)) for s in sources), "S16")
        at = np.minimum(np.searchsorted(self.keys, wanted), max(len(self.keys) - 1, 0))
        found = (self.keys[at] == wanted) if len(self.keys) else np.zeros(len(sources), bool)
        return [self.shards[self.numbers[i]] if hit else "" for i, hit in zip(at.tolist(), found.tolist())]


def _key_digest(key: str) -> bytes:
    return hashlib.blake2b(key.encode(), digest_size=16).digest()


def _edge_source(members: dict[str, bytes]) -> str:
    """The image an edge record was made from (its json's `source`, as the edges job wrote it)."""
    try:
        return str(json.loads(members[META_EXT]).get("source", ""))
    except ValueError:
        return ""


def _edges_for(inputs: list[tuple]) -> dict[str, bytes]:
    """key -> edge map bytes of the inputs (path, key[, edge shard]) that have one, matched by
    the source image the edge record names."""
    wanted: dict[str, dict[str, str]] = {}
    for path, key, *extra in inputs:
        if extra and extra[0]:
            wanted.setdefault(extra[0], {})[redact(path)] = key
    found = {}
    for shard, keys in wanted.items():
        for _, members in shard_records(shard):
            key = keys.get(_edge_source(members)) if EDGE_EXT in members else None
            if key is not None:
                found[key] = members[EDGE_EXT]
    return found


def image_samples(plan: ShardPlan, spec: ShardSpec) -> Iterator[Sample | SampleError]:
    """Resized, cropped, re-encoded images (kept as they are when nothing changes) with edges."""
    inputs = plan_inputs(plan)
    edges = _edges_for(inputs)
    edges_wanted = bool(plan.items)  # the job was given --edges (each row then carries its edge shard or "")
    reader = ContainerReader()
    for path, key, *_ in inputs:
        try:
            data = reader.read(path)
            image = decode_rgb(data, spec.max_pixels)
        except (OSError, ImageError) as e:
            yield SampleError(path, str(e) if isinstance(e, ImageError) else f"cannot read: {e}")
            continue
        h0, w0 = image.shape[:2]
        if edges_wanted and key not in edges:
            yield SampleError(path, "kept without an edge map: the --edges folder has none made from this image")
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
                     val_fraction: float = 0.0, options: JobOptions = JobOptions(), relist: bool = False) -> JobResult:
    """Shard the images into `out_dir` (1000 a shard by default), or into `out_dir`/train and /val
    with a validation fraction (the result's `parts`). The inputs are listed once into a file
    list per part (datasets.file_list), which a re-run reads instead of listing again (`relist`:
    list again; the job is then refused if they changed)."""
    if spec.crop not in CROPS:
        raise ValueError(f"unknown crop {spec.crop!r}; expected one of {CROPS}")
    if spec.size is not None and not 0 < spec.size <= MAX_SIDE:
        raise InputError(f"size {spec.size}: a side from 1 to {MAX_SIDE} px")
    root = storage.normalise(out_dir)
    if val_fraction > 0 and any(name not in ("train", "val") for name in storage.list_names(root)):
        raise ManifestMismatch(f"{root} is not empty and is not an inpaint-data shard folder; "
                               "choose a new or empty --out")
    parts = ("train", "val") if val_fraction > 0 else ("",)
    targets = {part: storage.join(root, part) if part else root for part in parts}
    shard_size = options.size(1000)
    request = {"inputs": [storage.absolute(i) for i in inputs], "val_fraction": val_fraction, "seed": spec.seed}

    def part_of(key: str) -> str:
        return ("val" if in_validation(key, val_fraction, spec.seed) else "train") if val_fraction > 0 else ""

    edges = EdgeIndex(edges_dir) if edges_dir else None
    results = {}
    roots = input_roots(inputs)
    with listed(lambda: image_entry_runs(inputs), targets, shard_size, request, part_of, relist, roots) as lists:
        if not lists:
            raise FileNotFoundError(f"no images found in {inputs}")
        if options.on_total is not None:
            options.on_total(sum(file_list.count for file_list, _ in lists.values()), "images")
        for part, (file_list, local) in lists.items():
            target = targets[part]
            location = storage.join(target, FILE_LIST)
            job = {"name": "shard-images", "format": options.fmt, "split": part or "train",
                   "inputs": file_list.identity(), "edges": storage.absolute(edges_dir) if edges_dir else None,
                   "shard_size": shard_size, "val_fraction": val_fraction, **asdict(spec)}
            edge_shards = (lambda plan: edges.shards_of([path for path, _ in plan_inputs(plan)])) if edges else None
            plans = plan_file_list_shards(str(location), file_list.count, shard_size, edge_shards, roots)
            results[part or "train"] = run_job(target, job, plans, partial(image_samples, spec=spec), prefix=PREFIX,
                                               options=options, input_list=(FILE_LIST, local))
    return results["train"] if val_fraction <= 0 else combine(root, results)
