"""Images another tool saved, scored as our fillers are (`eval --predictions DIR`): each pair of
the protocol (image key K, mask key M) takes the saved image named, in this order:

- `K_M`: one file per pair, whatever the pairing;
- `K`: ours (`inpaint` writes `{key}.png`), MAT's and CoModGAN's `generate_image.py` (named
  after the image), when image K is in one pair only;
- `M`: LaMa's `bin/predict.py` (named after the mask, `img_mask000.png`), when mask M is in one
  pair only.

Names are keys as `eval --images` makes them (path relative to the folder, no extension), so a
tool that mirrors the input folders matches. The saved image must have the mask's size; its
known pixels are replaced by the truth's, as for every filler.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from ...datasets.images import MAX_PIXELS, find_images, read_rgb
from ...errors import InputError
from .data import ImageRef, PackedMask


class SavedPredictions:
    """A filler for the saved images of a folder: called as fill_batch(images, holes, pairs) with
    the (image key, mask key) of each; `check_pairs` with all pairs before any work."""

    takes_pairs = True

    def __init__(self, folder: str, max_pixels: int | None = MAX_PIXELS, uses: tuple[Counter, Counter] | None = None):
        self.folder = folder
        self.max_pixels = max_pixels
        self.files = {key: location for location, key in find_images([folder])}
        if not self.files:
            raise InputError(f"--predictions {folder}: no images there")
        self.image_uses, self.mask_uses = uses or (Counter(), Counter())

    def check_pairs(self, pairs: list[tuple[ImageRef, PackedMask]]) -> tuple[Counter, Counter]:
        """Before any work: every pair has a saved image (InputError naming the first that does
        not). Returns how often each image and mask key is used (Ray actors are given them)."""
        self.image_uses = Counter(ref.key for ref, _ in pairs)
        self.mask_uses = Counter(mask.key for _, mask in pairs)
        for ref, mask in pairs:
            self.location(ref.key, mask.key)
        return self.image_uses, self.mask_uses

    def location(self, key: str, mask_key: str) -> str:
        candidates = [f"{key}_{mask_key}"]
        if self.image_uses[key] <= 1:
            candidates.append(key)
        if self.mask_uses[mask_key] <= 1:
            candidates.append(mask_key)
        for name in candidates:
            if name in self.files:
                return self.files[name]
        raise InputError(f"--predictions {self.folder}: no saved image for image {key!r} with mask {mask_key!r} "
                         f"(looked for {', '.join(repr(c) for c in candidates)}, any image extension)")

    def __call__(self, images: np.ndarray, holes: np.ndarray, pairs: list[tuple[str, str]]) -> np.ndarray:
        out = np.empty_like(images)
        for i, (key, mask_key) in enumerate(pairs):
            location = self.location(key, mask_key)
            saved = read_rgb(location, self.max_pixels)
            if saved.shape != images[i].shape:
                raise InputError(f"--predictions: {location} is {saved.shape[1]}x{saved.shape[0]}, its pair "
                                 f"(image {key!r}, mask {mask_key!r}) {images.shape[2]}x{images.shape[1]}; save "
                                 "predictions at the mask's size")
            out[i] = saved
        return out
