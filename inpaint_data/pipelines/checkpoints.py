"""A run's files: the epoch arithmetic over its shards, the weights to start from (`--init`),
its newest state, and the exported inference model (`inpaint-data export`)."""

from __future__ import annotations

import json
from pathlib import Path

from .. import __version__
from ..datasets.readers import detect_format, shard_paths
from ..errors import InputError
from ..fileio import atomic_file
from ..models.exported import EXPORT_FORMAT, TORCHSCRIPT_INFO, load_model, trace_model
from ..models.files import load_pt, save_pt

#: The file of a Ray Train checkpoint folder that holds the training state.
STATE_FILE = "state.pt"


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


def init_weights(path: str | Path) -> dict:
    """The generator state_dict of `--init`: an exported model, `best.pt` or a training checkpoint."""
    init = load_pt(path, "--init file")
    weights = init.get("state_dict") or init.get("generator") if isinstance(init, dict) else None
    if not isinstance(weights, dict):
        raise InputError(f"--init file {path} holds no generator weights (export a model or give best.pt)")
    return weights


def run_checkpoints(run: Path) -> list[Path]:
    """Every training state file of a run folder (Ray's and the in-process ones)."""
    return [*run.glob(f"ray/checkpoint_*/{STATE_FILE}"), *run.glob("local_checkpoints/step_*.pt")]


def latest_state(run_dir: str | Path) -> dict:
    """The newest training state of a run."""
    candidates = run_checkpoints(Path(run_dir))
    if not candidates:
        raise FileNotFoundError(f"no checkpoint in {run_dir}")
    states = [(load_pt(p, "checkpoint"), p) for p in candidates]
    return max(states, key=lambda s: s[0]["step"])[0]


def run_weights(run_dir: str | Path, which: str = "best") -> tuple[dict, dict, int]:
    """(generator state_dict, model config, step) of a run: the best by validation L1, or the
    latest (its moving average when the run kept one)."""
    run = Path(run_dir)
    if which == "best" and (run / "best.pt").exists():
        best = load_pt(run / "best.pt", "checkpoint")
        state, config, step = best["state_dict"], best["model_config"], best["step"]
    else:
        latest = latest_state(run)
        state, config, step = latest.get("ema", latest["generator"]), latest["model_config"], latest["step"]
    return state, config, step


def export_model(run_dir: str | Path, out_path: str | Path, which: str = "best") -> dict:
    """An inference checkpoint (generator weights + model config) from a run (see run_weights)."""
    state, config, step = run_weights(run_dir, which)
    exported = {"format": EXPORT_FORMAT, "version": __version__, "model_config": config, "step": step,
                "state_dict": state}
    save_pt(exported, Path(out_path))
    return {"model_config": config, "step": step}


def export_torchscript(source: str | Path, out_path: str | Path, which: str = "best", trace_size: int = 256) -> dict:
    """A TorchScript model in LaMa's `to_jit.py` convention (models.exported.LamaConvention) from a
    run folder or an exported model file, traced at the smallest multiple of the model's size
    step >= `trace_size`; the config and that step ride along as an extra file."""
    import torch

    from ..models.registry import get_model, model_entry

    if Path(source).is_file():
        model, config = load_model(source)
        step = load_pt(source, "model").get("step")
    else:
        state, config, step = run_weights(source, which)
        model = get_model(config["model"], **config)
        model.load_state_dict(state)
    multiple = model_entry(config["model"]).multiple(config)
    traced = trace_model(model, config, -(-trace_size // multiple) * multiple)
    info = {"multiple": multiple, "model_config": config, "step": step, "version": __version__}
    with atomic_file(out_path) as tmp:
        torch.jit.save(traced, str(tmp), _extra_files={TORCHSCRIPT_INFO: json.dumps(info)})
    return info
