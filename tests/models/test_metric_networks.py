import json
from pathlib import Path

import pytest
import torch

from inpaint_data.errors import InputError
from inpaint_data.models.files import check_sha256, save_pt, sha256_of
from inpaint_data.models.inception import FIDInceptionV3, _tf_avg_pool, load_fid_inception, load_state
from inpaint_data.models.lpips import LPIPS, NETS, load_lpips, set_weights
from tests.metric_oracles import image_pairs, random_lpips

LPIPS_DATA = Path(__file__).parents[1] / "data" / "lpips"
LPIPS_REFERENCE = json.loads((LPIPS_DATA / "reference.json").read_text())
TORCHVISION_REFERENCE = json.loads((LPIPS_DATA / "torchvision_reference.json").read_text())


def test_fid_inception_has_pytorch_fids_parameters_and_names():
    net = FIDInceptionV3()
    # torchvision's inception_v3 has 27,161,264 parameters; without AuxLogits (3,326,696) and with
    # the TF graph's 1008 classes (+8 x 2049) as pytorch-fid builds it: 23,850,960
    assert sum(p.numel() for p in net.parameters()) == 23_850_960
    keys = net.state_dict()
    assert "Mixed_7c.branch3x3dbl_3b.bn.running_var" in keys and "fc.weight" in keys
    assert not any(k.startswith("AuxLogits") for k in keys)


def test_fid_inception_features_any_size_in_any_batch():
    torch.manual_seed(0)
    net = FIDInceptionV3()
    x = torch.rand(3, 3, 40, 56)
    features = net(x)
    assert features.shape == (3, 2048) and torch.isfinite(features).all() and (features >= 0).all()
    torch.testing.assert_close(net(x[1:2]), features[1:2], atol=1e-5, rtol=1e-4)  # batching changes nothing


def test_fid_inception_pools_as_tensorflow():
    """The A/C/E1 average pools leave the padding out (count_include_pad=False): on a constant
    map the pooled border equals the inside; the last E block max-pools."""
    net = FIDInceptionV3()
    x = torch.ones(1, 1, 5, 5)
    assert torch.equal(_tf_avg_pool(x), x)  # with the padding counted, the border would be 4/9 .. 6/9
    assert net.Mixed_7b.max_pool is False and net.Mixed_7c.max_pool is True


def test_loading_checks_every_key_and_shape(tmp_path):
    source = FIDInceptionV3()
    state = {k: v for k, v in source.state_dict().items() if not k.endswith("num_batches_tracked")}
    state["AuxLogits.fc.weight"] = torch.zeros(1)  # ignored, as torchvision files with aux heads carry it
    target = FIDInceptionV3()
    load_state(target, state, "test", ("AuxLogits.",))
    assert torch.equal(target.Mixed_6e.branch7x7dbl_5.conv.weight, source.Mixed_6e.branch7x7dbl_5.conv.weight)
    broken = dict(state)
    broken.pop("Conv2d_1a_3x3.conv.weight")
    broken["fc.weight"] = torch.zeros(1000, 2048)
    with pytest.raises(ValueError, match="1 missing .*1 of another shape"):
        load_state(target, broken, "test", ("AuxLogits.",))


def test_weights_of_another_file_are_refused(tmp_path):
    path = save_pt(FIDInceptionV3().state_dict(), tmp_path / "pt_inception-2015-12-05-6726825d.pth")
    with pytest.raises(InputError, match=r"sha256 .* expected 6726825d"):
        load_fid_inception(path)
    check_sha256(path, sha256_of(path), "test")  # the whole digest passes
    with pytest.raises(FileNotFoundError):
        check_sha256(tmp_path / "missing.pth", "0" * 64, "test")


@pytest.mark.parametrize("net", sorted(NETS))
def test_lpips_matches_the_lpips_package(net):
    """Distances of the `lpips` package's own code (tests/data/lpips/make_reference.py) on the
    same random backbone and heads."""
    a, b = image_pairs()
    with torch.no_grad():
        ours = random_lpips(net)(a, b)
    torch.testing.assert_close(ours, torch.tensor(LPIPS_REFERENCE[net]), atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("net", sorted(NETS))
def test_lpips_matches_the_lpips_package_on_torchvisions_own_backbone(net):
    """An oracle without our layers (tests/data/lpips/make_torchvision_reference.py): the lpips
    package on torchvision 0.28's AlexNet / VGG16, weights by formula from torchvision's own
    parameter names and shapes, which our loader must take as they are."""
    import sys

    sys.path.insert(0, str(LPIPS_DATA))
    from formula import backbone_weights, head_weights
    from formula import image_pairs as formula_pairs

    reference = TORCHVISION_REFERENCE[net]
    keys = [(k, shape) for k, shape in reference["backbone"]]
    backbone = {k: torch.from_numpy(v) for k, v in backbone_weights(keys).items()}
    heads = {f"lin{k}.model.1.weight": torch.from_numpy(w) for k, w in enumerate(head_weights(reference["heads"]))}
    model = LPIPS(net)
    set_weights(model, backbone, heads)
    a, b = (torch.from_numpy(x) for x in formula_pairs())
    with torch.no_grad():
        ours = model.eval()(a, b).flatten()
    torch.testing.assert_close(ours, torch.tensor(reference["distances"]), atol=1e-6, rtol=1e-4)


def test_lpips_is_zero_for_identical_images_and_grows_with_noise():
    a, b = image_pairs()
    model = random_lpips("alex")
    with torch.no_grad():
        assert model(a, a).abs().max() == 0
        small = model(a, (a + 0.05 * (b - a)).clamp(-1, 1))
        large = model(a, b)
    assert (small < large).all()


def test_lpips_loads_torchvision_and_lpips_state_dicts(tmp_path):
    source = random_lpips("vgg", seed=3)
    backbone = {f"features.{k}": v for k, v in source.features.state_dict().items()}
    backbone["classifier.0.weight"] = torch.zeros(4, 4)  # torchvision files carry the classifier too
    heads = {f"lin{k}.model.1.weight": lin.weight.detach().clone() for k, lin in enumerate(source.lins)}
    model = LPIPS("vgg")
    set_weights(model, backbone, heads)
    a, b = image_pairs()
    with torch.no_grad():
        torch.testing.assert_close(model(a, b), source(a, b))
    with pytest.raises(ValueError, match="missing"):
        set_weights(model, backbone, {})
    backbone_file = save_pt(backbone, tmp_path / "vgg16-397923af.pth")
    heads_file = save_pt(heads, tmp_path / "vgg.pth")
    with pytest.raises(InputError, match="expected 397923af"):
        load_lpips("vgg", backbone_file, heads_file)
    with pytest.raises(ValueError, match="unknown LPIPS backbone"):
        load_lpips("squeeze", backbone_file, heads_file)
