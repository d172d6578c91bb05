import cv2
import numpy as np
import pytest

from inpaint_data.datasets.images import ImageError, decode_rgb, find_images, read_rgb


def _png(array):
    return cv2.imencode(".png", array)[1].tobytes()


def test_gray_rgba_and_16_bit_become_rgb8():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert np.array_equal(decode_rgb(_png(gray))[..., 1], gray)
    bgra = np.zeros((3, 4, 4), np.uint8)
    bgra[..., 2] = 200  # red
    assert decode_rgb(_png(bgra))[0, 0].tolist() == [200, 0, 0]
    deep = np.full((3, 4), 65535, np.uint16)
    out = decode_rgb(_png(deep))
    assert out.dtype == np.uint8 and out.max() == 255


def test_bad_images_raise_image_error(tmp_path):
    jpg = cv2.imencode(".jpg", np.zeros((32, 32, 3), np.uint8))[1].tobytes()
    with pytest.raises(ImageError, match="truncated JPEG"):
        decode_rgb(jpg[: len(jpg) // 2])
    with pytest.raises(ImageError, match="empty"):
        decode_rgb(b"")
    (tmp_path / "t.jpg").write_text("not an image")
    with pytest.raises(ImageError, match="not an image"):
        read_rgb(tmp_path / "t.jpg")


def test_find_images_keys_from_relative_paths(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/x.png", "a/b/x.png", "y.jpg", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    found = find_images([str(tmp_path)])
    assert [k for _, k in found] == ["a_b_x", "a_x", "y"]
