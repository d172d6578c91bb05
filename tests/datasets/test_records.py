import io

import cv2
import numpy as np
import pytest
from PIL import Image

from inpaint_data.datasets.codec import decode_sample, encode_gray_png, encode_sample
from inpaint_data.datasets.records import Sample


@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (256, 256), (64, 512)])
def test_gray_png_round_trips_any_uint8_values(shape):
    array = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)  # wraps in the Up filter
    data = encode_gray_png(array)
    assert np.array_equal(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED), array)
    image = Image.open(io.BytesIO(data))
    assert image.mode == "L" and np.array_equal(np.asarray(image), array)


def test_gray_png_rejects_other_arrays():
    with pytest.raises(ValueError, match="uint8 H x W"):
        encode_gray_png(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8 H x W"):
        encode_gray_png(np.zeros((4, 4), np.float32))


def test_sample_members_round_trip():
    rng = np.random.default_rng(1)
    sample = Sample(key="k_1", image=rng.integers(0, 256, (5, 6, 3), dtype=np.uint8),
                    mask=np.full((5, 6), 255, np.uint8),
                    meta={"a": 1})
    members = encode_sample(sample)
    assert list(members) == ["png", "mask.png", "json"]
    back = decode_sample("k_1", members)
    assert np.array_equal(back.image, sample.image) and np.array_equal(back.mask, sample.mask) and back.meta == {"a": 1}


def test_encoded_image_bytes_are_kept_as_they_are():
    ok, jpg = cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))
    members = encode_sample(Sample(key="x", image=jpg.tobytes(), image_ext="jpg"))
    assert members["jpg"] == jpg.tobytes()
