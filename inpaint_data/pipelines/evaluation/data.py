"""The inputs of `eval`: test images listed once and read a chunk at a time, masks kept at one bit
a pixel, and the fixed pairing of the papers' protocol (pair k = image k mod N with mask k mod M,
both in key order), so that one process and a Ray cluster score the same pairs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ... import storage
from ...datasets.codec import decode_sample
from ...datasets.geometry import resize_short_side
from ...datasets.images import MAX_PIXELS, ImageError, find_images, read_gray8, read_rgb
from ...datasets.readers import detect_format, read_samples, shard_paths, shard_records
from ...errors import InputError


def is_shard_folder(path: str) -> bool:
    try:
        return storage.is_dir(path) and bool(shard_paths(path))
    except ValueError:
        return False


@dataclass(frozen=True)
class ImageRef:
    """Where test image `key` lives: a file, or a sample of a shard (`shard` set)."""

    key: str
    path: str
    shard: bool = False


def list_images(path: str) -> list[ImageRef]:
    """Every test image of a folder of files (key order) or of shards (shard by shard, key order
    within each: the order of our jobs' keys), without decoding any."""
    if is_shard_folder(path):
        refs = []
        for shard in shard_paths(path, detect_format(path)):
            refs += [ImageRef(key, str(shard), True) for key in sorted(k for k, _ in shard_records(shard))]
        return refs
    return [ImageRef(key, file) for file, key in sorted(find_images([path]), key=lambda t: t[1])]


def named_images(folder: str, names: tuple[str, ...]) -> list[ImageRef]:
    """The files `names` of an image folder (found anywhere under it), in that order; InputError
    when some are not there (how many, and the first)."""
    if is_shard_folder(folder):
        raise InputError(f"{folder} holds shards; an image list (--protocol) takes a folder of image files")
    found = {storage.name_of(file): ImageRef(key, file) for file, key in find_images([folder])}
    missing = [name for name in names if name not in found]
    if missing:
        raise InputError(f"{len(missing):,} of the list's {len(names):,} images are not in {folder} "
                         f"(the first: {missing[0]})")
    return [found[name] for name in names]


def read_images(refs: list[ImageRef], max_pixels: int | None = MAX_PIXELS
                ) -> Iterator[tuple[ImageRef, np.ndarray | None, str]]:
    """(ref, RGB image or None, why not) in the order given; each run of refs into one shard
    reads that shard once."""
    i = 0
    while i < len(refs):
        ref = refs[i]
        if not ref.shard:
            try:
                yield ref, read_rgb(ref.path, max_pixels), ""
            except ImageError as e:
                yield ref, None, str(e)
            i += 1
            continue
        run = i
        while run < len(refs) and refs[run].shard and refs[run].path == ref.path:
            run += 1
        wanted = {r.key for r in refs[i:run]}
        images = {}
        for key, members in shard_records(ref.path):
            if key in wanted:
                try:
                    images[key] = decode_sample(key, members).image
                except (ImageError, ValueError) as e:
                    images[key] = str(e)
        for r in refs[i:run]:
            found = images.get(r.key, "not in the shard any more")
            yield (r, found, "") if isinstance(found, np.ndarray) else (r, None, found or "no image member")
        i = run


@dataclass(frozen=True)
class PackedMask:
    """A hole mask kept at one bit a pixel (12,000 masks at 256 x 256: 98 MB, not 786 MB)."""

    key: str
    shape: tuple[int, int]
    bits: np.ndarray

    @classmethod
    def pack(cls, key: str, hole: np.ndarray) -> "PackedMask":
        return cls(key, tuple(hole.shape), np.packbits(hole, axis=None))

    def hole(self) -> np.ndarray:
        return np.unpackbits(self.bits, count=self.shape[0] * self.shape[1]).reshape(self.shape).astype(bool)


def load_masks(path: str, skipped: list[dict] | None = None,
               max_pixels: int | None = MAX_PIXELS) -> list[PackedMask]:
    """Bit-packed holes from a mask output folder (json hole_value respected) or PNG files, in
    key order; unreadable mask files are left out and appended to `skipped` as {"path", "reason"}."""
    masks = []
    if is_shard_folder(path):
        for s in read_samples(path):
            if s.mask is not None:
                hole = s.mask == 0 if s.meta.get("hole_value", 255) == 0 else s.mask > 127
                masks.append(PackedMask.pack(s.key, hole))
    else:
        for file, key in find_images([path]):
            try:
                masks.append(PackedMask.pack(key, read_gray8(file, max_pixels) > 127))
            except ImageError as e:
                if skipped is not None:
                    skipped.append({"path": file, "reason": str(e)})
    if not masks:
        raise ValueError(f"no readable masks in {path}")
    return sorted(masks, key=lambda m: m.key)


def pair_chunks(n_images: int, n_masks: int, chunk: int) -> Iterator[list[tuple[int, int, int]]]:
    """(pair k, image index, mask index) for k < max(N, M), in runs of `chunk` pairs."""
    total = max(n_images, n_masks) if n_images else 0
    for start in range(0, total, chunk):
        yield [(k, k % n_images, k % n_masks) for k in range(start, min(start + chunk, total))]


def fit_image(image: np.ndarray, h: int, w: int) -> np.ndarray:
    """Resize and centre-crop an image to h x w: the short side scaled so that the image just
    covers h x w, then its centre kept (for a square mask: the short side to the mask's side,
    the centre square). An image of that size is kept as it is."""
    height, width = image.shape[:2]
    if (height, width) == (h, w):
        return image
    side = max(h, -(-w * height // width)) if height <= width else max(w, -(-h * width // height))
    image = resize_short_side(image, side)
    top, left = (image.shape[0] - h) // 2, (image.shape[1] - w) // 2
    return np.ascontiguousarray(image[top: top + h, left: left + w])
