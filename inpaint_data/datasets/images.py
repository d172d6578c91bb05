"""Image input and output: finding images, reading any of them as RGB uint8 (with the size
read from the header and checked before anything is decoded), and writing checked PNGs."""

from __future__ import annotations

import io
import re
import struct
import warnings
import zlib
from pathlib import Path

import cv2
import numpy as np

from .. import storage
from ..errors import first_line
from ..fileio import atomic_write_bytes

#: Largest side of a mask, a shard's or a training crop (`--size`): a 16384 x 16384 RGB image is 768 MB.
MAX_SIDE = 16384
IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
#: Largest image decoded by default (8192 x 8192): a 100000 x 100000 header, or a small file
#: that inflates to 16000 x 16000, is refused before any pixel memory is allocated.
MAX_PIXELS = 8192 * 8192
#: Bytes a pixel may decode to, times --max-pixels: 8-bit RGBA at the pixel limit; a 16-bit or
#: many-channel image (decoded at its own depth first) is refused at fewer pixels.
DECODED_BYTES_PER_PIXEL = 4


class ImageError(RuntimeError):
    """An image that cannot be read; the message says why."""


class ImageWriteError(OSError):
    """An image that could not be written; the message says where and why."""


#: PNG colour type -> samples a pixel (a palette decodes to RGB, or RGBA with transparency).
_PNG_CHANNELS = {0: 1, 2: 3, 3: 4, 4: 2, 6: 4}


def _png_header(data: bytes) -> tuple[int, int, int]:
    """(width, height, bytes a pixel at the PNG's own bit depth and colour type) from IHDR."""
    if len(data) < 26 or data[12:16] != b"IHDR":
        raise ImageError("PNG without an IHDR header")
    w, h = struct.unpack(">II", data[16:24])
    return w, h, _PNG_CHANNELS.get(data[25], 4) * (2 if data[24] == 16 else 1)


#: JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic; not DHT/JPG/DAC).
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data: bytes) -> tuple[int, int]:
    i = 2
    while i + 9 <= len(data):
        if data[i] != 0xFF:
            raise ImageError("JPEG with a damaged marker segment")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            i += 2
            continue
        if marker in _SOF:
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return w, h
        i += 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
    raise ImageError("JPEG without a frame header")


def image_header(data: bytes) -> tuple[int, int, int]:
    """(width, height, bytes a pixel decodes to at the image's own depth, before any conversion
    to 8-bit RGB) from an encoded image's header, without decoding its pixels: PNG and JPEG
    parsed here (JPEG samples are 8-bit and decode to 3 channels), other formats through PIL's
    lazy open."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return _png_header(data)
    if data[:2] == b"\xff\xd8":
        return (*_jpeg_size(data), 3)
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PIL's own bomb warning: we apply our limit below
            with Image.open(io.BytesIO(data)) as im:
                sample = 4 if im.mode in ("I", "F") else 2 if "16" in im.mode else 1
                return (*im.size, len(im.getbands()) * sample)
    except Image.DecompressionBombError as e:
        raise ImageError(f"refused: {first_line(e)}") from None
    except Exception as e:  # PIL raises many types for data it does not know
        raise ImageError(f"not an image we can read ({first_line(e, 120)})") from None


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) from an encoded image's header (see image_header)."""
    return image_header(data)[:2]


def check_pixels(data: bytes, max_pixels: int | None = MAX_PIXELS) -> tuple[int, int]:
    """The header's (width, height); raises ImageError when it exceeds `max_pixels` (None: no limit)."""
    w, h, pixel_bytes = image_header(data)
    if w <= 0 or h <= 0:
        raise ImageError(f"header claims an empty {w} x {h} image")
    if max_pixels is None:
        return w, h
    if w * h > max_pixels:
        raise ImageError(f"refused: {w} x {h} = {w * h:,} pixels is over the --max-pixels limit of {max_pixels:,}")
    limit = DECODED_BYTES_PER_PIXEL * max_pixels
    if w * h * pixel_bytes > limit:
        raise ImageError(f"refused: {w} x {h} at {pixel_bytes} bytes a pixel decodes to {w * h * pixel_bytes:,} "
                         f"bytes, over the {limit:,} of --max-pixels ({DECODED_BYTES_PER_PIXEL} bytes a pixel); "
                         "raise --max-pixels to allow it")
    return w, h


_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_UNSAFE_OR_NEWLINE = re.compile(r"[^A-Za-z0-9_\n-]+")


def key_safe(name: str) -> str:
    """A name as a sample key: runs of characters other than letters, digits, `_` and `-`
    replaced by `_` (keys name tar members and parquet rows)."""
    return _UNSAFE.sub("_", name) or "_"


def key_safe_all(names: list[str]) -> list[str]:
    """`key_safe` of each name, in one regex pass over the names joined by newlines (a listing's
    millions of names: half the cost of a call a name); one by one when a name holds one."""
    joined = "\n".join(names)
    if joined.count("\n") != max(len(names) - 1, 0):
        return [key_safe(name) for name in names]
    return [key or "_" for key in _UNSAFE_OR_NEWLINE.sub("_", joined).split("\n")] if names else []


def unique_keys(names: dict[str, str]) -> dict[str, str]:
    """path -> key-safe key, distinct for any set of names: the name with unsafe characters
    replaced, and for the second and later paths (in sorted order) that share a key, `-2`, `-3`,
    ... skipping every key already taken (`a b`, `a_b` and `a_b-2` give a_b, a_b-3, a_b-2)."""
    keys = {path: key_safe(name) for path, name in names.items()}
    taken: set[str] = set(keys.values())
    seen: set[str] = set()
    for path in sorted(keys):
        key = keys[path]
        if key not in seen:
            seen.add(key)
            continue
        n = 2
        while f"{key}-{n}" in taken:
            n += 1
        keys[path] = f"{key}-{n}"
        taken.add(keys[path])
        seen.add(keys[path])
    return keys


def find_images(inputs: list[str]) -> list[tuple[str, str]]:
    """(location, key) of every image named by `inputs` (files, folders searched recursively,
    globs; local paths or URLs, see storage.find_files), sorted; the key is the path relative to
    its folder without extension, made key-safe and unique (see unique_keys)."""
    found: dict[str, str] = {}
    for item in inputs:
        found.update(storage.find_files(item, IMAGE_EXTS, "image"))
    return sorted(unique_keys(found).items())


def to_rgb8(array: np.ndarray) -> np.ndarray:
    """Gray, gray+alpha, BGR, BGRA, 8- or 16-bit (as cv2 decodes them) to RGB uint8."""
    if array.dtype == np.uint16:
        array = (array >> 8).astype(np.uint8)
    elif array.dtype != np.uint8:
        raise ImageError(f"unsupported pixel type {array.dtype}")
    if array.ndim == 2:
        return cv2.cvtColor(array, cv2.COLOR_GRAY2RGB)
    channels = array.shape[2]
    if channels == 1:
        return cv2.cvtColor(array[..., 0], cv2.COLOR_GRAY2RGB)
    if channels == 2:
        return cv2.cvtColor(array[..., 0], cv2.COLOR_GRAY2RGB)
    if channels == 4:
        return cv2.cvtColor(array, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(array, cv2.COLOR_BGR2RGB)


def _decode(data: bytes, flags: int, max_pixels: int | None) -> np.ndarray:
    if not data:
        raise ImageError("empty file")
    if data[:2] == b"\xff\xd8" and b"\xff\xd9" not in data[-64:]:
        raise ImageError("truncated JPEG (no end-of-image marker)")
    check_pixels(data, max_pixels)
    try:
        array = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error as e:
        raise ImageError(f"OpenCV cannot decode it ({first_line(e, 120)})") from None
    if array is None:
        raise ImageError("not an image OpenCV can decode")
    return array


def decode_rgb(data: bytes, max_pixels: int | None = MAX_PIXELS) -> np.ndarray:
    """Encoded image bytes to RGB uint8; raises ImageError when they do not decode or the
    header's size is over `max_pixels`."""
    return to_rgb8(_decode(data, cv2.IMREAD_UNCHANGED, max_pixels))


def decode_gray8(data: bytes, max_pixels: int | None = MAX_PIXELS) -> np.ndarray:
    """Encoded image bytes (a mask or an edge map) to uint8 H x W; raises ImageError as decode_rgb."""
    return _decode(data, cv2.IMREAD_GRAYSCALE, max_pixels)


def _read(path: str | Path) -> bytes:
    try:
        return storage.read_bytes(path)
    except OSError as e:
        raise ImageError(f"cannot read: {e.strerror}") from None


def read_rgb(path: str | Path, max_pixels: int | None = MAX_PIXELS) -> np.ndarray:
    return decode_rgb(_read(path), max_pixels)


def read_gray8(path: str | Path, max_pixels: int | None = MAX_PIXELS) -> np.ndarray:
    return decode_gray8(_read(path), max_pixels)


def rgb_to_bgr(image: np.ndarray) -> np.ndarray:
    """OpenCV's channel order for an RGB image (a gray one as it is)."""
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR) if image.ndim == 3 else image


def encode_bgr(image: np.ndarray, ext: str, quality: int | None = None, png_level: int | None = None) -> bytes:
    """A uint8 BGR (or gray) array to PNG or JPEG bytes, the one place pixels are encoded.
    Without `quality` (JPEG) or `png_level` (zlib 0-9), OpenCV's defaults. Raises ValueError."""
    params = []
    if quality is not None:
        params += [cv2.IMWRITE_JPEG_QUALITY, quality]
    if png_level is not None:
        params += [cv2.IMWRITE_PNG_COMPRESSION, png_level]
    try:
        ok, buf = cv2.imencode(f".{ext.lstrip('.')}", np.ascontiguousarray(image), params)
    except cv2.error as e:
        raise ValueError(f"{ext} encoding failed ({first_line(e, 120)})") from None
    if not ok:
        raise ValueError(f"{ext} encoding failed for an array of shape {image.shape}")
    return buf.tobytes()


#: tEXt chunk of the report images we write (preview): a re-run may replace a PNG that has it.
OUR_PNG_TEXT = b"Software\x00inpaint-data"


def tag_png(data: bytes) -> bytes:
    """PNG bytes with our tEXt chunk after IHDR (8-byte signature + 25-byte IHDR chunk)."""
    chunk = struct.pack(">I", len(OUR_PNG_TEXT)) + b"tEXt" + OUR_PNG_TEXT
    return data[:33] + chunk + struct.pack(">I", zlib.crc32(chunk[4:])) + data[33:]


def is_tagged_png(location: str | Path) -> bool:
    """Whether the file at `location` is a PNG we tagged (read: its first few hundred bytes)."""
    try:
        with storage.open_input(location) as f:
            head = f.read(33 + 12 + len(OUR_PNG_TEXT))
    except OSError:
        return False
    return head.startswith(b"\x89PNG") and head[33 + 8: 33 + 8 + len(OUR_PNG_TEXT)] == OUR_PNG_TEXT


def write_image(path: str | Path, image: np.ndarray, rgb: bool = True, tag: bool = False) -> Path:
    """Write a uint8 image (RGB, or BGR with rgb=False, or 2-D gray) as PNG or JPEG (by the
    suffix) through a temporary name; a PNG with `tag` carries our tEXt chunk. Raises
    ImageWriteError (an OSError) saying where and why: it never returns without the file in
    place. `path` may be a URL (see storage)."""
    remote = storage.is_remote(path)
    path = path if remote else Path(path)
    if rgb:
        image = rgb_to_bgr(image)
    suffix = Path(storage.name_of(path)).suffix.lower()
    suffix = suffix if suffix in (".png", ".jpg", ".jpeg") else ".png"
    try:
        data = encode_bgr(image, suffix)
        data = tag_png(data) if tag and suffix == ".png" else data
    except ValueError as e:
        raise ImageWriteError(f"cannot encode {storage.name_of(path)} ({e})") from None
    if not remote and not path.parent.is_dir():
        raise ImageWriteError(f"cannot write {path}: folder {path.parent} does not exist")
    try:
        if remote:
            storage.write_bytes(path, data)
            return path
        return atomic_write_bytes(path, data)
    except OSError as e:
        raise ImageWriteError(f"cannot write {path}: {e.strerror or e}") from None
