"""The edge job: HED (or Canny) edge maps for a folder of images or existing shards, one Ray task
per shard of images; the model is loaded once per worker process and reused across its tasks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

from ... import storage
from ...datasets.ecosystem import ContainerReader
from ...datasets.file_list import FILE_LIST, input_roots, listed
from ...datasets.image_inputs import image_entry_runs
from ...datasets.images import MAX_PIXELS, ImageError, decode_rgb
from ...datasets.manifest import listing_identity
from ...datasets.readers import shard_paths, shard_records
from ...datasets.records import IMAGE_EXTS, Sample, SampleError, key_seed
from .engine import run_job
from .job import JobOptions, JobResult
from .shards import ShardPlan, plan_file_list_shards, plan_inputs

PREFIX = "edges"
METHODS = ("hed", "canny")


@dataclass(frozen=True)
class EdgeSpec:
    method: str = "hed"
    weights: str | None = None  # None: the cached pretrained BSDS500 weights
    random_weights: bool = False  # tests only
    batch_size: int = 8
    device: str = "cpu"
    precision: str = "fp32"
    threads: int = 1  # torch threads per task
    canny_sigma: float | None = 2.0  # None: random 1..4 per image (EdgeConnect training)
    seed: int = 0
    max_pixels: int | None = MAX_PIXELS  # larger images are refused from their header


@lru_cache(maxsize=2)
def _model(weights: str | None, random_weights: bool):
    from ...models.hed_weights import load_hed

    return load_hed(weights, random_weights=random_weights)


def _inputs(plan: ShardPlan, max_pixels: int | None) -> Iterator[tuple[str, str, np.ndarray | None, str | None]]:
    """(key, source, RGB image or None, error or None) for each input of a shard."""
    if plan.source:  # an existing shard: its images, keyed as they are
        skipped: list[tuple[str, str]] = []
        for key, members in shard_records(plan.source, skipped):
            for where, reason in skipped:
                yield "", where, None, reason
            skipped.clear()
            ext = next((e for e in IMAGE_EXTS if e in members), None)
            if ext is None:
                continue
            try:
                yield key, f"{plan.source}:{key}", decode_rgb(members[ext], max_pixels), None
            except ImageError as e:
                yield key, f"{plan.source}:{key}", None, str(e)
        for where, reason in skipped:
            yield "", where, None, reason
        return
    reader = ContainerReader()  # img2dataset members too, each container read once
    for path, key in plan_inputs(plan):
        try:
            yield key, path, decode_rgb(reader.read(path), max_pixels), None
        except ImageError as e:
            yield key, path, None, str(e)
        except OSError as e:
            yield key, path, None, f"cannot read: {e.strerror or e}"


def edge_samples(plan: ShardPlan, spec: EdgeSpec) -> Iterator[Sample | SampleError]:
    """Edge maps (uint8, probability x 255) of one shard's images."""
    import torch

    from ...edges.canny import canny_edges, random_sigma
    from ...edges.sketch import edge_to_png_array
    from ...models.hed import detect_edges

    torch.set_num_threads(spec.threads)
    batch: list[tuple[str, str, np.ndarray]] = []

    def flush() -> Iterator[Sample]:
        if spec.method == "hed":
            edges = detect_edges(_model(spec.weights, spec.random_weights), [b[2] for b in batch],
                                 spec.batch_size, spec.device, spec.precision)
            maps = [edge_to_png_array(e) for e in edges]
        else:
            maps = []
            for key, _, image in batch:
                sigma = spec.canny_sigma
                if sigma is None:
                    sigma = random_sigma(np.random.default_rng([spec.seed, key_seed(key)]))
                maps.append(canny_edges(image, sigma))
        for (key, source, image), edge in zip(batch, maps):
            h, w = image.shape[:2]
            yield Sample(key=key, edge=edge, meta={"source": source, "height": h, "width": w, "method": spec.method})
        batch.clear()

    for key, source, image, error in _inputs(plan, spec.max_pixels):
        if error is not None:
            yield SampleError(source, error)
            continue
        batch.append((key, source, image))
        if len(batch) >= spec.batch_size * 4:
            yield from flush()
    if batch:
        yield from flush()


def input_shards(inputs: list[str]) -> list[str]:
    """The shards of `inputs` when it is one output folder of ours (an edge shard is then made
    per input shard); else none."""
    if len(inputs) == 1 and storage.is_dir(inputs[0]):
        try:
            return [str(s) for s in shard_paths(inputs[0])]
        except ValueError:
            return []
    return []


def run_edges(out_dir: str | Path, inputs: list[str], spec: EdgeSpec, *, options: JobOptions = JobOptions(),
              gpus_per_worker: float = 0.0, relist: bool = False) -> JobResult:
    """Edge maps for every input image (500 a shard by default), or a shard per input shard. The
    images are listed once into the output's file list (datasets.file_list), which a re-run reads
    instead of listing again (`relist`: list again; the job is then refused if they changed)."""
    if spec.method not in METHODS:
        raise ValueError(f"unknown edge method {spec.method!r}; expected one of {METHODS}")
    if spec.method == "hed":
        _model(spec.weights, spec.random_weights)  # fail fast on missing or mismatched weights
    shard_size = options.size(500)
    settings = {k: v for k, v in asdict(spec).items() if k not in ("device", "threads", "batch_size")}
    resources = {"num_cpus": spec.threads, **({"num_gpus": gpus_per_worker} if gpus_per_worker else {})}
    produce = partial(edge_samples, spec=spec)
    shards = input_shards(inputs)
    if shards:
        job = {"name": "edges", "format": options.fmt, "inputs": listing_identity(shards), "shard_size": shard_size,
               **settings}
        plans = [ShardPlan(i, 0, 0, shard) for i, shard in enumerate(shards)]
        return run_job(out_dir, job, plans, produce, prefix=PREFIX, options=options, resources=resources)
    root = storage.normalise(out_dir)
    request = {"inputs": [storage.absolute(i) for i in inputs]}
    roots = input_roots(inputs)
    with listed(lambda: image_entry_runs(inputs), {"": root}, shard_size, request, relist=relist, roots=roots) as lists:
        if not lists:
            raise FileNotFoundError(f"no images found in {inputs}")
        file_list, local = lists[""]
        if options.on_total is not None:
            options.on_total(file_list.count, "images")
        job = {"name": "edges", "format": options.fmt, "inputs": file_list.identity(), "shard_size": shard_size,
               **settings}
        plans = plan_file_list_shards(str(storage.join(root, FILE_LIST)), file_list.count, shard_size, roots=roots)
        return run_job(root, job, plans, produce, prefix=PREFIX, options=options, resources=resources,
                       input_list=(FILE_LIST, local))
