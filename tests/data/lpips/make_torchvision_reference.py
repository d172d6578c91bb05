"""Runs the `lpips` package (0.1.4) on torchvision's own AlexNet and VGG16 (torchvision 0.28.0,
the release for torch 2.13), with backbone and heads set by formula.py, and stores the distances
with the backbone's parameter names and shapes in torchvision_reference.json. Nothing of
inpaint-data runs here: an oracle independent of our layers (make_reference.py, the older one,
hands lpips our own layers as its backbone).

torchvision's wheel on PyPI is a CUDA build whose `_C` does not load on the CPU torch; only its
detection operators need it, but its import registers their meta kernels, so the script gives
it an empty `torchvision._meta_registrations` first (the models are plain torch modules).
Environment (a venv of its own):
    python3 -m venv /tmp/lpipsref && /tmp/lpipsref/bin/pip install torch==2.13.0 numpy -c constraints.txt
    /tmp/lpipsref/bin/pip install --no-deps torchvision==0.28.0 lpips==0.1.4
    /tmp/lpipsref/bin/python tests/data/lpips/make_torchvision_reference.py
"""

import json
import sys
import types
from pathlib import Path

sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")

import lpips  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from formula import backbone_weights, head_weights, image_pairs  # noqa: E402

BUILDERS = {"alex": ("alexnet", torchvision.models.alexnet), "vgg": ("vgg16", torchvision.models.vgg16)}

a, b = (torch.from_numpy(x) for x in image_pairs())
out = {"torchvision": torchvision.__version__, "lpips": "0.1.4", "torch": torch.__version__}
for net, (name, build) in BUILDERS.items():
    model = build()
    state = model.state_dict()
    keys = [(k, list(v.shape)) for k, v in state.items() if k.startswith("features.")]
    model.load_state_dict({**state, **{k: torch.from_numpy(v) for k, v in backbone_weights(keys).items()}})
    setattr(lpips.pretrained_networks.tv, name, lambda pretrained=False, model=model: model)
    reference = lpips.LPIPS(net=net, version="0.1", pretrained=False, pnet_rand=True, verbose=False).eval()
    shapes = [list(lin.model[1].weight.shape) for lin in reference.lins]
    for lin, weight in zip(reference.lins, head_weights(shapes)):
        lin.model[1].weight.data.copy_(torch.from_numpy(weight))
    with torch.no_grad():
        distances = reference(a, b).flatten().tolist()
    out[net] = {"backbone": keys, "heads": shapes, "distances": distances}
(Path(__file__).parent / "torchvision_reference.json").write_text(json.dumps(out, indent=1) + "\n")
print({net: out[net]["distances"] for net in BUILDERS})
