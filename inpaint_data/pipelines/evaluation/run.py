"""`run_evaluation`, the one entry point of `eval` (the CLI and the demo call it): checks the
report folder, the filler and the metric weights before any work, scores in this process or on
Ray actors (`options.workers`), and writes metrics.json, metrics.csv and worst_best.png."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ... import storage
from ...errors import InputError
from ..options import RunOptions
from .evaluate import EvalSpec, check_report_folder, describe_spec, evaluate, spec_filler, summarise, write_report
from .scoring import FeatureScorer, MetricWeights, check_weights, missing_metrics


@dataclass
class EvalReport:
    """A finished evaluation: what was scored (`filler`), the table's rows, how many image/mask
    pairs, the inputs skipped, and the learned metrics left out (each with the flag that adds it)."""

    out_dir: storage.Location
    filler: str
    rows: list[dict]
    cases: int
    skipped: list[dict] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)


def run_evaluation(images: str, masks: str, out_dir: storage.Location, spec: EvalSpec,
                   options: RunOptions = RunOptions(workers=0), overwrite: bool = False) -> EvalReport:
    """Score `spec`'s filler on `images` x `masks` and write the report to `out_dir`.

    workers 0 (or None): in this process; N: N Ray actors on the cluster of `options.ray_address`,
    the same numbers. `options.on_total(pairs)` is called once planned and `options.on_progress(n)`
    as pairs are scored. InputError (a ValueError) for anything the user gave that cannot be used,
    before any work; `inference.FillerError` when the model file does not load.
    """
    check_report_folder(out_dir, overwrite)
    fill, fill_batch, filler = spec_filler(spec)
    weights = spec.weights or MetricWeights()
    learned = bool(weights.inception or weights.lpips_backbones)
    skipped: list[dict] = []
    try:  # the files are checked before any work; Ray actors build their own networks
        if options.workers:
            if learned:
                check_weights(weights)
        else:
            scorer = FeatureScorer.from_weights(weights, spec.device) if learned else None
    except FileNotFoundError as e:
        raise InputError(str(e)) from None
    if options.workers:
        from ..ray_runtime import init_ray
        from .on_ray import evaluate_on_ray

        init_ray(options.ray_address)
        result = evaluate_on_ray(images, masks, replace(spec, weights=weights if learned else None), options.workers,
                                 skipped=skipped, on_chunk=options.progress, on_total=options.total)
    else:
        result = evaluate(images, masks, fill, keep_worst_best=spec.keep_worst_best, skipped=skipped,
                          max_pixels=spec.max_pixels, fill_batch=fill_batch, batch_size=spec.batch_size,
                          bins=spec.bins, scorer=scorer, on_chunk=options.progress, on_total=options.total,
                          names=spec.image_names)
    if not result.cases:
        raise InputError(f"no readable images in {images}")
    what = describe_spec(spec, filler)
    rows = summarise(result.cases, spec.bins, result.features())
    write_report(out_dir, rows, result.cases, result.strips,
                 {"images": images, "masks": masks, "filler": what, "bins": spec.bins, "skipped": skipped}, overwrite)
    return EvalReport(out_dir, what, rows, len(result.cases), skipped, missing_metrics(weights))
