"""A run's files: the epoch arithmetic over its shards, the weights to start from (`--init`),
its newest state, and the exported inference model (`inpaint-data export`)."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from pathlib import Path

from ... import __version__, storage
from ...datasets.manifest import read_side_json, refuse_foreign
from ...datasets.readers import detect_format, shard_paths
from ...errors import InputError
from ...fileio import atomic_file
from ...models.exported import EXPORT_FORMAT, TORCHSCRIPT_INFO, is_exported_file, load_exported, trace_model
from ...models.files import load_pt, save_pt

#: The file of a Ray Train checkpoint folder that holds the training state.
STATE_FILE = "state.pt"


def _shard_counts(path: str) -> list[int]:
    counts = []
    for shard in shard_paths(path, detect_format(path)):
        name = storage.name_of(shard).split(".")[0]
        counts.append((read_side_json(storage.parent_of(shard), f".{name}.stats.json") or {}).get("count", 0))
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


def init_state(path: str | Path) -> dict:
    """What `--init` starts from: {"generator": state_dict, "discriminator": state_dict (when the
    file has one), "optimizers": {name: optimiser state} (when it has them), "model_config" (when
    known), "source": what the file is}. Takes an exported or imported model, `best.pt`, a
    training checkpoint, or a released checkpoint that `import` reads (models/released: LaMa's
    Lightning files, DeepFill v2's TensorFlow checkpoints)."""
    from ...models.files import UnsafeFileError
    from ...models.released import IMPORTED_FROM, imported_file, is_tf_checkpoint, read_released

    try:
        init = imported_file(read_released(path)) if is_tf_checkpoint(path) else load_pt(path, "--init file")
    except UnsafeFileError:  # a released checkpoint carries config objects: read it as `import` does
        init = imported_file(read_released(path))
    weights = init.get("state_dict") or init.get("generator") if isinstance(init, dict) else None
    if not isinstance(weights, dict):
        raise InputError(f"--init file {path} holds no generator weights (export a model or give best.pt)")
    state = {"generator": weights, "source": (init.get(IMPORTED_FROM) or {}).get("format")
             or ("exported model" if init.get("format") == EXPORT_FORMAT else "training checkpoint")}
    for key in ("discriminator", "optimizers", "model_config", "settings"):
        if isinstance(init.get(key), dict):
            state[key] = init[key]
    return state


def check_init(init: dict, cfg) -> None:
    """Refuse, before a run starts, an `--init` file made for another network than the run's:
    another model, other generator settings, or a discriminator of another width."""
    from ...models.registry import model_config

    ours, theirs = model_config(cfg.as_dict()), init.get("model_config")
    if theirs and theirs != ours:
        if theirs.get("model") != ours["model"]:
            raise InputError(f"--init {cfg.init} is a {theirs.get('model')} model, this run trains {ours['model']}")
        options = " ".join(f"--{k.replace('_', '-')}" + ("" if v is True else f" {v}")
                           for k, v in theirs.items() if k != "model" and v is not False)
        raise InputError(f"--init {cfg.init} is a {theirs['model']} with {options}; "
                         "give the same settings to start from it")
    for width in ("ndf", "dcnum"):  # LaMa's and DeepFill v2's discriminator widths
        theirs_width = (init.get("settings") or {}).get(width)
        if "discriminator" in init and theirs_width is not None and cfg.settings.get(width) not in (None, theirs_width):
            raise InputError(f"--init {cfg.init} has a discriminator of width {theirs_width}; give --{width} "
                             f"{theirs_width} (or export its generator alone to start D afresh)")


def saved_checkpoints(run: storage.Location) -> list[Path | str]:
    """Every training state file of a run folder or URL (Ray's and the in-process ones)."""
    return [*storage.glob_files(storage.join(run, "ray", "checkpoint_*", STATE_FILE)),
            *storage.glob_files(storage.join(run, "local_checkpoints", "step_*.pt"))]


class RunMirror:
    """Where rank 0 writes a run's files (metrics.jsonl, best.pt, samples, TensorBoard events):
    the run folder itself, or for a URL a local scratch folder whose files are published to the
    URL as they change (storage.publish: whole files, never a partial one). A resumed remote
    run's metrics.jsonl is fetched first, so it goes on growing."""

    def __init__(self, out: str):
        self.out = out
        self.remote = storage.is_remote(out)
        self.local = Path(tempfile.mkdtemp(prefix="inpaint-data-run-")) if self.remote else Path(out)
        if self.remote:
            with contextlib.suppress(FileNotFoundError):
                (self.local / "metrics.jsonl").write_bytes(storage.read_bytes(storage.join(out, "metrics.jsonl")))

    def path(self, *names: str) -> Path:
        path = self.local.joinpath(*names)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def publish(self, *names: str) -> None:
        """Copy the local file (or every file of the local folder) `names` to the run's URL."""
        if not self.remote:
            return
        local = self.local.joinpath(*names)
        for f in sorted(local.rglob("*")) if local.is_dir() else [local]:
            if f.is_file():
                storage.publish(f, str(storage.join(self.out, *f.relative_to(self.local).parts)))

    def close(self) -> None:
        if self.remote:
            shutil.rmtree(self.local, ignore_errors=True)


def latest_state(run_dir: str | Path) -> dict:
    """The newest training state of a run."""
    candidates = saved_checkpoints(run_dir)
    if not candidates:
        raise FileNotFoundError(f"no checkpoint in {run_dir}")
    states = [(load_pt(p, "checkpoint"), p) for p in candidates]
    return max(states, key=lambda s: s[0]["step"])[0]


def trained_weights(run_dir: str | Path, which: str = "best") -> tuple[dict, dict, int]:
    """(generator state_dict, model config, step) of a run: the best by validation L1, or the
    latest (its moving average when the run kept one)."""
    best_file = storage.join(run_dir, "best.pt")
    if which == "best" and storage.exists(best_file):
        best = load_pt(best_file, "checkpoint")
        state, config, step = best["state_dict"], best["model_config"], best["step"]
    else:
        latest = latest_state(run_dir)
        state, config, step = latest.get("ema", latest["generator"]), latest["model_config"], latest["step"]
    return state, config, step


def export_model(run_dir: str | Path, out_path: str | Path, which: str = "best", overwrite: bool = False) -> dict:
    """An inference checkpoint (generator weights + model config) from a run (see trained_weights);
    an existing `out_path` is replaced only if `export` wrote it, or with `overwrite`."""
    refuse_foreign(out_path, is_exported_file, overwrite)
    state, config, step = trained_weights(run_dir, which)
    exported = {"format": EXPORT_FORMAT, "version": __version__, "model_config": config, "step": step,
                "state_dict": state}
    train_size = run_train_size(run_dir)
    if train_size:
        exported["train_size"] = train_size
    save_pt(exported, out_path)
    return {"model_config": config, "step": step}


def run_train_size(run_dir: str | Path) -> int | None:
    """The image size a run trained at (its train_config.json), None when unknown."""
    size = (storage.read_json(storage.join(run_dir, "train_config.json")) or {}).get("size")
    return size if isinstance(size, int) else None


def import_model(source: str | Path, out_path: str | Path, overwrite: bool = False) -> dict:
    """A model file of ours from a released checkpoint (models/released): the export format, so
    eval, inpaint and export read it, with the discriminator and optimiser states `--init` loads
    when the file had them. An existing `out_path` is replaced only if `export` or `import` wrote
    it, or with `overwrite`."""
    from ...models.released import imported_file, read_released

    refuse_foreign(out_path, is_exported_file, overwrite)
    imported = read_released(source)
    save_pt(imported_file(imported), out_path)
    return {"model_config": imported.model_config, "parts": imported.parts(), "source": imported.source,
            "settings": imported.settings}


def _model_to_export(source: str | Path, which: str):
    """(model, config, step, train_size) from a run folder or an exported model file."""
    from ...models.registry import get_model

    if Path(source).is_file():
        model, config, train_size = load_exported(source)
        return model, config, load_pt(source, "model").get("step"), train_size
    state, config, step = trained_weights(source, which)
    model = get_model(config["model"], **config)
    model.load_state_dict(state)
    return model, config, step, run_train_size(source)


def export_torchscript(source: str | Path, out_path: str | Path, which: str = "best", trace_size: int = 256,
                       overwrite: bool = False) -> dict:
    """A TorchScript model in LaMa's `to_jit.py` convention (models.exported.LamaConvention) from a
    run folder or an exported model file, traced at the smallest multiple of the model's size
    step >= `trace_size`; the config rides along as an extra file. The file pads any size itself
    (`multiple` 1 there; the model's own step is `model_multiple`). An existing
    `out_path` is replaced only if `export` wrote it, or with `overwrite`."""
    import torch

    refuse_foreign(out_path, is_exported_file, overwrite)

    from ...models.registry import model_entry

    model, config, step, train_size = _model_to_export(source, which)
    multiple = model_entry(config["model"]).multiple(config)
    traced = trace_model(model, config, -(-trace_size // multiple) * multiple)
    info = {"multiple": 1, "model_multiple": multiple, "model_config": config, "step": step, "version": __version__,
            "train_size": train_size}
    with atomic_file(out_path) as tmp:
        torch.jit.save(traced, str(tmp), _extra_files={TORCHSCRIPT_INFO: json.dumps(info)})
    return info


def export_onnx_file(source: str | Path, out_path: str | Path, which: str = "best", size: int = 256,
                     overwrite: bool = False) -> dict:
    """An ONNX model in LaMa's convention for size x size images (rounded up to the model's size
    step), from a run folder or an exported model file; the config is in its metadata. An
    existing `out_path` is replaced only if `export` wrote it, or with `overwrite`."""
    from ...models.exported import export_onnx, is_our_onnx
    from ...models.registry import model_entry

    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        raise InputError('export --onnx needs the onnx and onnxscript packages: pip install "inpaint-data[onnx]"') \
            from None
    refuse_foreign(out_path, is_our_onnx, overwrite)
    model, config, step, train_size = _model_to_export(source, which)
    multiple = model_entry(config["model"]).multiple(config)
    size = -(-size // multiple) * multiple
    info = {"size": size, "model_config": config, "step": step, "version": __version__, "train_size": train_size}
    with atomic_file(out_path) as tmp:
        export_onnx(model, config, size, tmp, info)
    return info
