"""Evaluation as the papers report it: every test image paired with a fixed mask, filled, and
scored on the composite per hole-ratio bin (NVIDIA's, LaMa's or CoModGAN's), with and without
border holes: L1, L2, PSNR, SSIM per image, LPIPS per image, FID and P-IDS / U-IDS per row."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ... import storage
from ...datasets.images import MAX_PIXELS, write_image
from ...errors import InputError
from ...fileio import dumps_json
from ...inference import describe_filler, make_filler, without_hole
from ...maskgen.ratios import bin_labels, hole_ratio, ratio_bin, touches_border
from ...metrics import l1, l1_hole, l2, psnr, ssim
from ...report import image_grid
from ...set_metrics import fid, inception_discriminative_scores
from .data import ImageRef, PackedMask, fit_image, list_images, load_masks, named_images, pair_chunks, read_images
from .predictions import SavedPredictions
from .scoring import FeatureScorer, MetricWeights

GROUPS = ("all", "border", "no border")
#: PSNR of a fill equal to the truth is infinite; it is reported as this many dB (JSON has no inf).
PSNR_CAP = 100.0


@dataclass(frozen=True)
class EvalSpec:
    """What every actor needs to fill and score: the filler, the metric weights, the protocol."""

    model: str | None = None
    baseline: str | None = None
    weights: MetricWeights | None = None
    device: str = "cpu"
    bins: str = "nvidia"
    batch_size: int = 16
    keep_worst_best: int = 4
    max_pixels: int | None = MAX_PIXELS
    trust_code: bool = False  # a torchscript: model runs only with the user's consent
    predictions: str | None = None  # a folder of images another tool saved (predictions.py)
    image_names: tuple[str, ...] | None = None  # only these files of the image folder, in this order (protocols.py)


def spec_filler(spec: EvalSpec, uses=None):
    """(fill, fill_batch, filler) of `spec`: its model or baseline (inference.make_filler), or
    its saved predictions (fill None, fill_batch the SavedPredictions; `uses` from its check_pairs)."""
    if spec.predictions is not None:
        if spec.model or spec.baseline:
            raise InputError("give one of --model, --baseline and --predictions")
        saved = SavedPredictions(spec.predictions, spec.max_pixels, uses)
        return None, saved, saved
    return make_filler(spec.model, spec.baseline, spec.device, spec.trust_code)


def describe_spec(spec: EvalSpec, filler) -> str:
    """What was scored, for the report: `predictions DIR`, or the model or baseline."""
    return f"predictions {spec.predictions}" if spec.predictions else describe_filler(spec.model, spec.baseline, filler)


@dataclass
class Case:
    key: str
    mask_key: str
    ratio: float
    bin: int | None
    border: bool
    metrics: dict[str, float]


@dataclass
class Evaluation:
    """The scored cases in pair order, the (input | output | truth) strips of the worst and best
    by PSNR, per feature network the features of the truths and of the composites (rows as
    cases), and the unreadable inputs."""

    cases: list[Case] = field(default_factory=list)
    strips: list[tuple[Case, np.ndarray]] = field(default_factory=list)
    #: name -> (truth feature batches, composite feature batches), stacked once by `features`
    feature_batches: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = field(default_factory=dict)
    skipped: list[dict] = field(default_factory=list)

    def add_features(self, name: str, real: list[np.ndarray], fake: list[np.ndarray]) -> None:
        mine = self.feature_batches.setdefault(name, ([], []))
        mine[0].extend(real)
        mine[1].extend(fake)

    def features(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """name -> (N x D truth features, N x D composite features), rows as cases."""
        return {name: (np.concatenate(real), np.concatenate(fake))
                for name, (real, fake) in self.feature_batches.items()}

    def extend(self, other: "Evaluation", keep: int) -> None:
        """Append a later chunk's evaluation (its cases follow ours)."""
        self.cases += other.cases
        self.strips = extremes(self.strips + other.strips, keep)
        for name, (real, fake) in other.feature_batches.items():
            self.add_features(name, real, fake)
        seen = {s["path"] for s in self.skipped}
        self.skipped += [s for s in other.skipped if s["path"] not in seen]


def extremes(strips: list, keep: int) -> list:
    """The `keep` worst and `keep` best strips by PSNR (all when there are few)."""
    strips = sorted(strips, key=lambda t: t[0].metrics["psnr"])
    return strips[:keep] + strips[-keep:] if len(strips) > 2 * keep else strips


def batch_filler(fill: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable:
    """fill(image, hole) -> fill_batch(images, holes), one image after the other."""
    def fill_batch(images, holes):
        return np.stack([fill(image, hole) for image, hole in zip(images, holes)])
    return fill_batch


def score_pairs(pairs: list[tuple[ImageRef, PackedMask]], fill_batch: Callable, scorer: FeatureScorer | None = None,
                bins: str = "nvidia", batch_size: int = 16, keep_worst_best: int = 4,
                max_pixels: int | None = MAX_PIXELS) -> Evaluation:
    """Fill and score (image, mask) pairs, `batch_size` of one mask size at a time; images are
    resized and centre-cropped to their mask's size, unreadable ones skipped (and recorded)."""
    result = Evaluation()
    batch: list = []
    for (ref, image, reason), (_, mask) in zip(read_images([ref for ref, _ in pairs], max_pixels), pairs):
        if image is None:
            where = f"{ref.path}:{ref.key}" if ref.shard else ref.path
            if where not in {s["path"] for s in result.skipped}:
                result.skipped.append({"path": where, "reason": reason})
            continue
        if batch and (len(batch) == batch_size or mask.shape != batch[0][2].shape):
            _score_batch(batch, fill_batch, scorer, bins, result)
            result.strips = extremes(result.strips, keep_worst_best)
            batch = []
        batch.append((ref.key, fit_image(image, *mask.shape), mask))
    if batch:
        _score_batch(batch, fill_batch, scorer, bins, result)
        result.strips = extremes(result.strips, keep_worst_best)
    return result


def _score_batch(batch, fill_batch, scorer, bins, result: Evaluation) -> None:
    holes = np.stack([m.hole() for _, _, m in batch])
    truths = np.stack([image for _, image, _ in batch])
    # the filler sees no pixel of the hole; the known pixels of what it returns are the truth's
    blind = without_hole(truths, holes)
    fills = (fill_batch(blind, holes, [(key, mask.key) for key, _, mask in batch])
             if getattr(fill_batch, "takes_pairs", False) else fill_batch(blind, holes))
    filled = np.where(holes[..., None], fills, truths)
    extra = scorer.score(truths, filled) if scorer else {}
    for name, (real, fake) in extra.pop("features", {}).items():
        result.add_features(name, [real], [fake])
    for i, (key, _, mask) in enumerate(batch):
        truth, out, hole = truths[i], filled[i], holes[i]
        ratio = hole_ratio(hole)
        case = Case(key, mask.key, ratio, ratio_bin(ratio, bins), touches_border(hole.astype(np.uint8)), {
            "l1": 100 * l1(out, truth), "l2": 100 * l2(out, truth), "psnr": min(psnr(out, truth), PSNR_CAP),
            "ssim": ssim(out, truth), "l1_hole": 100 * l1_hole(out, truth, hole),
            **{name: float(values[i]) for name, values in extra.items()}})
        result.cases.append(case)
        masked = truth.copy()
        masked[hole] = 255
        result.strips.append((case, np.hstack([masked, out, truth])))


#: Pairs read, filled and scored as one unit (one Ray Data row on a cluster).
CHUNK = 64


def plan_chunks(images: str, masks: str, skipped: list[dict] | None = None, max_pixels: int | None = MAX_PIXELS,
                chunk: int = CHUNK, names: tuple[str, ...] | None = None) -> list[list[tuple[ImageRef, PackedMask]]]:
    """The pairs of the protocol (pair k: image k mod N, mask k mod M, both in key order) in
    chunks; with `names`, the images are those files of the folder `images`, in that order."""
    refs = list_images(images) if names is None else named_images(images, names)
    mask_list = load_masks(masks, skipped, max_pixels)
    return [[(refs[i], mask_list[m]) for _, i, m in run] for run in pair_chunks(len(refs), len(mask_list), chunk)]


def evaluate(images: str, masks: str, fill: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
             keep_worst_best: int = 4, skipped: list[dict] | None = None, max_pixels: int | None = MAX_PIXELS,
             fill_batch: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None, batch_size: int = 16,
             bins: str = "nvidia", scorer: FeatureScorer | None = None, on_chunk=None, on_total=None,
             names: tuple[str, ...] | None = None) -> Evaluation:
    """Score a filler in this process on max(images, masks) pairs: pair k is image k mod N with
    mask k mod M, both in key order (so a few images can cover a whole mask set).
    `fill(image, hole) -> filled uint8` fills one image, `fill_batch(images, holes)` a batch of
    one size. Memory: one chunk of images, the masks at one bit a pixel, and per case the
    scorer's features. Unreadable images and masks are left out and appended to `skipped`.
    `on_total(n_pairs)` is called once planned, `on_chunk(n_pairs)` after each chunk (progress)."""
    fill_batch = fill_batch or batch_filler(fill)
    result = Evaluation()
    chunks = plan_chunks(images, masks, skipped, max_pixels, names=names)
    if hasattr(fill_batch, "check_pairs"):
        fill_batch.check_pairs([pair for pairs in chunks for pair in pairs])
    if on_total:
        on_total(sum(map(len, chunks)))
    for pairs in chunks:
        result.extend(score_pairs(pairs, fill_batch, scorer, bins, batch_size, keep_worst_best, max_pixels),
                      keep_worst_best)
        if on_chunk:
            on_chunk(len(pairs))
    if skipped is not None:
        skipped += result.skipped
    return result


#: Per-case metrics averaged in each row (those present), and the set metrics after them.
CASE_METRICS = ("l1", "l2", "psnr", "ssim", "l1_hole", "lpips_alex", "lpips_vgg")
SET_METRICS = ("fid", "p_ids", "u_ids", "lpips_fid100_f1")


def lpips_fid100_f1(lpips: float, fid: float, fid_scale: float = 100.0) -> float:
    """LaMa's summary of a row (saicinpainting/evaluation/evaluator.py, `lpips_fid100_f1`): the
    harmonic mean of 1 - LPIPS (VGG, as its LPIPSScore) and max(0, 100 - FID) / 100, with its
    1e-3 in the denominator."""
    neg_lpips = 1 - lpips
    fid_rel = max(0.0, fid_scale - fid) / fid_scale
    return 2 * neg_lpips * fid_rel / (neg_lpips + fid_rel + 1e-3)


def summarise(cases: list[Case], bins: str = "nvidia",
              features: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> list[dict]:
    """Rows per (bin, group) with the mean per-case metrics and, with Inception features, FID
    (at least 2 cases) and P-IDS / U-IDS of the row's cases in the "all" group (the papers do
    not split them by border), and LaMa's lpips_fid100_f1 there with LPIPS VGG too; bins with no
    case are left out."""
    rows = []
    labels = bin_labels(bins)
    inception = (features or {}).get("inception")
    for b, label in [*enumerate(labels), (None, "all bins")]:
        for group in GROUPS:
            chosen = [i for i, c in enumerate(cases) if (b is None or c.bin == b)
                      and (group == "all" or c.border == (group == "border"))]
            if not chosen:
                continue
            row = {"bin": label, "group": group, "count": len(chosen)}
            for name in CASE_METRICS:
                if name in cases[chosen[0]].metrics:
                    row[name] = float(np.mean([cases[i].metrics[name] for i in chosen]))
            if inception is not None and group == "all":
                real, fake = inception[0][chosen], inception[1][chosen]
                row["fid"] = fid(real, fake) if len(chosen) >= 2 else None
                row["p_ids"], row["u_ids"] = inception_discriminative_scores(real, fake)
                if row["fid"] is not None and "lpips_vgg" in row:
                    row["lpips_fid100_f1"] = lpips_fid100_f1(row["lpips_vgg"], row["fid"])
            rows.append(row)
    return rows


#: The files of an evaluation report.
REPORT_FILES = ("metrics.json", "metrics.csv", "worst_best.png")


def _is_our_report(metrics_json: storage.Location) -> bool:
    try:
        report = storage.read_json(metrics_json)
    except (OSError, ValueError):  # a folder, or not JSON (UnicodeDecodeError is a ValueError)
        return False
    return isinstance(report, dict) and {"rows", "cases"} <= set(report)


def check_report_folder(out_dir: str | Path, overwrite: bool = False) -> None:
    """Raise InputError when `out_dir` holds a report file that no evaluation of ours wrote (our
    metrics.json has `rows` and `cases`; beside it the other report files are ours too), unless
    `overwrite`. Called before any work, and again before writing."""
    if overwrite or storage.is_file(out_dir) or not storage.is_dir(out_dir):
        return
    present = [name for name in REPORT_FILES if name in storage.list_names(out_dir)]
    if present and not _is_our_report(storage.join(out_dir, "metrics.json")):
        raise InputError(f"{storage.redact(str(out_dir))} holds {', '.join(present)} not written by inpaint-data "
                         "eval; give --overwrite to replace them, or choose another --out")


def write_report(out_dir: str | Path, rows: list[dict], cases: list[Case], strips, info: dict,
                 overwrite: bool = False) -> None:
    """metrics.json (strict JSON: PSNR capped at PSNR_CAP, any other non-finite value null),
    metrics.csv and worst_best.png, each written under a temporary name and renamed (a local
    folder or a URL, see storage). Report files not of ours are replaced only with `overwrite`."""
    check_report_folder(out_dir, overwrite)
    storage.make_dirs(out_dir)
    report = {**info, "rows": rows, "cases": [c.__dict__ for c in cases]}
    storage.write_bytes(storage.join(out_dir, "metrics.json"), dumps_json(report, indent=2).encode())
    table = io.StringIO()
    names = [n for n in (*CASE_METRICS, *SET_METRICS) if any(n in row for row in rows)]  # set metrics: "all" rows
    writer = csv.DictWriter(table, fieldnames=["bin", "group", "count", *names])
    writer.writeheader()
    writer.writerows(rows)
    storage.write_bytes(storage.join(out_dir, "metrics.csv"), table.getvalue().encode())
    if strips:
        grid = image_grid([[strip] for _, strip in strips], background=255)
        write_image(storage.join(out_dir, "worst_best.png"), grid)
