"""`export --torchscript` files run as IOPaint 1.6.0 runs its LaMa model file (iopaint/model/lama.py:
`norm_img`, the mask as `(mask > 0) * 1`, int64 and channels-last views, `pad_img_to_modulo` to 8
with numpy's "symmetric"), in a process that cannot import inpaint_data."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from inpaint_data import __version__
from inpaint_data.inference import ModelFiller, load_filler
from inpaint_data.models.exported import EXPORT_FORMAT
from inpaint_data.models.registry import get_model
from inpaint_data.pipelines.demo import SHIPPED_DEEPFILL
from inpaint_data.pipelines.training.checkpoints import export_torchscript, import_model

LAMA_CKPT = Path(__file__).parents[1] / "data" / "lama" / "lama_small.ckpt"

#: IOPaint 1.6.0's LaMa.forward and InpaintModel's padding, as a script: nothing of ours importable.
IOPAINT_CALL = r"""
import sys
sys.modules["inpaint_data"] = None  # any import of ours fails
import numpy as np, torch

def norm_img(np_img):  # iopaint/helper.py
    if len(np_img.shape) == 2:
        np_img = np_img[:, :, np.newaxis]
    np_img = np.transpose(np_img, (2, 0, 1))
    return np_img.astype("float32") / 255

def pad_img_to_modulo(img, mod):  # iopaint/helper.py, square=False, min_size=None
    if len(img.shape) == 2:
        img = img[:, :, np.newaxis]
    h, w = img.shape[:2]
    return np.pad(img, ((0, -h % mod), (0, -w % mod), (0, 0)), mode="symmetric")

model = torch.jit.load(sys.argv[1], map_location="cpu").eval()
data = np.load(sys.argv[2])
image, mask = data["image"], data["mask"]
h, w = image.shape[:2]
image, mask = pad_img_to_modulo(image, 8), pad_img_to_modulo(mask, 8)[:, :, 0]
image, mask = norm_img(image), norm_img(mask)
mask = (mask > 0) * 1
assert mask.dtype == np.int64
with torch.no_grad():
    out = model(torch.from_numpy(image).unsqueeze(0), torch.from_numpy(mask).unsqueeze(0))
out = np.clip(out[0].permute(1, 2, 0).numpy() * 255, 0, 255).astype("uint8")[:h, :w]
np.save(sys.argv[3], out)
"""


def _export_of(model_name: str, config: dict, path: Path) -> Path:
    torch.manual_seed(0)
    model = get_model(model_name, **config)
    torch.save({"format": EXPORT_FORMAT, "version": __version__, "model_config": {"model": model_name, **config},
                "step": 0, "state_dict": model.state_dict()}, path)
    return path


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Three exports: the shipped DeepFill v2 (step 8), LaMa from LaMa's own checkpoint (8, symmetric
    padding), a random 5-layer PConv (step 32, more than IOPaint's 8)."""
    root = tmp_path_factory.mktemp("exports")
    lama = root / "lama.pt"
    import_model(LAMA_CKPT, lama)
    models = {"deepfillv2": SHIPPED_DEEPFILL, "lama": lama,
              "pconv": _export_of("pconv", {"layers": 5, "width": 8}, root / "pconv.pt")}
    for name, source in models.items():
        export_torchscript(source, root / f"{name}.ts", trace_size=40)
    return root, models


def _picture(h: int, w: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    import cv2

    image = cv2.resize(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), (w, h), interpolation=cv2.INTER_CUBIC)
    mask = np.zeros((h, w), np.uint8)
    mask[h // 4: h // 2, w // 5: w // 2] = 255
    return image, mask


@pytest.mark.parametrize("name", ["deepfillv2", "lama", "pconv"])
def test_iopaint_runs_our_export_and_fills_as_our_inference_does(exports, name, tmp_path):
    root, models = exports
    # 64 x 96: IOPaint's padding adds nothing, so its fill equals ours (PConv pads itself to 32);
    # 45 x 70: padded by IOPaint to 48 x 72 (and by PConv's file to 64 x 96), cropped back.
    for h, w in ((64, 96), (45, 70)):
        image, mask = _picture(h, w, seed=h)
        np.savez(tmp_path / "case.npz", image=image, mask=mask)
        subprocess.run([sys.executable, "-I", "-c", IOPAINT_CALL, str(root / f"{name}.ts"), str(tmp_path / "case.npz"),
                        str(tmp_path / "out.npy")], check=True, capture_output=True, timeout=120)
        theirs = np.load(tmp_path / "out.npy")
        hole = mask > 0
        assert theirs.shape == (h, w, 3)
        assert np.abs(theirs[~hole].astype(int) - image[~hole]).max() <= 1  # float [0, 1] round trip, truncated
        if (h, w) == (64, 96):
            ours = ModelFiller(models[name]).fill(image, hole)
            assert np.abs(theirs.astype(int) - ours.astype(int)).max() <= 1  # truncation vs rounding


def test_the_export_takes_any_mask_dtype_and_layout(exports):
    root, models = exports
    model = torch.jit.load(str(root / "lama.ts")).eval()
    image = torch.rand(2, 3, 37, 50, generator=torch.Generator().manual_seed(1))
    hole = torch.zeros(2, 1, 37, 50, dtype=torch.bool)
    hole[:, :, 5:20, 10:30] = True
    with torch.no_grad():
        reference = model(image, hole.float())
        for mask in (hole, hole.to(torch.uint8) * 255, hole.long(), hole.double(),
                     hole.float().to(memory_format=torch.channels_last)):
            out = model(image.to(memory_format=torch.channels_last), mask)
            assert out.shape == image.shape and torch.equal(out, reference), mask.dtype


def test_our_filler_reads_the_new_files_without_padding_them_again(exports):
    root, _ = exports
    filler = load_filler(f"torchscript:{root / 'pconv.ts'}", trust_code=True)
    info = filler.info
    assert filler.multiple == 1 and info["model_multiple"] == 32
    assert json.loads(json.dumps(info))["model_config"] == {"model": "pconv", "layers": 5, "width": 8}
