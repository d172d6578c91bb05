"""Runs the `lpips` package's own code (0.1.4, from its wheel) on the random networks of
tests/metric_oracles.py and stores the distances in reference.json.

lpips builds its backbone from torchvision, which has no CPU build here; a stand-in `torchvision`
module hands it `features` holding our random weights, so the reference's scaling layer,
slicing, normalisation, heads and averaging are the ones that run. Usage, from the repository
root, with the wheel unpacked somewhere:
    pip download --no-deps lpips==0.1.4 -d /tmp/w && unzip -q /tmp/w/lpips-*.whl -d /tmp/w/lp
    python tests/data/lpips/make_reference.py /tmp/w/lp
"""

import json
import sys
import types
from pathlib import Path

import torch

sys.path[:0] = [sys.argv[1], str(Path(__file__).resolve().parents[2])]
from metric_oracles import image_pairs, random_lpips  # noqa: E402

from inpaint_data.models.lpips import NETS  # noqa: E402

FULL_LENGTH = {"alex": 13, "vgg": 31}  # torchvision's `features` ends with one more max pool


def stand_in(net: str):
    ours = random_lpips(net)
    layers = list(ours.features) + [torch.nn.MaxPool2d(3 if net == "alex" else 2, 2)]
    assert len(layers) == FULL_LENGTH[net]
    return types.SimpleNamespace(features=torch.nn.Sequential(*layers)), ours


tv = types.ModuleType("torchvision")
tv.models = types.SimpleNamespace(alexnet=lambda pretrained: stand_in("alex")[0],
                                  vgg16=lambda pretrained: stand_in("vgg")[0])
sys.modules["torchvision"] = tv
import lpips  # noqa: E402

a, b = image_pairs()
out = {}
for net in NETS:
    reference = lpips.LPIPS(net=net, version="0.1", pretrained=False, verbose=False)
    ours = random_lpips(net)
    for k, lin in enumerate(ours.lins):
        reference.lins[k].model[1].weight.data.copy_(lin.weight.data)
    with torch.no_grad():
        out[net] = reference(a, b).flatten().tolist()
(Path(__file__).parent / "reference.json").write_text(json.dumps(out, indent=1) + "\n")
print(out)
