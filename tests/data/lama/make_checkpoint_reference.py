"""A LaMa checkpoint in LaMa's own layout, and LaMa's fills from it, for tests/models/test_released.py.

Run once in the separate venv of make_reference.py, with omegaconf and hydra-core added and
LaMa's source (github.com/advimman/lama, commit 786f593) on the path; LaMa's code is not vendored:

    /tmp/lamaref/venv/bin/pip install omegaconf hydra-core opencv-python-headless
    PYTHONPATH=/path/to/lama /tmp/lamaref/venv/bin/python tests/data/lama/make_checkpoint_reference.py /path/to/lama

The config is LaMa's configs/training/big-lama.yaml with the discriminator and optimiser files it
includes, as OmegaConf objects (interpolations and the `${env:TORCH_HOME}` resolver kept, as in the
released config.yaml), at a small width: 2 blocks, ngf 8, ndf 8. The generator and discriminator
are LaMa's classes from that config, every weight and BatchNorm statistic randomised; two
Lightning steps with LaMa's optimisers (Adam 1e-3 / 1e-4) give them optimiser state; Lightning
itself writes `lama_small.ckpt` (state_dict with `generator.` and `discriminator.` prefixes,
`hyper_parameters` = the DictConfig, `optimizer_states`). LaMa's fill is bin/predict.py's: the
image and mask padded to a multiple of 8 with LaMa's pad_img_to_modulo (numpy "symmetric"),
DefaultInpaintingTrainingModule.forward's composite, cropped, clip(x * 255).astype(uint8).
The same generator traced as bin/to_jit.py traces it (JITWrapper around the predict-only module)
is lama_small_jit.pt, the form of IOPaint's big-lama.pt.
Writes lama_small.ckpt, lama_small_jit.pt and checkpoint_reference.pt (plain tensors: images,
masks, fills, the generator's and discriminator's parameter names in their registration order).
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from make_reference import randomise
from omegaconf import OmegaConf
from saicinpainting.training.modules import make_discriminator, make_generator

HERE = Path(__file__).parent
SIZES = ((48, 48), (37, 50))  # a square and a non-square image, the second padded to 40 x 56


def lama_data_module(repo: Path):
    """saicinpainting/evaluation/data.py by itself (its package's __init__ imports the metrics)."""
    spec = importlib.util.spec_from_file_location("lama_data", repo / "saicinpainting/evaluation/data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lama_config(repo: Path):
    """big-lama.yaml with the files its `defaults` name for the networks and optimisers, small."""
    config = OmegaConf.load(repo / "configs/training/big-lama.yaml")
    config.discriminator = OmegaConf.load(repo / "configs/training/discriminator/pix2pixhd_nlayer.yaml")
    config.optimizers = OmegaConf.load(repo / "configs/training/optimizers/default_optimizers.yaml")
    config.generator.n_blocks, config.generator.ngf, config.discriminator.ndf = 2, 8, 8
    return config


class SmallLama(pl.LightningModule):
    """The parts of LaMa's BaseInpaintingTrainingModule a checkpoint holds: save_hyperparameters
    of the config, `generator`, `discriminator`, its two optimisers (configure_optimizers)."""

    def __init__(self, config):
        super().__init__()
        self.save_hyperparameters(config)
        self.config = config
        self.generator = make_generator(config, **config.generator)
        self.discriminator = make_discriminator(**config.discriminator)
        self.automatic_optimization = False

    def configure_optimizers(self):
        g, d = self.config.optimizers.generator, self.config.optimizers.discriminator
        return [torch.optim.Adam(self.generator.parameters(), lr=g.lr),
                torch.optim.Adam(self.discriminator.parameters(), lr=d.lr)]

    def training_step(self, batch, _):
        g_opt, d_opt = self.optimizers()
        image, mask = batch
        fake = self.generator(torch.cat([image * (1 - mask), mask], dim=1))
        g_opt.zero_grad()
        self.manual_backward((fake - image).abs().mean() - self.discriminator(fake)[0].mean())
        g_opt.step()
        d_opt.zero_grad()
        self.manual_backward(self.discriminator(fake.detach())[0].mean() - self.discriminator(image)[0].mean())
        d_opt.step()


class Predictor(torch.nn.Module):
    """What LaMa's to_jit.py traces inside its JITWrapper: the training module made with
    predict_only (the generator alone) and DefaultInpaintingTrainingModule.forward's composite."""

    def __init__(self, generator):
        super().__init__()
        self.generator = generator

    def forward(self, batch):
        img, mask = batch["image"], batch["mask"]
        masked_img = torch.cat([img * (1 - mask), mask], dim=1)
        batch["predicted_image"] = self.generator(masked_img)
        batch["inpainted"] = mask * batch["predicted_image"] + (1 - mask) * batch["image"]
        return batch


class JITWrapper(torch.nn.Module):
    """bin/to_jit.py's wrapper, as it is there."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, image, mask):
        batch = {"image": image, "mask": mask}
        out = self.model(batch)
        return out["inpainted"]


def lama_fill(generator, pad_img_to_modulo, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """bin/predict.py on one uint8 HWC image and uint8 mask (255 = hole)."""
    img = pad_img_to_modulo(np.transpose(image, (2, 0, 1)).astype("float32") / 255, 8)
    msk = pad_img_to_modulo(mask[None].astype("float32") / 255, 8)
    img, msk = torch.from_numpy(img)[None], torch.from_numpy(msk)[None]
    msk = (msk > 0) * 1
    with torch.no_grad():
        predicted = generator(torch.cat([img * (1 - msk), msk], dim=1))
        inpainted = msk * predicted + (1 - msk) * img
    result = inpainted[0].permute(1, 2, 0).numpy()[: image.shape[0], : image.shape[1]]
    return np.clip(result * 255, 0, 255).astype("uint8")


def main() -> None:
    repo = Path(sys.argv[1])
    torch.manual_seed(0)
    rng = torch.Generator().manual_seed(1)
    module = SmallLama(lama_config(repo))
    randomise(module.generator, rng)
    randomise(module.discriminator, rng)
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(
        torch.rand(4, 3, 32, 32, generator=rng), (torch.rand(4, 1, 32, 32, generator=rng) > 0.5).float()), batch_size=2)
    trainer = pl.Trainer(max_steps=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu")
    module.eval()  # BatchNorm statistics stay the randomised ones
    module.train = lambda mode=True: module  # Lightning may not switch it back to train mode
    trainer.fit(module, train_dataloaders=data)
    trainer.save_checkpoint(HERE / "lama_small.ckpt")

    # bin/to_jit.py: traced on a 120 x 120 random image and mask (big-lama.pt as IOPaint ships it)
    jit_rng = torch.Generator().manual_seed(3)
    example = (torch.rand(1, 3, 120, 120, generator=jit_rng), torch.rand(1, 1, 120, 120, generator=jit_rng))
    traced = torch.jit.trace(JITWrapper(Predictor(module.generator.eval())).eval(), example, strict=False)
    traced.save(str(HERE / "lama_small_jit.pt"))

    cases, pad = [], lama_data_module(repo).pad_img_to_modulo
    np_rng = np.random.default_rng(2)
    for h, w in SIZES:
        image = np_rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        mask = np.zeros((h, w), np.uint8)
        mask[h // 4: 3 * h // 4, w // 5: w // 2] = 255
        mask[2: 6, w - 9: w - 1] = 255
        fill = lama_fill(module.generator.eval(), pad, image, mask)
        cases.append({"image": torch.from_numpy(image), "mask": torch.from_numpy(mask), "fill": torch.from_numpy(fill)})
    torch.save({"cases": cases,
                "generator_parameters": [n for n, _ in module.generator.named_parameters()],
                "discriminator_parameters": [n for n, _ in module.discriminator.named_parameters()],
                "global_step": trainer.global_step, "lightning": pl.__version__},
               HERE / "checkpoint_reference.pt")


if __name__ == "__main__":
    main()
