import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from inpaint_data.models.layers import PartialConv2d
from inpaint_data.models.losses import PConvLoss, gram_matrix, hole_tv
from inpaint_data.models.pconv import PConvUNet
from inpaint_data.models.vgg import VGG16Features, load_vgg


def nvidia_partial_conv(layer, x, m):
    """NVIDIA's PartialConv2d (multi_channel=True, return_mask=True), from its published formula."""
    ones = torch.ones(layer.out_channels, layer.in_channels, *layer.kernel_size)
    update = F.conv2d(m, ones, None, layer.stride, layer.padding, layer.dilation)
    ratio = layer.in_channels * layer.kernel_size[0] * layer.kernel_size[1] / (update + 1e-8)
    update = update.clamp(0, 1)
    ratio = ratio * update
    raw = F.conv2d(x * m, layer.weight, layer.bias, layer.stride, layer.padding, layer.dilation)
    if layer.bias is None:
        return raw * ratio, update
    b = layer.bias.view(1, -1, 1, 1)
    return ((raw - b) * ratio + b) * update, update


@pytest.mark.parametrize("kernel,stride,padding,dilation", [(3, 1, 1, 1), (5, 2, 2, 1), (3, 1, 2, 2), (7, 2, 3, 1)])
@pytest.mark.parametrize("bias", [True, False])
def test_partial_conv_agrees_with_nvidia(kernel, stride, padding, dilation, bias):
    torch.manual_seed(kernel * 10 + stride)
    layer = PartialConv2d(4, 6, kernel, stride, padding, dilation, bias=bias)
    x = torch.randn(3, 4, 21, 18)
    m = (torch.rand(3, 4, 21, 18) > 0.5).float()
    m[0] = 0  # a sample with no known pixel
    m[1, :, 5:15, 4:12] = 0  # and a large hole
    y, new = layer(x, m)
    y_ref, new_ref = nvidia_partial_conv(layer, x, m)
    assert torch.allclose(y, y_ref, atol=1e-5) and torch.equal(new, new_ref)
    assert not y[0].any()


def test_partial_conv_equals_nvidias_own_layer_run_on_the_same_weights():
    """Stored outputs of NVIDIA/partialconv's PartialConv2d itself (multi_channel, return_mask;
    tests/data/partialconv/make_reference.py), not a formula of ours: three layers, per-channel
    masks with a hole wider than the kernel. Our eps is 1e-6 where NVIDIA's is 1e-8."""
    from pathlib import Path

    reference = torch.load(Path(__file__).parents[1] / "data" / "partialconv" / "reference.pt", weights_only=True)
    for case in reference["cases"]:
        cin, cout, kernel, stride, padding, dilation, bias = case["settings"]
        layer = PartialConv2d(cin, cout, kernel, stride, padding, dilation, bias=bias)
        with torch.no_grad():
            layer.weight.copy_(case["weight"])
            if bias:
                layer.bias.copy_(case["bias"])
            out, new = layer(case["input"], case["mask"])
        assert torch.allclose(out, case["output"], atol=1e-5, rtol=1e-5), case["settings"]
        assert torch.equal(new, case["new_mask"]) and not new.all() and new.any()


def test_partial_conv_counts_exactly_under_bf16_autocast():
    layer = PartialConv2d(512, 8, 3, padding=1)
    x = torch.randn(1, 512, 8, 8)
    m = (torch.rand(1, 512, 8, 8) > 0.3).float()
    with torch.autocast("cpu", torch.bfloat16):
        y, new = layer(x, m)
    y32, new32 = layer(x, m)
    assert torch.equal(new, new32) and torch.isfinite(y).all()
    assert torch.allclose(y.float(), y32, rtol=0.05, atol=0.05)


@pytest.mark.slow
def test_paper_model_has_32_859_732_parameters_and_survives_extreme_masks():
    model = PConvUNet(layers=8).eval()
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 32_859_732
    image = torch.rand(1, 3, 512, 512) * 2 - 1
    with torch.no_grad():
        for hole in (torch.ones(1, 1, 512, 512), torch.zeros(1, 1, 512, 512)):
            out = model(image, hole)
            assert out.shape == image.shape and torch.isfinite(out).all()


def test_seven_levels_at_256_and_size_check():
    model = PConvUNet(layers=7, width=16)
    out = model(torch.zeros(2, 3, 256, 256), (torch.rand(2, 1, 256, 256) > 0.5).float())
    assert out.shape == (2, 3, 256, 256)
    with pytest.raises(ValueError, match="divisible by 128"):
        model(torch.zeros(1, 3, 200, 256), torch.zeros(1, 1, 200, 256))


def test_frozen_encoder_bn_keeps_statistics_and_affine():
    model = PConvUNet(layers=3, width=8)
    model.freeze_encoder_bn()
    model.train()
    bn = model.encoder_bn[1]
    before = bn.running_mean.clone()
    model(torch.randn(2, 3, 32, 32), torch.zeros(2, 1, 32, 32))
    assert not bn.training and torch.equal(bn.running_mean, before)
    assert not bn.weight.requires_grad and model.decoder_bn[0].training


class Identity(nn.Module):
    """A one-scale "VGG" for hand-checkable losses."""

    def forward(self, x):
        return [x]


def test_every_loss_term_matches_a_hand_computation():
    rng = np.random.default_rng(0)
    out = rng.uniform(-1, 1, (1, 2, 3, 3)).astype(np.float32)
    gt = rng.uniform(-1, 1, (1, 2, 3, 3)).astype(np.float32)
    hole = np.zeros((1, 1, 3, 3), np.float32)
    hole[0, 0, 0, 0] = hole[0, 0, 0, 1] = 1
    comp = hole * out + (1 - hole) * gt
    n = out.size
    expected = {
        "valid": np.abs((1 - hole) * (out - gt)).sum() / n,
        "hole": np.abs(hole * (out - gt)).sum() / n,
        "perceptual": np.abs(out - gt).mean() + np.abs(comp - gt).mean(),
    }

    def gram(f):
        v = f[0].reshape(2, 9)
        return v @ v.T / (2 * 9)

    expected["style_out"] = np.abs(gram(out) - gram(gt)).mean()
    expected["style_comp"] = np.abs(gram(comp) - gram(gt)).mean()
    region = np.zeros((3, 3), bool)  # the hole dilated by one pixel (8-neighbourhood)
    for y in range(3):
        for x in range(3):
            region[y, x] = hole[0, 0, max(0, y - 1) : y + 2, max(0, x - 1) : x + 2].any()
    tv = 0.0
    for c in range(2):
        for y in range(3):
            for x in range(3):
                if x + 1 < 3 and region[y, x] and region[y, x + 1]:
                    tv += abs(comp[0, c, y, x + 1] - comp[0, c, y, x])
                if y + 1 < 3 and region[y, x] and region[y + 1, x]:
                    tv += abs(comp[0, c, y + 1, x] - comp[0, c, y, x])
    expected["tv"] = tv / n
    total, terms = PConvLoss(Identity())(torch.from_numpy(out), torch.from_numpy(gt), torch.from_numpy(hole))
    for name, value in expected.items():
        assert terms[name].item() == pytest.approx(value, rel=1e-5, abs=1e-7), name
    weighted = (expected["valid"] + 6 * expected["hole"] + 0.05 * expected["perceptual"]
                + 120 * (expected["style_out"] + expected["style_comp"]) + 0.1 * expected["tv"])
    assert total.item() == pytest.approx(weighted, rel=1e-5)


def test_gradients_reach_the_hole_only_through_hole_aware_terms():
    torch.manual_seed(0)
    out = torch.randn(1, 3, 16, 16, requires_grad=True)
    gt = torch.randn(1, 3, 16, 16)
    hole = torch.zeros(1, 1, 16, 16)
    hole[..., 4:10, 5:12] = 1
    _, terms = PConvLoss(VGG16Features())(out, gt, hole)
    inside, outside = hole.expand_as(out) > 0, hole.expand_as(out) == 0
    for name, where_zero in (("valid", inside), ("hole", outside), ("style_comp", outside), ("tv", outside)):
        (grad,) = torch.autograd.grad(terms[name], out, retain_graph=True)
        assert not grad[where_zero].any(), name
        assert grad[~where_zero].abs().sum() > 0, name
    (grad,) = torch.autograd.grad(terms["style_out"], out, retain_graph=True)
    assert grad[inside].abs().sum() > 0 and grad[outside].abs().sum() > 0  # the raw output: everywhere


def test_gram_is_float32_and_normalised():
    f = torch.ones(2, 4, 3, 5, dtype=torch.bfloat16)
    g = gram_matrix(f)
    assert g.dtype == torch.float32 and torch.allclose(g, torch.full((2, 4, 4), 15 / 60))
    assert hole_tv(torch.zeros(1, 3, 4, 4), torch.ones(1, 1, 4, 4)) == 0


def test_vgg_loads_torchvision_layout_and_rejects_others(tmp_path):
    source = VGG16Features()
    indices = ((0, 2), (5, 7), (10, 12, 14))
    state = {f"features.{i}.{k}": getattr(source.blocks[b][c], k).detach().clone()
             for b, idx in enumerate(indices) for c, i in enumerate(idx) for k in ("weight", "bias")}
    state["classifier.0.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "vgg16.pth")
    loaded = load_vgg(tmp_path / "vgg16.pth")
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    assert loaded.input_space == "imagenet"
    assert all(torch.equal(a, b) for a, b in zip(loaded(x), source(x)))
    torch.save({"features.0.weight": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="not a torchvision VGG16"):
        load_vgg(tmp_path / "bad.pth")


def test_hed_backbone_is_the_fallback():
    from inpaint_data.models.hed_weights import fetch_hed_weights, load_hed

    fetch_hed_weights()
    vgg = load_vgg()
    assert vgg.input_space == "caffe_bgr"
    assert torch.equal(vgg.blocks[2][2].weight, load_hed().blocks[2][2].weight)
    assert all(not p.requires_grad for p in vgg.parameters())


@pytest.mark.slow
def test_overfits_one_image_in_300_steps():
    torch.manual_seed(0)
    from skimage import data

    image = torch.from_numpy(data.astronaut()[::8, ::8][:64, :64].copy()).permute(2, 0, 1)[None].float() / 127.5 - 1
    hole = torch.zeros(1, 1, 64, 64)
    hole[..., 20:40, 24:44] = 1
    model = PConvUNet(layers=4, width=16)
    loss_fn = PConvLoss(VGG16Features())
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)

    def hole_l1():
        model.eval()
        with torch.no_grad():
            l1 = ((model(image, hole) - image).abs() * hole).sum() / (3 * hole.sum())
        model.train()
        return l1.item()

    start = hole_l1()
    for step in range(300):
        loss, _ = loss_fn(model(image, hole), image, hole)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 50 == 49 and hole_l1() < start / 5:
            break
    assert hole_l1() < start / 5
