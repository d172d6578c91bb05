"""Training on Ray Train: `run_training(TrainConfig)` checks everything, locks the run folder
and runs train_loop.py's loop on a TorchTrainer (DDP over CPU or GPU workers), or in this
process with workers=0. The loop reads the image shards through datasets/torch.py, logs to
metrics.jsonl and TensorBoard, validates on a fixed set and checkpoints; re-running with the
same `out` resumes. The config is train_config.py's, the run's files checkpoints.py's."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from ... import __version__, storage
from ...datasets.manifest import LOCK, output_lock
from ...datasets.readers import detect_format, shard_paths
from ...errors import InputError
from ...fileio import redacted
from ...models.files import load_pt
from ...models.registry import model_entry
from ..options import OnProgress, RunOptions
from .checkpoints import batches_per_epoch, check_init, export_model, init_state, saved_checkpoints
from .config import TrainConfig
from .loop import train_loop

__all__ = ["TrainConfig", "TrainResult", "check_run", "export_model", "run_training"]

#: Seconds between reads of metrics.jsonl for the driver's progress.
METRICS_POLL_S = 2.0


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
        check_init(init_state(cfg.init), cfg)
    out = cfg.out
    if storage.is_file(out):
        raise InputError(f"--out {out} is a file")
    names = storage.list_names(out)
    if names and "train_config.json" not in names and any(name != LOCK for name in names):
        raise InputError(f"--out {out} is not empty and holds no training run; choose a new or empty folder")
    if names and not storage.is_remote(out):
        # resuming: every checkpoint there must load as plain data before a worker sees it (a
        # remote run's are checked as the worker loads them: the same safe loader, no download here)
        for saved in [*saved_checkpoints(out), storage.join(out, "best.pt")]:
            if storage.is_file(saved):
                load_pt(saved, "checkpoint")


def _check_same_run(saved: storage.Location, settings: dict) -> None:
    """A run folder holds one run: resuming with other settings (steps and epochs aside) is refused."""
    previous = json.loads(storage.read_bytes(saved))
    if "recipe" not in previous:  # started before recipes: it trained with the released one
        previous["recipe"] = "released"
        for name, value in model_entry(settings["model"]).recipes["released"].items():
            previous.setdefault(name, value)
    for f in fields(TrainConfig):  # settings added since that run was started: their defaults
        if f.name not in previous and f.default is not MISSING:
            previous[f.name] = list(f.default) if isinstance(f.default, tuple) else f.default
    for setting in model_entry(settings["model"]).settings:
        previous.setdefault(setting.name, setting.default)
    changed = sorted(k for k in settings if k not in ("steps", "epochs") and previous.get(k) != redacted(settings[k]))
    if changed:
        raise InputError(f"{storage.parent_of(saved)} holds a run with other settings ({', '.join(changed)}); "
                         "use another --out")


def _metrics_lines(out: str) -> list[str]:
    try:
        return storage.read_bytes(storage.join(out, "metrics.jsonl")).decode().splitlines()
    except FileNotFoundError:
        return []


@contextlib.contextmanager
def _following(out: str, on_metrics: OnProgress | None, every: float = METRICS_POLL_S) -> Iterator[None]:
    """While the block runs, call `on_metrics` with each new line of the run's metrics.jsonl
    (local or at a URL; read every `every` seconds, and once more at the end): the driver's view
    of the workers' progress, without Ray's log streaming."""
    if on_metrics is None:
        yield
        return
    seen = len(_metrics_lines(out))
    stop = threading.Event()

    def follow() -> None:
        nonlocal seen
        while True:
            stopped = stop.wait(every)
            with contextlib.suppress(OSError, ValueError):  # a file being replaced; read it next time
                lines = _metrics_lines(out)
                for line in lines[seen:]:
                    on_metrics(json.loads(line))
                seen = max(seen, len(lines))
            if stopped:
                return

    thread = threading.Thread(target=follow, name="metrics-follower", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@dataclass
class TrainResult:
    """A finished (or resumed and finished) training run: its folder and the last line of its
    metrics.jsonl (step, losses, validation numbers)."""

    out: str
    metrics: dict[str, Any] = field(default_factory=dict)


def run_training(config: TrainConfig, options: RunOptions = RunOptions()) -> TrainResult:
    """Train (or resume) the run at config.out. Nothing is written before every setting, path and
    the Ray address have been checked. From `options`: the Ray address, and `on_progress`, called
    on this thread's side with every new metrics line; the run's workers are `config.workers`
    (they decide the batch, so they are part of the run and saved with it)."""
    cfg = config.resolved()
    for name in ("data", "val_data", "masks", "init"):  # Ray workers run in their own folder
        setattr(cfg, name, storage.for_workers(getattr(cfg, name)))
    for setting in model_entry(cfg.model).settings:
        if setting.path:
            cfg.settings[setting.name] = storage.for_workers(cfg.settings[setting.name])
    out = cfg.out = str(storage.normalise(cfg.out) if storage.is_remote(cfg.out) else Path(cfg.out).resolve())
    check_run(cfg)
    if cfg.workers > 0:
        from ..ray_runtime import check_address

        check_address(options.ray_address)
    saved = storage.join(out, "train_config.json")
    settings = cfg.as_dict()
    settings["betas"] = list(cfg.betas)
    if storage.exists(saved):
        _check_same_run(saved, settings)
    with output_lock(out):
        storage.write_json(saved, {**settings, "version": __version__})
        with _following(out, options.on_progress):
            if cfg.workers == 0:
                train_loop(settings)
            else:
                _fit_on_ray(cfg, settings, options.ray_address)
    lines = _metrics_lines(out)
    return TrainResult(out, json.loads(lines[-1]) if lines else {})


def _fit_on_ray(cfg: TrainConfig, settings: dict, ray_address: str | None) -> None:
    """The loop on a Ray Train TorchTrainer: `cfg.workers` DDP workers, each with its share of
    the cluster's CPUs (or `cpus_per_worker`) and `gpus_per_worker`; two worker failures are
    survived by restarting from the last checkpoint."""
    from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    from ..ray_runtime import cluster_cpus, data_context, init_ray

    init_ray(ray_address)
    data_context()  # Ray Train asks for it; made here without Ray's own deprecation warnings
    cpus = cfg.cpus_per_worker or max(0.5, min(1.0, cluster_cpus() / (cfg.workers + 1)))
    resources = {"CPU": cpus, **({"GPU": cfg.gpus_per_worker} if cfg.gpus_per_worker else {})}
    trainer = TorchTrainer(
        train_loop,
        train_loop_config=settings,
        scaling_config=ScalingConfig(num_workers=cfg.workers, use_gpu=cfg.gpus_per_worker > 0,
                                     resources_per_worker=resources),
        run_config=RunConfig(name="ray", storage_path=cfg.out, failure_config=FailureConfig(max_failures=2),
                             checkpoint_config=CheckpointConfig(num_to_keep=cfg.keep)),
    )
    trainer.fit()
