"""The loop every training worker runs (Ray Train's train_loop_per_worker, or this process with
workers=0), read top to bottom as nanoGPT's train.py: set-up, resume, data, validation set, then
the steps with their logging, validation, samples and checkpoints."""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ... import storage
from ...datasets.images import write_image
from ...datasets.torch import MaskSource, PairSpec, ShardedTrainingDataset, collate
from ...fileio import dumps_json
from ...metrics import l1, psnr, ssim
from ...models.files import load_pt, save_pt
from ...models.registry import build_trainee, model_config, model_entry, predict
from ...report import image_grid
from .checkpoints import STATE_FILE, RunMirror, batches_per_epoch, init_state
from .config import TrainConfig

log = logging.getLogger("inpaint_data.train")


class Runner:
    """What the loop needs from where it runs: rank, device, DDP wrapping, the checkpoint to
    resume from, and where reports and checkpoints go (Ray Train, or a local folder)."""

    def __init__(self, cfg: TrainConfig):
        self.ray = cfg.workers > 0
        if self.ray:
            import ray.train
            import ray.train.torch

            ctx = ray.train.get_context()
            self.rank, self.world = ctx.get_world_rank(), ctx.get_world_size()
            self.device = ray.train.torch.get_device()
            self.wrap = ray.train.torch.prepare_model if self.world > 1 else (lambda m: m)
        else:
            self.rank, self.world = 0, 1
            self.device = torch.device("cuda" if cfg.gpus_per_worker and torch.cuda.is_available() else "cpu")
            self.wrap = lambda m: m
        self.local_dir = storage.join(cfg.out, "local_checkpoints")

    def resume_state(self) -> dict | None:
        if self.ray:
            import ray.train

            checkpoint = ray.train.get_checkpoint()
            if checkpoint is None:
                return None
            with checkpoint.as_directory() as d:
                return load_pt(Path(d) / STATE_FILE, "checkpoint")
        saved = storage.glob_files(storage.join(self.local_dir, "step_*.pt"))
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
            storage.make_dirs(self.local_dir)
            save_pt(state, storage.join(self.local_dir, f"step_{state['step']:08d}.pt"))
            for old in storage.glob_files(storage.join(self.local_dir, "step_*.pt"))[:-keep]:
                storage.remove(old)


def pair_spec(cfg: TrainConfig, seed: int, flip: bool = True) -> PairSpec:
    masks = MaskSource(path=cfg.masks) if cfg.masks else MaskSource(style=cfg.mask_style)
    return PairSpec(size=cfg.size, masks=masks, sketch=bool(cfg.settings.get("sketch")), flip=flip, seed=seed)


def to_uint8(x: torch.Tensor) -> np.ndarray:
    return ((x.detach().float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()


def validate(trainee, batch: dict, device) -> tuple[dict, torch.Tensor]:
    """Metrics of the composite on the fixed validation batch, and the composite."""
    generator = trainee.inference_generator()
    generator.eval()
    with torch.no_grad(), trainee.autocast(device):
        output = predict(trainee, batch).float()
    generator.train()
    done = output * batch["mask"] + batch["image"] * (1 - batch["mask"])
    got, want = to_uint8(done), to_uint8(batch["image"])
    hole = batch["mask"].expand_as(done)
    hole_l1 = ((done - batch["image"]).abs() * hole).sum() / hole.sum().clamp_min(1) / 2  # as a fraction of 0..1
    metrics = {
        "val_hole_l1": float(hole_l1),
        "val_l1": float(np.mean([l1(a, b) for a, b in zip(got, want)])),
        "val_psnr": float(np.mean([min(psnr(a, b), 100.0) for a, b in zip(got, want)])),
        "val_ssim": float(np.mean([ssim(a, b) for a, b in zip(got, want)])),
    }
    return metrics, done


def sample_grid(batch: dict, done: torch.Tensor) -> np.ndarray:
    """Rows of input (holes white) | output composite | ground truth, RGB uint8."""
    masked = batch["image"] * (1 - batch["mask"]) + batch["mask"]
    return image_grid(list(zip(to_uint8(masked), to_uint8(done), to_uint8(batch["image"]))))


def _to_device(batch: dict, device) -> dict:
    return {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}


def _append_metrics(run: RunMirror, metrics: dict) -> None:
    with open(run.path("metrics.jsonl"), "a") as f:
        f.write(dumps_json(metrics) + "\n")
    run.publish("metrics.jsonl")


def train_loop(config: dict) -> None:
    """The loop of one worker; `config` is a resolved TrainConfig as a dict (Ray passes dicts)."""
    # -------------------------------------------------------------------------------- set-up
    cfg = TrainConfig.of(**config)
    runner = Runner(cfg)
    device = runner.device
    torch.manual_seed(cfg.seed + runner.rank)
    trainee = build_trainee(cfg.as_dict(), device, runner.wrap)
    run = RunMirror(cfg.out) if runner.rank == 0 else None  # rank 0 writes the run's files

    # -------------------------------------------------------------------------------- resume or init
    state = runner.resume_state()
    step, best = 0, float("inf")
    if state is not None:
        trainee.load(state)
        step, best = state["step"], state.get("best_val_l1", float("inf"))
        rng_states = state["torch_rng"]
        torch.set_rng_state(rng_states[runner.rank] if runner.rank < len(rng_states) else rng_states[0])
    elif cfg.init:
        init = init_state(cfg.init)
        parts = trainee.start_from(init)
        if run is not None:  # which part of the run came from where, beside train_config.json
            run.path("init.json").write_text(dumps_json({"file": str(cfg.init), "kind": init["source"],
                                                         "parts": parts}, indent=1))
            run.publish("init.json")

    # -------------------------------------------------------------------------------- data
    dataset = ShardedTrainingDataset(cfg.data, pair_spec(cfg, cfg.seed), runner.rank, runner.world)
    per_epoch = batches_per_epoch(cfg.data, runner.world, cfg.loader_workers, cfg.batch_size)
    if per_epoch == 0:
        raise ValueError(f"{cfg.data} has too few samples for one batch of {cfg.batch_size} per worker")
    total = cfg.steps or cfg.epochs * per_epoch

    # -------------------------------------------------------------------------------- validation set (rank 0)
    val_batch = writer = None
    if runner.rank == 0:
        val_set = ShardedTrainingDataset(cfg.val_data or cfg.data, pair_spec(cfg, cfg.seed + 1000, flip=False))
        samples = []
        for sample in val_set:
            samples.append(sample)
            if len(samples) == cfg.num_val:
                break
        val_batch = _to_device(collate(samples), device)
        from tensorboardX import SummaryWriter

        writer = SummaryWriter(str(run.path("tensorboard")))
        if step == 0:  # the starting point of the validation curves
            _append_metrics(run, {"step": 0, **validate(trainee, val_batch, device)[0]})

    # -------------------------------------------------------------------------------- steps
    started, start_step = time.perf_counter(), step
    dataset.stream(*divmod(step, per_epoch), per_epoch, cfg.batch_size)  # one loader for the run
    loader = torch.utils.data.DataLoader(dataset, batch_size=cfg.batch_size, num_workers=cfg.loader_workers,
                                         collate_fn=collate, drop_last=True)
    for batch in (loader if step < total else []):  # [] when a finished run is run again
        epoch = step // per_epoch
        metrics = model_entry(cfg.model).train_step(trainee, _to_device(batch, device), device)
        trainee.update_ema()
        step += 1
        metrics.update(step=step, epoch=epoch, lr=trainee.optimizers["generator"].param_groups[0]["lr"],
                       skipped_steps=trainee.skipped)
        last = step == total

        # ------------------------------------------------------------ validation and samples
        if runner.rank == 0 and (step % cfg.val_every == 0 or last):
            val, done = validate(trainee, val_batch, device)
            metrics.update(val)
            if val["val_l1"] < best:
                best = val["val_l1"]
                save_pt({"step": step, "val_l1": best, "model_config": model_config(config),
                         "state_dict": trainee.inference_generator().state_dict()}, run.path("best.pt"))
                run.publish("best.pt")
            if step % cfg.sample_every == 0 or last:
                grid = sample_grid(val_batch, done)
                name = f"step_{step:08d}.png"
                write_image(run.path("samples", name), grid)
                run.publish("samples", name)
                writer.add_image("samples", grid, step, dataformats="HWC")

        # ------------------------------------------------------------ logging
        if runner.rank == 0 and (step % cfg.log_every == 0 or last or "val_l1" in metrics):
            rate = (step - start_step) / (time.perf_counter() - started)
            metrics["steps_per_s"] = rate
            for name, value in metrics.items():
                if isinstance(value, (int, float)) and name not in ("step", "epoch"):
                    writer.add_scalar(name, value, step)
            writer.flush()
            _append_metrics(run, metrics)
            run.publish("tensorboard")
            log.info("step %d/%d loss %.4f %.2f steps/s ETA %.0f s", step, total, metrics["loss"], rate,
                     (total - step) / max(rate, 1e-9))

        # ------------------------------------------------------------ checkpoint
        if step % cfg.checkpoint_every == 0 or last:
            ckpt = None
            if runner.rank == 0:
                ckpt = {**trainee.state(), "step": step, "best_val_l1": best, "config": config,
                        "model_config": model_config(config), "torch_rng": [torch.get_rng_state()]}
            runner.report({k: v for k, v in metrics.items() if isinstance(v, (int, float))}, ckpt, cfg.keep)
        if last:
            break
    if writer is not None:
        writer.close()
        run.publish("tensorboard")
        run.close()

