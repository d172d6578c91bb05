"""Training on Ray Train: `run_training(TrainConfig)` builds a TorchTrainer (DDP over CPU or GPU
workers) whose loop reads the image shards through the PyTorch path of datasets/torch.py, logs
to metrics.jsonl and TensorBoard, validates on a fixed set, and checkpoints; re-running with the
same `out` resumes. `workers=0` runs the same loop in this process, for debugging."""

from __future__ import annotations

import json
import logging
import math
import tempfile
import time
import types
import typing
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from ..datasets.images import write_image
from ..datasets.manifest import output_lock
from ..datasets.readers import detect_format, shard_paths
from ..datasets.torch import MaskSource, PairSpec, ShardedTrainingDataset, collate
from ..errors import InputError
from ..fileio import atomic_write_bytes, dumps_json
from ..metrics import l1, psnr, ssim
from ..models.exported import EXPORT_FORMAT
from ..models.files import load_pt, save_pt
from .train_steps import DEFAULTS, build_trainee, model_config, unwrap

log = logging.getLogger("inpaint_data.train")
MODELS = ("pconv", "deepfillv2")
STATE_FILE = "state.pt"


@dataclass
class TrainConfig:
    model: str
    data: str
    out: str
    val_data: str | None = None
    masks: str | None = None  # a mask folder; else mask_style is drawn per sample
    mask_style: str = "deepfill-train"
    sketch: bool = False
    size: int | None = None  # default: 512 for pconv, 256 for deepfillv2
    batch_size: int | None = None  # per worker; default 6 (pconv) or 16 (deepfillv2)
    steps: int | None = None
    epochs: int | None = None
    lr: float | None = None
    betas: tuple[float, float] | None = None
    workers: int = 1
    gpus_per_worker: float = 0.0
    cpus_per_worker: float | None = None
    precision: str = "fp32"
    seed: int = 0
    finetune: bool = False
    init: str | None = None  # a checkpoint or exported model to start from (fine-tuning)
    layers: int | None = None  # pconv
    width: int = 64  # pconv
    cnum: int = 48  # deepfillv2 generator
    dcnum: int = 64  # deepfillv2 discriminator
    keep: int = 3
    log_every: int = 10
    val_every: int = 100
    sample_every: int = 100
    checkpoint_every: int = 100
    num_val: int = 8
    loader_workers: int = 0
    vgg_weights: str | None = None
    random_vgg: bool = False

    def check_types(self) -> None:
        """Raise InputError naming the first setting whose value has the wrong type or range
        (settings come from YAML/JSON files as well as the command line)."""
        hints = typing.get_type_hints(TrainConfig)
        for f in fields(self):
            value, hint = getattr(self, f.name), hints[f.name]
            allowed = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
            if value is None and type(None) in allowed:
                continue
            base = next(a for a in allowed if a is not type(None))
            origin = typing.get_origin(base) or base
            if origin is tuple:
                ok = isinstance(value, (list, tuple)) and len(value) == 2 and all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            elif origin is float:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            elif origin is int:
                ok = isinstance(value, int) and not isinstance(value, bool)
            else:
                ok = isinstance(value, origin)
            if not ok:
                kind = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
                        tuple: "two numbers"}.get(origin, origin.__name__)
                raise InputError(f"setting {f.name}: expected {kind}, got {value!r}")
        for name in ("steps", "epochs", "size", "batch_size", "keep", "log_every", "val_every", "sample_every",
                     "checkpoint_every", "num_val", "width", "cnum", "dcnum", "layers"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InputError(f"setting {name}: must be at least 1, got {value}")
        for name in ("workers", "loader_workers", "gpus_per_worker"):
            if getattr(self, name) < 0:
                raise InputError(f"setting {name}: must not be negative, got {getattr(self, name)}")
        if self.lr is not None and not self.lr > 0:
            raise InputError(f"setting lr: must be above 0, got {self.lr}")

    def resolved(self) -> "TrainConfig":
        """Defaults filled in from the model's paper settings; checks types and the combination."""
        self.check_types()
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; expected one of {MODELS}")
        if self.precision not in ("fp32", "bf16", "fp16"):
            raise ValueError(f"unknown precision {self.precision!r}")
        if self.precision == "fp16" and not self.gpus_per_worker:
            raise ValueError("fp16 needs GPUs (--gpus-per-worker); use bf16 or fp32 on CPU")
        if (self.steps is None) == (self.epochs is None):
            raise ValueError("give exactly one of steps and epochs")
        if self.sketch and self.model != "deepfillv2":
            raise ValueError("the sketch channel belongs to deepfillv2")
        d = DEFAULTS[self.model]
        out = TrainConfig(**{f.name: getattr(self, f.name) for f in fields(self)})
        out.size = self.size or d["size"]
        out.batch_size = self.batch_size or d["batch_size"]
        out.lr = self.lr or (d.get("finetune_lr") if self.finetune else None) or d["lr"]
        out.betas = tuple(self.betas or d["betas"])
        if self.model == "pconv":
            out.layers = self.layers or min(8, int(math.log2(out.size)) - 1)
            if out.size % 2**out.layers:
                raise ValueError(f"size {out.size} is not divisible by 2**layers = {2 ** out.layers}")
        elif out.size % 8:
            raise ValueError(f"deepfillv2 needs a size divisible by 8, got {out.size}")
        if self.finetune and self.model != "pconv":
            raise ValueError("--finetune is PConv's second stage (frozen encoder BN)")
        return out


def _pair_spec(cfg: dict, seed: int, flip: bool = True) -> PairSpec:
    masks = MaskSource(path=cfg["masks"]) if cfg["masks"] else MaskSource(style=cfg["mask_style"])
    return PairSpec(size=cfg["size"], masks=masks, sketch=cfg["sketch"], flip=flip, seed=seed)


def _shard_counts(path: str) -> list[int]:
    counts = []
    for shard in shard_paths(path, detect_format(path)):
        stats = shard.with_name(f"_{shard.name.split('.')[0]}.stats.json")
        counts.append(json.loads(stats.read_text())["count"] if stats.exists() else 0)
    return counts


def batches_per_epoch(path: str, world: int, loader_workers: int, batch_size: int) -> int:
    """Batches every rank can count on in any epoch: the shards are dealt to rank x DataLoader
    worker slots in a permuted order, so the bound takes each slot's smallest possible share.
    All ranks run this many steps per epoch (DDP needs equal step counts)."""
    counts = sorted(_shard_counts(path))
    workers = max(1, loader_workers)
    slots = world * workers
    if len(counts) >= slots:
        per_slot = sum(counts[: len(counts) // slots])
    else:
        per_slot = sum(counts) // slots
    return (per_slot // batch_size) * workers


class _Context:
    """What the loop needs from its runner: rank, device, reporting and the checkpoint to resume."""

    def __init__(self, cfg: dict):
        self.ray = cfg["workers"] > 0
        if self.ray:
            import ray.train
            import ray.train.torch

            ctx = ray.train.get_context()
            self.rank, self.world = ctx.get_world_rank(), ctx.get_world_size()
            self.device = ray.train.torch.get_device()
            self.wrap = ray.train.torch.prepare_model if self.world > 1 else (lambda m: m)
        else:
            self.rank, self.world = 0, 1
            self.device = torch.device("cuda" if cfg["gpus_per_worker"] and torch.cuda.is_available() else "cpu")
            self.wrap = lambda m: m
        self.local_dir = Path(cfg["out"]) / "local_checkpoints"

    def resume_state(self) -> dict | None:
        if self.ray:
            import ray.train

            checkpoint = ray.train.get_checkpoint()
            if checkpoint is None:
                return None
            with checkpoint.as_directory() as d:
                return load_pt(Path(d) / STATE_FILE, "checkpoint")
        saved = sorted(self.local_dir.glob("step_*.pt"))
        return load_pt(saved[-1], "checkpoint") if saved else None

    def report(self, metrics: dict, state: dict | None, keep: int) -> None:
        if self.ray:
            import ray.train

            if state is not None and self.rank == 0:
                with tempfile.TemporaryDirectory() as d:
                    save_pt(state, Path(d) / STATE_FILE)
                    ray.train.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(d))
            else:
                ray.train.report(metrics)
            return
        if state is not None:
            self.local_dir.mkdir(parents=True, exist_ok=True)
            save_pt(state, self.local_dir / f"step_{state['step']:08d}.pt")
            for old in sorted(self.local_dir.glob("step_*.pt"))[:-keep]:
                old.unlink()


def _to_uint8(x: torch.Tensor) -> np.ndarray:
    return ((x.detach().float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()


def _validate(trainee, batch: dict, device) -> tuple[dict, torch.Tensor]:
    generator = unwrap(trainee.generator)
    generator.eval()
    with torch.no_grad(), trainee.autocast(device):
        output = trainee.predict(batch).float()
    generator.train()
    done = output * batch["mask"] + batch["image"] * (1 - batch["mask"])
    got, want = _to_uint8(done), _to_uint8(batch["image"])
    hole = batch["mask"].expand_as(done)
    hole_l1 = ((done - batch["image"]).abs() * hole).sum() / hole.sum().clamp_min(1) / 2  # as a fraction of 0..1
    metrics = {
        "val_hole_l1": float(hole_l1),
        "val_l1": float(np.mean([l1(a, b) for a, b in zip(got, want)])),
        "val_psnr": float(np.mean([min(psnr(a, b), 100.0) for a, b in zip(got, want)])),
        "val_ssim": float(np.mean([ssim(a, b) for a, b in zip(got, want)])),
    }
    return metrics, done


def _sample_grid(batch: dict, done: torch.Tensor) -> np.ndarray:
    """Rows of input (holes white) | output composite | ground truth, RGB uint8."""
    masked = batch["image"] * (1 - batch["mask"]) + batch["mask"]
    rows = [np.hstack(list(t)) for t in zip(_to_uint8(masked), _to_uint8(done), _to_uint8(batch["image"]))]
    return np.vstack(rows)


def _to_device(batch: dict, device) -> dict:
    return {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}


def train_loop(cfg: dict) -> None:
    """The loop every worker runs (Ray Train's train_loop_per_worker)."""
    ctx = _Context(cfg)
    device = ctx.device
    torch.manual_seed(cfg["seed"] + ctx.rank)
    trainee = build_trainee(cfg, device, ctx.wrap)
    state = ctx.resume_state()
    step, best = 0, float("inf")
    if state is not None:
        trainee.load(state)
        step, best = state["step"], state.get("best_val_l1", float("inf"))
        rng_states = state["torch_rng"]
        torch.set_rng_state(rng_states[ctx.rank] if ctx.rank < len(rng_states) else rng_states[0])
    elif cfg["init"]:
        trainee.load({"generator": init_weights(cfg["init"])}, optimizers=False)
    dataset = ShardedTrainingDataset(cfg["data"], _pair_spec(cfg, cfg["seed"]), ctx.rank, ctx.world)
    per_epoch = batches_per_epoch(cfg["data"], ctx.world, cfg["loader_workers"], cfg["batch_size"])
    if per_epoch == 0:
        raise ValueError(f"{cfg['data']} has too few samples for one batch of {cfg['batch_size']} per worker")
    total = cfg["steps"] or cfg["epochs"] * per_epoch
    out = Path(cfg["out"])
    val_batch = writer = None
    if ctx.rank == 0:
        val_path = cfg["val_data"] or cfg["data"]
        val_set = ShardedTrainingDataset(val_path, _pair_spec(cfg, cfg["seed"] + 1000, flip=False))
        samples = []
        for sample in val_set:
            samples.append(sample)
            if len(samples) == cfg["num_val"]:
                break
        val_batch = _to_device(collate(samples), device)
        from tensorboardX import SummaryWriter

        writer = SummaryWriter(str(out / "tensorboard"))
        (out / "samples").mkdir(parents=True, exist_ok=True)
        if step == 0:  # the starting point of the validation curves
            val, _ = _validate(trainee, val_batch, device)
            with open(out / "metrics.jsonl", "a") as f:
                f.write(dumps_json({"step": 0, **val}) + "\n")
    started, start_step = time.perf_counter(), step
    while step < total:
        epoch, skip = divmod(step, per_epoch)
        dataset.set_epoch(epoch)
        loader = torch.utils.data.DataLoader(dataset, batch_size=cfg["batch_size"], num_workers=cfg["loader_workers"],
                                             collate_fn=collate, drop_last=True)
        stepped = False
        for index, batch in enumerate(loader):
            if index < skip:
                continue
            if index >= per_epoch or step >= total:
                break
            stepped = True
            metrics = trainee.step(_to_device(batch, device), device)
            step += 1
            metrics.update(step=step, epoch=epoch, lr=trainee.optimizers["generator"].param_groups[0]["lr"],
                           skipped_steps=trainee.skipped)
            last = step == total
            if ctx.rank == 0 and (step % cfg["val_every"] == 0 or last):
                val, done = _validate(trainee, val_batch, device)
                metrics.update(val)
                if val["val_l1"] < best:
                    best = val["val_l1"]
                    save_pt({"step": step, "val_l1": best, "model_config": model_config(cfg),
                             "state_dict": unwrap(trainee.generator).state_dict()}, out / "best.pt")
                if step % cfg["sample_every"] == 0 or last:
                    grid = _sample_grid(val_batch, done)
                    write_image(out / "samples" / f"step_{step:08d}.png", grid)
                    writer.add_image("samples", grid, step, dataformats="HWC")
            if ctx.rank == 0 and (step % cfg["log_every"] == 0 or last or "val_l1" in metrics):
                rate = (step - start_step) / (time.perf_counter() - started)
                metrics["steps_per_s"] = rate
                with open(out / "metrics.jsonl", "a") as f:
                    f.write(dumps_json(metrics) + "\n")
                for name, value in metrics.items():
                    if isinstance(value, (int, float)) and name not in ("step", "epoch"):
                        writer.add_scalar(name, value, step)
                writer.flush()
                log.info("step %d/%d loss %.4f %.2f steps/s ETA %.0f s", step, total, metrics["loss"], rate,
                         (total - step) / max(rate, 1e-9))
            if step % cfg["checkpoint_every"] == 0 or last:
                ckpt = None
                if ctx.rank == 0:
                    ckpt = {**trainee.state(), "step": step, "best_val_l1": best, "config": cfg,
                            "model_config": model_config(cfg), "torch_rng": [torch.get_rng_state()]}
                ctx.report({k: v for k, v in metrics.items() if isinstance(v, (int, float))}, ckpt, cfg["keep"])
        if not stepped:
            raise RuntimeError(f"epoch {epoch} of rank {ctx.rank} ran out of batches before batch {skip}")
    if writer is not None:
        writer.close()


def init_weights(path: str | Path) -> dict:
    """The generator state_dict of `--init`: an exported model, `best.pt` or a training checkpoint."""
    init = load_pt(path, "--init file")
    weights = init.get("state_dict") or init.get("generator") if isinstance(init, dict) else None
    if not isinstance(weights, dict):
        raise InputError(f"--init file {path} holds no generator weights (export a model or give best.pt)")
    return weights


def check_run(cfg: TrainConfig) -> None:
    """Everything that can be checked before a run folder is touched: the data gives at least one
    batch per worker, the paths exist, the run folder is new, empty or this run's."""
    for name in ("data", "val_data", "masks"):
        path = getattr(cfg, name)
        if path is None:
            continue
        try:
            shard_paths(path, detect_format(path))
        except (OSError, ValueError) as e:
            raise InputError(f"--{name.replace('_', '-')} {path}: {e}") from None
    if batches_per_epoch(cfg.data, max(1, cfg.workers), cfg.loader_workers, cfg.batch_size) == 0:
        raise InputError(f"{cfg.data} has too few samples for one batch of {cfg.batch_size} per worker")
    if cfg.init:
        init_weights(cfg.init)
    out = Path(cfg.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file")
    if out.is_dir() and not (out / "train_config.json").exists() and any(p.name != "_job.lock" for p in out.iterdir()):
        raise InputError(f"--out {out} is not empty and holds no training run; choose a new or empty folder")
    if out.is_dir():  # resuming: every checkpoint there must load as plain data before a worker sees it
        for saved in [*out.glob(f"ray/checkpoint_*/{STATE_FILE}"), *out.glob("local_checkpoints/step_*.pt"),
                      out / "best.pt"]:
            if saved.is_file():
                load_pt(saved, "checkpoint")


def run_training(config: TrainConfig, ray_address: str | None = None) -> dict:
    """Train (or resume) the run at config.out; returns the last line of metrics.jsonl.
    Nothing is written before every setting, path and the Ray address have been checked."""
    cfg = config.resolved()
    out = Path(cfg.out).resolve()
    cfg.out = str(out)
    check_run(cfg)
    if cfg.workers > 0:
        from .ray_runtime import check_address

        check_address(ray_address)
    saved = out / "train_config.json"
    as_dict = asdict(cfg)
    as_dict["betas"] = list(cfg.betas)
    if saved.exists():
        previous = json.loads(saved.read_text())
        changed = sorted(k for k in as_dict if k not in ("steps", "epochs") and previous.get(k) != as_dict[k])
        if changed:
            raise InputError(f"{out} holds a run with other settings ({', '.join(changed)}); use another --out")
    with output_lock(out):
        atomic_write_bytes(saved, (dumps_json({**as_dict, "version": __version__}, indent=2, sort_keys=True)).encode())
        _run(cfg, as_dict, ray_address)
    lines = (out / "metrics.jsonl").read_text().splitlines() if (out / "metrics.jsonl").exists() else []
    return json.loads(lines[-1]) if lines else {}


def _run(cfg: TrainConfig, as_dict: dict, ray_address: str | None) -> None:
    """The loop in this process (workers 0) or on Ray Train."""
    out = Path(cfg.out)
    if cfg.workers == 0:
        train_loop(as_dict)
    else:
        from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
        from ray.train.torch import TorchTrainer

        from .ray_runtime import cluster_cpus, init_ray

        init_ray(ray_address)
        cpus = cfg.cpus_per_worker or max(0.5, min(1.0, cluster_cpus() / (cfg.workers + 1)))
        resources = {"CPU": cpus, **({"GPU": cfg.gpus_per_worker} if cfg.gpus_per_worker else {})}
        trainer = TorchTrainer(
            train_loop,
            train_loop_config=as_dict,
            scaling_config=ScalingConfig(num_workers=cfg.workers, use_gpu=cfg.gpus_per_worker > 0,
                                         resources_per_worker=resources),
            run_config=RunConfig(name="ray", storage_path=str(out), failure_config=FailureConfig(max_failures=2),
                                 checkpoint_config=CheckpointConfig(num_to_keep=cfg.keep)),
        )
        trainer.fit()


def latest_state(run_dir: str | Path) -> dict:
    """The newest training state of a run (Ray's checkpoints or the in-process ones)."""
    run = Path(run_dir)
    candidates = list(run.glob("ray/checkpoint_*/" + STATE_FILE)) + list(run.glob("local_checkpoints/step_*.pt"))
    if not candidates:
        raise FileNotFoundError(f"no checkpoint in {run_dir}")
    states = [(load_pt(p, "checkpoint"), p) for p in candidates]
    return max(states, key=lambda s: s[0]["step"])[0]


def export_model(run_dir: str | Path, out_path: str | Path, which: str = "best") -> dict:
    """An inference checkpoint (generator weights + model config) from a run: the best by
    validation L1, or the latest."""
    run = Path(run_dir)
    if which == "best" and (run / "best.pt").exists():
        best = load_pt(run / "best.pt", "checkpoint")
        state, config, step = best["state_dict"], best["model_config"], best["step"]
    else:
        latest = latest_state(run)
        state, config, step = latest["generator"], latest["model_config"], latest["step"]
    exported = {"format": EXPORT_FORMAT, "version": __version__, "model_config": config, "step": step,
                "state_dict": state}
    save_pt(exported, Path(out_path))
    return {"model_config": config, "step": step}
