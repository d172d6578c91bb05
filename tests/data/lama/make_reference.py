"""Reference outputs of LaMa's own networks, for tests/models/test_lama.py.

Run once in a separate venv with LaMa's source (github.com/advimman/lama, commit 786f593) on the
path; LaMa's code is not vendored:

    python3 -m venv /tmp/lamaref/venv
    /tmp/lamaref/venv/bin/pip install torch==2.13.0 kornia pytorch-lightning numpy pyyaml easydict
    PYTHONPATH=/path/to/lama /tmp/lamaref/venv/bin/python tests/data/lama/make_reference.py

A small FFCResNetGenerator (ffc_resnet_075.yaml's kwargs: ratio 0.75 in the blocks, no LFU,
sigmoid out; ngf 8, 2 blocks) and NLayerDiscriminator (pix2pixhd_nlayer.yaml's, ndf 8) with
every parameter and BatchNorm statistic randomised, in eval mode, on a square and a non-square
input. Writes reference.pt: plain tensors (state_dicts, inputs, outputs, D's features).
"""

from pathlib import Path

import torch
from saicinpainting.training.modules.ffc import FFCResNetGenerator
from saicinpainting.training.modules.pix2pixhd import NLayerDiscriminator

GENERATOR = dict(input_nc=4, output_nc=3, ngf=8, n_downsampling=3, n_blocks=2, add_out_act="sigmoid",
                 init_conv_kwargs=dict(ratio_gin=0, ratio_gout=0, enable_lfu=False),
                 downsample_conv_kwargs=dict(ratio_gin=0, ratio_gout=0, enable_lfu=False),
                 resnet_conv_kwargs=dict(ratio_gin=0.75, ratio_gout=0.75, enable_lfu=False))
DISCRIMINATOR = dict(input_nc=3, ndf=8, n_layers=4)
SIZES = ((32, 32), (40, 64))


def randomise(module: torch.nn.Module, generator: torch.Generator) -> None:
    """Weights, biases, BatchNorm affine parameters and running statistics all away from their
    initial values, so that a BatchNorm or branch wired differently changes the output."""
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            else:
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * 0.2)
    module.eval()


def main() -> None:
    rng = torch.Generator().manual_seed(0)
    generator, discriminator = FFCResNetGenerator(**GENERATOR), NLayerDiscriminator(**DISCRIMINATOR)
    randomise(generator, rng)
    randomise(discriminator, rng)
    out = {"generator_config": {"ngf": 8, "blocks": 2, "downsamplings": 3, "ratio": 0.75},
           "discriminator_config": DISCRIMINATOR, "generator": generator.state_dict(),
           "discriminator": discriminator.state_dict(), "cases": []}
    with torch.no_grad():
        for h, w in SIZES:
            image = torch.rand(1, 3, h, w, generator=rng)
            mask = (torch.rand(1, 1, h, w, generator=rng) > 0.6).float()
            x = torch.cat([image * (1 - mask), mask], dim=1)
            fake = generator(x)
            logits, features = discriminator(fake)
            out["cases"].append({"input": x, "output": fake, "logits": logits, "features": list(features)})
    torch.save(out, Path(__file__).with_name("reference.pt"))


if __name__ == "__main__":
    main()
