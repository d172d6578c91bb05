"""Our training steps against the code users would otherwise run, at the same size, batch,
precision and threads: one step is the forward and backward of the generator and the
discriminator, their losses and their optimiser steps, on a batch already in memory.

Peers (not vendored; give a checkout of each):
- lama: LaMa's own code, https://github.com/advimman/lama (`--lama PATH`): its
  DefaultInpaintingTrainingModule's `forward`, `generator_loss` and `discriminator_loss` (not
  rewritten: called on an instance holding big-lama's networks and losses, built by its own
  make_generator / make_discriminator / make_discrim_loss / ResNetPL from configs/training/
  big-lama.yaml), the way Lightning runs them: a forward per optimiser, gradient norm clipped to
  1 (trainer/any_gpu_large_ssim_ddp_final.yaml), Adam 1e-3 / 1e-4.
- pconv: naoto0804/pytorch-inpainting-with-partial-conv (`--pconv PATH`), the most-used PyTorch
  PConv: its PConvUNet (7 levels), InpaintingLoss on its VGG16FeatureExtractor and the loss
  weights of its opt.py, Adam 2e-4, as its train.py steps.
- deepfillv2: nipponjo/deepfillv2-pytorch (`--deepfill PATH`), the most-used PyTorch port of
  the released DeepFill v2: its Generator (cnum 48) and SN-PatchGAN Discriminator (64), hinge
  losses and L1, both Adams at 1e-4 (0.5, 0.999), as its train.py steps. Ours runs its
  "released" recipe (no R1, no moving average) to match.

The perceptual networks are untrained on both sides (their cost does not depend on their
weights; no hub is asked for anything): LaMa's ResNetPL gets an empty ADE20k encoder file,
PConv's VGG16 is torchvision's without weights, ours `random_perceptual` / `random_vgg`.

The peers import what we do not depend on (kornia, omegaconf, pytorch-lightning, pandas,
torchvision, ...): `--peer-python` names a venv that has them, e.g.
    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install torch==2.13.0 -c constraints.txt
    /tmp/peers/bin/pip install --no-deps torchvision==0.28.0
    /tmp/peers/bin/pip install kornia omegaconf pytorch-lightning pandas albumentations \\
        opencv-python-headless scikit-image easydict hydra-core webdataset matplotlib scikit-learn
(the PyPI torchvision is a CUDA build whose `_C` does not load on the CPU torch; the child
gives it an empty `_meta_registrations`, its models are plain torch). Each side runs in a fresh
process, ours then the peer's, `--repeats` times; the ratio is peer seconds / our seconds per
step (above 1: ours is faster), one per model and repeat. Prints JSON.

Usage: python benchmarks/peers.py --lama PATH --pconv PATH --deepfill PATH --peer-python PY
       [--size 256] [--batch 2] [--threads 2] [--seconds 20] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path


def _timed(step, seconds: float) -> dict:
    """Seconds per call of `step` over at least `seconds` and 3 calls, after 2 untimed ones."""
    for _ in range(2):
        step()
    calls, started = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - started < seconds:
        step()
        calls += 1
    return {"seconds_per_step": (time.perf_counter() - started) / calls, "steps": calls}


def _inputs(size: int, batch: int):
    """A batch in [0, 1] and its hole (1 = missing): a box over a quarter of each image."""
    import torch

    torch.manual_seed(0)
    image = torch.rand(batch, 3, size, size)
    hole = torch.zeros(batch, 1, size, size)
    hole[..., size // 4: 3 * size // 4, size // 8: 5 * size // 8] = 1
    return image, hole


# ---------------------------------------------------------------------------------------------- ours


def ours(model: str, size: int, batch: int, seconds: float) -> dict:
    import torch

    from inpaint_data.models.registry import build_trainee, model_entry
    from inpaint_data.pipelines.training.config import TrainConfig

    own = {"lama": {"random_perceptual": True}, "pconv": {"random_vgg": True, "layers": 7},
           "deepfillv2": {"recipe": "released"}}[model]
    cfg = TrainConfig.of(model=model, data="-", out="-", steps=1, size=size, batch_size=batch, **own).resolved()
    trainee = build_trainee(cfg.as_dict(), torch.device("cpu"))
    image, hole = _inputs(size, batch)
    batch_dict = {"image": image * 2 - 1, "mask": hole}
    step = model_entry(model).train_step
    return _timed(lambda: step(trainee, batch_dict, torch.device("cpu")), seconds)


# ---------------------------------------------------------------------------------------------- peers


def _peer_lama(checkout: Path, size: int, batch: int, seconds: float) -> dict:
    sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
    sys.path.insert(0, str(checkout))
    data = types.ModuleType("saicinpainting.training.data.datasets")  # its loaders need albumentations 0.5
    data.make_constant_area_crop_params = data.make_default_train_dataloader = data.make_default_val_dataloader = None
    sys.modules[data.__name__] = data  # the step reads no data: trainers import these names, never call them
    import torch
    from omegaconf import OmegaConf
    from saicinpainting.training.losses.adversarial import make_discrim_loss
    from saicinpainting.training.losses.perceptual import ResNetPL
    from saicinpainting.training.modules import make_discriminator, make_generator
    from saicinpainting.training.trainers.default import DefaultInpaintingTrainingModule
    from saicinpainting.utils import set_requires_grad

    training = checkout / "configs" / "training"
    config = OmegaConf.load(training / "big-lama.yaml")
    config.discriminator = OmegaConf.load(training / "discriminator" / "pix2pixhd_nlayer.yaml")
    config.optimizers = OmegaConf.load(training / "optimizers" / "default_optimizers.yaml")
    weights = Path(tempfile.mkdtemp()) / "ade20k" / "ade20k-resnet50dilated-ppm_deepsup"
    weights.mkdir(parents=True)
    torch.save({}, weights / "encoder_epoch_20.pth")  # loaded with strict=False: the encoder stays untrained
    config.losses.resnet_pl.weights_path = str(weights.parents[1])

    module = DefaultInpaintingTrainingModule.__new__(DefaultInpaintingTrainingModule)
    torch.nn.Module.__init__(module)  # the Lightning module's parts its three methods use, nothing else
    module.config = config
    module.generator = make_generator(config, **OmegaConf.to_container(config.generator, resolve=True))
    module.discriminator = make_discriminator(**OmegaConf.to_container(config.discriminator))
    module.adversarial_loss = make_discrim_loss(**OmegaConf.to_container(config.losses.adversarial))
    module.loss_resnet_pl = ResNetPL(**OmegaConf.to_container(config.losses.resnet_pl))
    module.concat_mask, module.image_to_discriminator = True, "predicted_image"
    module.rescale_size_getter = module.const_area_crop_kwargs = module.add_noise_kwargs = None
    module.refine_mask_for_losses, module.fake_fakes_proba, module.distance_weighted_mask_for_discr = None, 0, False
    module.train()
    optimizers = [torch.optim.Adam(module.generator.parameters(), lr=config.optimizers.generator.lr),
                  torch.optim.Adam(module.discriminator.parameters(), lr=config.optimizers.discriminator.lr)]
    image, hole = _inputs(size, batch)

    def step():
        for index, (network, loss_of) in enumerate([(module.generator, module.generator_loss),
                                                    (module.discriminator, module.discriminator_loss)]):
            set_requires_grad(module.generator, index == 0)  # base.py's _do_step
            set_requires_grad(module.discriminator, index == 1)
            loss, _ = loss_of(module({"image": image, "mask": hole}))
            optimizers[index].zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)  # gradient_clip_val: 1
            optimizers[index].step()

    return _timed(step, seconds)


def _peer_pconv(checkout: Path, size: int, batch: int, seconds: float) -> dict:
    sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
    sys.path.insert(0, str(checkout))
    import torch
    import torchvision

    untrained = torchvision.models.vgg16
    torchvision.models.vgg16 = lambda pretrained=False, **kwargs: untrained(weights=None, **kwargs)
    sys.argv = sys.argv[:1]  # opt.py reads no arguments, but keep argparse users quiet
    import opt
    from loss import InpaintingLoss
    from net import PConvUNet, VGG16FeatureExtractor

    model = PConvUNet(layer_size=7)
    criterion = InpaintingLoss(VGG16FeatureExtractor())
    optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=2e-4)
    image, hole = _inputs(size, batch)
    gt = (image - 0.5) / 0.5
    known = (1 - hole).expand(-1, 3, -1, -1).contiguous()  # their masks: 1 = known, 3 channels
    masked = gt * known

    def step():  # train.py, lines 108-123
        output, _ = model(masked, known)
        loss_dict = criterion(masked, known, output, gt)
        loss = 0.0
        for key, coef in opt.LAMBDA_DICT.items():
            loss += coef * loss_dict[key]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return _timed(step, seconds)


def _peer_deepfill(checkout: Path, size: int, batch: int, seconds: float) -> dict:
    sys.path.insert(0, str(checkout))
    import torch
    from model import losses
    from model.networks import Discriminator, Generator

    generator = Generator(cnum_in=5, cnum_out=3, cnum=48, return_flow=False)
    discriminator = Discriminator(cnum_in=4, cnum=64)
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=1e-4, betas=(0.5, 0.999))
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=1e-4, betas=(0.5, 0.999))
    image, hole = _inputs(size, batch)
    batch_real, mask = image * 2 - 1, hole[:1]  # train.py: one mask for the batch

    def step():  # train.py's training_loop, the step after the masks are drawn
        batch_incomplete = batch_real * (1. - mask)
        ones_x = torch.ones_like(batch_incomplete)[:, 0:1]
        x = torch.cat([batch_incomplete, ones_x, ones_x * mask], axis=1)
        x1, x2 = generator(x, mask)
        batch_complete = x2 * mask + batch_incomplete * (1. - mask)
        batch_real_mask = torch.cat((batch_real, torch.tile(mask, [batch, 1, 1, 1])), dim=1)
        batch_filled_mask = torch.cat((batch_complete.detach(), torch.tile(mask, [batch, 1, 1, 1])), dim=1)
        d_real, d_gen = torch.split(discriminator(torch.cat((batch_real_mask, batch_filled_mask))), batch)
        d_loss = losses.hinge_loss_d(d_real, d_gen)
        d_optimizer.zero_grad()
        d_loss.backward()
        d_optimizer.step()
        ae_loss = torch.mean(torch.abs(batch_real - x1)) + torch.mean(torch.abs(batch_real - x2))
        d_gen = discriminator(torch.cat((batch_complete, torch.tile(mask, [batch, 1, 1, 1])), dim=1))
        g_loss = losses.hinge_loss_g(d_gen) + ae_loss
        g_optimizer.zero_grad()
        g_loss.backward()
        g_optimizer.step()

    return _timed(step, seconds)


PEERS = {"lama": _peer_lama, "pconv": _peer_pconv, "deepfillv2": _peer_deepfill}


# ---------------------------------------------------------------------------------------------- metrics


def _metric_images(count: int, size: int):
    """`count` smooth random images in [0, 1] and a changed copy of each (eval's truths and fills)."""
    import torch
    import torch.nn.functional as F

    generator = torch.Generator().manual_seed(0)
    small = torch.rand(count, 3, size // 16, size // 16, generator=generator)
    truths = F.interpolate(small, size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)
    fills = (truths + 0.1 * torch.rand(truths.shape, generator=generator)).clamp(0, 1)
    return truths, fills


def _metric_step(metric: str, forward, count: int, size: int, batch: int, seconds: float) -> dict:
    """Seconds an image of `forward` over `count` images in batches of `batch`, and the first
    batch's outputs (to compare the two sides)."""
    import torch

    truths, fills = _metric_images(count, size)

    def step():
        with torch.no_grad():
            return [forward(truths[i:i + batch], fills[i:i + batch]) for i in range(0, count, batch)]

    timed = _timed(step, seconds)
    return {"seconds_per_image": timed["seconds_per_step"] / count, "first": step()[0][:4].flatten()[:8].tolist()}


def ours_metric(metric: str, count: int, size: int, batch: int, seconds: float, weights: str) -> dict:
    """Our FID Inception (untrained; its weights saved to `weights` for the peer) or LPIPS."""
    import torch

    from inpaint_data.models.inception import FIDInceptionV3
    from inpaint_data.models.lpips import LPIPS

    if metric == "inception":
        network = FIDInceptionV3()
        torch.save(network.state_dict(), weights)
        return _metric_step(metric, lambda a, b: network(a), count, size, batch, seconds)
    network = LPIPS(metric.split("-")[1])
    return _metric_step(metric, lambda a, b: network(a * 2 - 1, b * 2 - 1), count, size, batch, seconds)


def peer_metric(metric: str, count: int, size: int, batch: int, seconds: float, weights: str) -> dict:
    """pytorch-fid's InceptionV3 (pool3, resized and normalised by it) with our side's weights,
    or the lpips package's LPIPS (v0.1 heads from the package, backbone untrained)."""
    sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
    import torch

    if metric == "inception":
        import pytorch_fid.inception as pytorch_fid

        pytorch_fid.load_state_dict_from_url = lambda *args, **kwargs: torch.load(weights)  # no download
        network = pytorch_fid.InceptionV3([pytorch_fid.InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).eval()
        return _metric_step(metric, lambda a, b: network(a)[0].flatten(1), count, size, batch, seconds)
    import lpips

    network = lpips.LPIPS(net=metric.split("-")[1], pnet_rand=True, verbose=False).eval()
    return _metric_step(metric, lambda a, b: network(a * 2 - 1, b * 2 - 1).flatten(), count, size, batch, seconds)


METRICS = ("inception", "lpips-alex", "lpips-vgg")


def _child(side: str, model: str, checkout: str | None, size: int, batch: int, threads: int,
           seconds: float, count: int = 0, weights: str = "") -> dict:
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if model in METRICS:
        return (ours_metric if side == "ours" else peer_metric)(model, count, size, batch, seconds, weights)
    if side == "ours":
        return ours(model, size, batch, seconds)
    return PEERS[model](Path(checkout), size, batch, seconds)


def run_side(python: str, side: str, model: str, checkout: str | None, args, **more) -> dict:
    one = json.dumps({"side": side, "model": model, "checkout": checkout, "size": args.size, "batch": args.batch,
                      "threads": args.threads, "seconds": args.seconds, **more})
    done = subprocess.run([python, __file__, "--one", one], capture_output=True, text=True,
                          cwd=checkout or Path(__file__).parents[1])
    if done.returncode:
        raise SystemExit(f"{side} {model} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lama", help="a checkout of advimman/lama")
    parser.add_argument("--pconv", help="a checkout of naoto0804/pytorch-inpainting-with-partial-conv")
    parser.add_argument("--deepfill", help="a checkout of nipponjo/deepfillv2-pytorch")
    parser.add_argument("--peer-python", default=sys.executable, help="the Python of a venv with the peers' packages")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--seconds", type=float, default=20.0, help="timed seconds at least, each side")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--metrics", action="store_true",
                        help="also FID's Inception and LPIPS against pytorch-fid and lpips (in --peer-python)")
    parser.add_argument("--metric-images", type=int, default=64)
    parser.add_argument("--metric-batch", type=int, default=16)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        job = json.loads(args.one)
        print(json.dumps(_child(**job)))
        return
    checkouts = {"lama": args.lama, "pconv": args.pconv, "deepfillv2": args.deepfill}
    if not any(checkouts.values()) and not args.metrics:
        parser.error("give at least one checkout (--lama, --pconv, --deepfill; see --help for where to get them) "
                     "or --metrics")
    results = []
    for metric in METRICS if args.metrics else ():
        runs = []
        with tempfile.TemporaryDirectory() as scratch:
            common = {"count": args.metric_images, "weights": str(Path(scratch) / "inception.pt")}
            saved = argparse.Namespace(**{**vars(args), "batch": args.metric_batch})
            for _ in range(args.repeats):
                mine = run_side(sys.executable, "ours", metric, None, saved, **common)
                theirs = run_side(args.peer_python, "peer", metric, None, saved, **common)
                runs.append({"ours_ms_per_image": round(mine["seconds_per_image"] * 1000, 2),
                             "peer_ms_per_image": round(theirs["seconds_per_image"] * 1000, 2),
                             "peer_over_ours": round(theirs["seconds_per_image"] / mine["seconds_per_image"], 3)})
            if metric == "inception":  # the same weights on both sides: the same features
                gap = max(abs(a - b) for a, b in zip(mine["first"], theirs["first"]))
        results.append({"model": metric, "peer": "pytorch-fid" if metric == "inception" else "lpips", "runs": runs,
                        "peer_over_ours_median": statistics.median(r["peer_over_ours"] for r in runs),
                        **({"largest_feature_difference": gap} if metric == "inception" else {})})
    for model, checkout in checkouts.items():
        if not checkout:
            continue
        runs = []
        for _ in range(args.repeats):
            mine = run_side(sys.executable, "ours", model, None, args)
            theirs = run_side(args.peer_python, "peer", model, str(Path(checkout).resolve()), args)
            runs.append({"ours_s": round(mine["seconds_per_step"], 3), "peer_s": round(theirs["seconds_per_step"], 3),
                         "peer_over_ours": round(theirs["seconds_per_step"] / mine["seconds_per_step"], 3)})
        results.append({"model": model, "peer": checkout, "runs": runs,
                        "peer_over_ours_median": statistics.median(r["peer_over_ours"] for r in runs)})
    print(json.dumps({"benchmark": "peers", "size": args.size, "batch": args.batch, "threads": args.threads,
                      "precision": "fp32", "device": "cpu", "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                      "results": results}, indent=1))


if __name__ == "__main__":
    main()
