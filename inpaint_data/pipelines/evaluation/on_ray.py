"""`eval` across a Ray cluster: the protocol's chunks of pairs as a Ray Data dataset, filled and
scored by `map_batches` on a pool of actors (each loads the model and the metric networks once,
on a GPU when the device is cuda), merged on the driver in pair order. The numbers are those of
the single-process path: the same chunks go through the same `score_pairs`."""

from __future__ import annotations

import pickle
from dataclasses import replace

import numpy as np
import ray

from ... import storage
from ...inference import parse_model
from ..ray_runtime import data_context
from .evaluate import CHUNK, EvalSpec, Evaluation, batch_filler, plan_chunks, score_pairs, spec_filler
from .scoring import FeatureScorer


class _ChunkScorer:
    """map_batches callable: rows {"chunk", "pairs"} -> {"chunk", "result"} (pickled Evaluations)."""

    def __init__(self, spec: EvalSpec, uses=None):
        self.spec = spec
        fill, fill_batch, _ = spec_filler(spec, uses)
        self.fill_batch = fill_batch or batch_filler(fill)
        self.scorer = FeatureScorer.from_weights(spec.weights, spec.device) if spec.weights else None

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        results = []
        for payload in batch["pairs"]:
            pairs = pickle.loads(payload)
            s = self.spec
            results.append(pickle.dumps(score_pairs(pairs, self.fill_batch, self.scorer, s.bins,
                                                    s.batch_size, s.keep_worst_best, s.max_pixels)))
        return {"chunk": batch["chunk"], "result": np.array(results, dtype=object)}


def evaluate_on_ray(images: str, masks: str, spec: EvalSpec, workers: int, chunk: int = CHUNK,
                    skipped: list[dict] | None = None, on_chunk=None, on_total=None) -> Evaluation:
    """Score on the connected Ray cluster with `workers` actors (one GPU each when the device is
    cuda). `on_total(n_pairs)` is called once planned, `on_chunk(n_pairs)` on the driver as chunks
    come back."""
    images, masks = storage.for_workers(images), storage.for_workers(masks)  # actors run in their own folder
    if spec.predictions:
        spec = replace(spec, predictions=storage.for_workers(spec.predictions))
    else:
        choice = parse_model(spec.model, spec.baseline)
        spec = replace(spec, model=spec.model and str(choice.at(storage.for_workers(choice.name))))
    spec = replace(spec, weights=spec.weights and replace(
        spec.weights, inception=storage.for_workers(spec.weights.inception),
        lpips_backbones={k: storage.for_workers(v) for k, v in spec.weights.lpips_backbones.items()},
        lpips_heads={k: storage.for_workers(v) for k, v in spec.weights.lpips_heads.items()}))
    chunks = plan_chunks(images, masks, skipped, spec.max_pixels, chunk, spec.image_names)
    uses = spec_filler(spec)[1].check_pairs([pair for pairs in chunks for pair in pairs]) if spec.predictions else None
    if on_total:
        on_total(sum(map(len, chunks)))
    rows = [{"chunk": i, "pairs": pickle.dumps(pairs)} for i, pairs in enumerate(chunks)]
    data_context().execution_options.preserve_order = True
    gpus = 1 if spec.device.startswith("cuda") else 0
    ds = ray.data.from_items(rows, override_num_blocks=max(1, len(rows))).map_batches(
        _ChunkScorer, fn_constructor_kwargs={"spec": spec, "uses": uses}, batch_size=1, num_gpus=gpus,
        compute=ray.data.ActorPoolStrategy(size=max(1, min(workers, len(rows)))))
    result, pending, next_chunk = Evaluation(), {}, 0
    for row in ds.iter_rows():
        pending[int(row["chunk"])] = pickle.loads(row["result"])
        if on_chunk:
            on_chunk(len(chunks[int(row["chunk"])]))
        while next_chunk in pending:  # cases in pair order, whatever order the chunks come back in
            result.extend(pending.pop(next_chunk), spec.keep_worst_best)
            next_chunk += 1
    if skipped is not None:
        skipped += result.skipped
    return result
