"""Outputs of NVIDIA's own PartialConv2d, for tests/models/test_pconv.py.

Run once in a venv with torch (the LaMa reference venv serves), with NVIDIA/partialconv's
models/partialconv2d.py (commit 610d373) on the path; its code is not vendored:

    git clone https://github.com/NVIDIA/partialconv /tmp/partialconv
    PYTHONPATH=/tmp/partialconv/models python tests/data/partialconv/make_reference.py

For each case: NVIDIA's layer with multi_channel=True and return_mask=True (the form our
layers.PartialConv2d reproduces), seeded weights and bias, an input and a per-channel mask with
holes; stores the layer's settings, weights, input, mask, output and updated mask in
reference.pt (plain tensors).
"""

from pathlib import Path

import torch
from partialconv2d import PartialConv2d

#: (in, out, kernel, stride, padding, dilation, bias): PConv's 7x7/2 first layer, a dilated 3x3
#: without bias, an even kernel.
CASES = ((4, 6, 7, 2, 3, 1, True), (5, 3, 3, 1, 2, 2, False), (3, 4, 4, 2, 1, 1, True))


def main() -> None:
    rng = torch.Generator().manual_seed(0)
    cases = []
    for cin, cout, k, s, p, d, bias in CASES:
        layer = PartialConv2d(cin, cout, k, stride=s, padding=p, dilation=d, bias=bias, multi_channel=True,
                              return_mask=True)
        with torch.no_grad():
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=rng) * 0.2)
            if bias:
                layer.bias.copy_(torch.randn(layer.bias.shape, generator=rng))
        x = torch.randn(2, cin, 19, 23, generator=rng)
        mask = (torch.rand(2, cin, 19, 23, generator=rng) > 0.4).float()
        mask[:, :, 4:14, 5:16] = 0  # a hole larger than the kernel, so some windows see nothing
        with torch.no_grad():
            out, new_mask = layer(x, mask)
        cases.append({"settings": [cin, cout, k, s, p, d, bias], "weight": layer.weight.detach().clone(),
                      "bias": layer.bias.detach().clone() if bias else None, "input": x, "mask": mask,
                      "output": out, "new_mask": new_mask})
    torch.save({"cases": cases}, Path(__file__).with_name("reference.pt"))


if __name__ == "__main__":
    main()
