"""Reference features of LaMa's high-receptive-field loss encoder, for tests/models/test_lama.py.

Run once in the venv of make_reference.py (plus pandas and scipy, which LaMa's models/ade20k
imports) with LaMa's source on the path:

    PYTHONPATH=/path/to/lama /tmp/lamaref/venv/bin/python tests/data/lama/make_hrf_reference.py

LaMa's ResNetPL encoder, ResnetDilated(resnet50(), dilate_scale=8) from models/ade20k, with
weights and BatchNorm statistics drawn from a seeded generator in state_dict order (the order is
stored, so the test draws the same values without storing 23.5 M parameters), in eval mode, on a
non-square image in [0, 1], ImageNet-standardised as ResNetPL does. Writes hrf_reference.pt.
"""

from pathlib import Path

import torch
from models.ade20k.base import ResnetDilated
from models.ade20k.resnet import resnet50

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def randomise(state: dict, seed: int) -> None:
    """Convolutions He-scaled and halved, BatchNorm near identity with random statistics: deep
    enough to reach layer4 without overflowing, random enough to see every wrong wire."""
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in state.items():
            if name.endswith("num_batches_tracked"):
                continue
            noise = torch.randn(tensor.shape, generator=rng)
            if name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=rng) + 0.5)
            elif tensor.dim() == 4:
                tensor.copy_(noise * (2.0 / tensor[0].numel()) ** 0.5 * 0.5)
            elif name.endswith(".weight"):
                tensor.copy_(1 + 0.1 * noise)
            else:
                tensor.copy_(0.1 * noise)


def main() -> None:
    encoder = ResnetDilated(resnet50(pretrained=False), dilate_scale=8)
    state = encoder.state_dict()
    randomise(state, seed=0)
    encoder.eval()
    image = torch.rand(1, 3, 40, 56, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        features = encoder((image - IMAGENET_MEAN) / IMAGENET_STD, return_feature_maps=True)
    torch.save({"keys": list(state), "image": image, "features": list(features)},
               Path(__file__).with_name("hrf_reference.pt"))


if __name__ == "__main__":
    main()
