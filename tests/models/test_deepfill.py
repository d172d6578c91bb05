import pytest
import torch

from inpaint_data.models.attention import ContextualAttention, flow_picture
from inpaint_data.models.deepfill import Discriminator, Generator, composite
from inpaint_data.models.layers import GatedConv2d
from inpaint_data.models.losses import deepfill_g_loss, hinge_d_loss


def _count(module):
    return sum(p.numel() for p in module.parameters())


def test_parameter_counts_match_the_released_model():
    assert _count(Generator()) == 4_052_478
    assert _count(Generator(sketch=True)) == 4_053_678
    assert _count(Discriminator()) == 5_946_816


def test_gated_conv_halves_channels_and_gates():
    layer = GatedConv2d(4, 10, 3)
    assert layer(torch.randn(2, 4, 8, 8)).shape == (2, 5, 8, 8) and layer.out_channels == 5
    torch.nn.init.zeros_(layer.conv.weight)
    torch.nn.init.constant_(layer.conv.bias, 1.0)  # features 1 -> ELU 1, gate 1 -> sigmoid(1)
    assert torch.allclose(layer(torch.randn(1, 4, 3, 3)), torch.sigmoid(torch.tensor(1.0)).expand(1, 5, 3, 3))
    plain = GatedConv2d(4, 3, 3, activation=None)
    assert plain(torch.randn(1, 4, 8, 8)).shape == (1, 3, 8, 8)


def _planted(seed, hole_box, source_box):
    """Random features whose hole region holds a copy of a known background patch."""
    g = torch.Generator().manual_seed(seed)
    features = torch.randn(1, 16, 32, 32, generator=g)
    mask = torch.zeros(1, 1, 32, 32)
    (y0, y1, x0, x1), (sy, sx) = hole_box, source_box
    mask[..., y0:y1, x0:x1] = 1
    features[..., y0:y1, x0:x1] = features[..., sy : sy + y1 - y0, sx : sx + x1 - x0]
    return features, mask


def test_attention_reconstructs_a_planted_background_patch():
    features, mask = _planted(0, (8, 16, 8, 16), (20, 18))
    out, offsets = ContextualAttention()(features, features, mask)
    # the hole's interior (away from patch borders, where neighbouring patches mix in) is copied
    inner = (slice(None), slice(None), slice(10, 14), slice(10, 14))
    source = features[..., 22:26, 20:24]
    assert torch.allclose(out[inner], source, atol=0.05), (out[inner] - source).abs().max()
    # the best match of a hole position points at the source: offset (20-8, 18-8) / rate
    assert offsets[0, :, 5, 5].tolist() == [6, 5]


def test_per_sample_masks_in_one_batch_equal_separate_runs():
    a, mask_a = _planted(1, (8, 16, 8, 16), (20, 18))
    b, mask_b = _planted(2, (2, 12, 18, 30), (20, 2))
    attention = ContextualAttention()
    together, offsets = attention(torch.cat([a, b]), torch.cat([a, b]), torch.cat([mask_a, mask_b]))
    for i, (x, m) in enumerate(((a, mask_a), (b, mask_b))):
        alone, off = attention(x, x, m)
        assert torch.allclose(together[i : i + 1], alone, atol=1e-5) and torch.equal(offsets[i : i + 1], off)
    chunked, _ = ContextualAttention(batch_chunk=1)(torch.cat([a, b]), torch.cat([a, b]), torch.cat([mask_a, mask_b]))
    assert torch.allclose(chunked, together, atol=1e-6)


def test_flow_picture_is_white_where_nothing_moves():
    offsets = torch.zeros(1, 2, 4, 4, dtype=torch.long)
    offsets[0, 1, 0, 0] = 3
    picture = flow_picture(offsets, scale=2)
    assert picture.shape == (1, 3, 8, 8) and torch.equal(picture[0, :, 7, 7], torch.ones(3))
    assert picture[0, :, 0, 0].min() < 0.5


@pytest.mark.slow
@pytest.mark.parametrize("size,cnum", [((256, 256), 48), ((512, 512), 8), ((256, 384), 16)])
def test_forward_backward_without_nan_and_composite_keeps_known_pixels(size, cnum):
    torch.manual_seed(0)
    generator, discriminator = Generator(cnum=cnum, sketch=True), Discriminator(cnum=cnum, sketch=True)
    image = torch.rand(1, 3, *size) * 2 - 1
    hole = torch.zeros(1, 1, *size)
    hole[..., size[0] // 4 : size[0] // 2, size[1] // 3 : size[1] // 2] = 1
    sketch = (torch.rand(1, 1, *size) > 0.9).float() * hole
    coarse, fine = generator(image, hole, sketch)
    assert coarse.shape == fine.shape == image.shape
    done = composite(fine, image, hole)
    assert torch.equal(done[hole.expand_as(image) == 0], image[hole.expand_as(image) == 0])
    d_loss = hinge_d_loss(discriminator(image, hole, sketch), discriminator(done.detach(), hole, sketch))
    g_loss, terms = deepfill_g_loss(discriminator(done, hole, sketch), coarse, fine, image)
    (d_loss + g_loss).backward()
    grads = [p.grad for p in list(generator.parameters()) + list(discriminator.parameters())]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert torch.isfinite(d_loss) and all(torch.isfinite(t) for t in terms.values())


def test_sizes_and_sketch_are_checked():
    with pytest.raises(ValueError, match="divisible by 8"):
        Generator(cnum=8)(torch.zeros(1, 3, 60, 64), torch.zeros(1, 1, 60, 64))
    with pytest.raises(ValueError, match="without a sketch"):
        Generator(cnum=8)(torch.zeros(1, 3, 64, 64), torch.zeros(1, 1, 64, 64), torch.zeros(1, 1, 64, 64))


def test_hinge_losses_follow_the_released_code():
    real, fake = torch.tensor([[2.0, 0.5]]), torch.tensor([[-2.0, 0.5]])
    assert hinge_d_loss(real, fake).item() == pytest.approx(0.5 * 0.25 + 0.5 * 0.75)
    total, terms = deepfill_g_loss(fake, torch.zeros(1, 3, 2, 2), torch.ones(1, 3, 2, 2), torch.zeros(1, 3, 2, 2))
    assert terms["gan"].item() == pytest.approx(0.75) and total.item() == pytest.approx(0.75 + 0 + 1)


@pytest.mark.slow
def test_overfits_one_image_in_300_steps():
    torch.manual_seed(0)
    from skimage import data

    image = torch.from_numpy(data.astronaut()[::8, ::8][:64, :64].copy()).permute(2, 0, 1)[None].float() / 127.5 - 1
    hole = torch.zeros(1, 1, 64, 64)
    hole[..., 20:40, 24:44] = 1
    generator = Generator(cnum=32)
    opt = torch.optim.Adam(generator.parameters(), lr=2e-3, betas=(0.5, 0.999))

    def hole_l1():
        with torch.no_grad():
            _, fine = generator(image, hole)
        return ((fine - image).abs() * hole).sum().item() / (3 * hole.sum().item())

    start = hole_l1()
    for step in range(300):
        coarse, fine = generator(image, hole)
        # the released whole-image L1 of both stages, plus a hole L1 to get there in 300 steps
        loss = (coarse - image).abs().mean() + (fine - image).abs().mean()
        loss = loss + 5 * (((coarse - image).abs() + (fine - image).abs()) * hole).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 50 == 49 and hole_l1() < start / 5:
            break
    assert hole_l1() < start / 5


def test_all_zero_background_patches_give_finite_gradients():
    features = torch.zeros(1, 8, 16, 16)
    features[..., :, :4] = torch.randn(1, 8, 16, 4)
    features.requires_grad_(True)
    mask = torch.zeros(1, 1, 16, 16)
    mask[..., 4:10, 6:12] = 1
    out, _ = ContextualAttention()(features, features, mask)
    out.sum().backward()
    assert torch.isfinite(features.grad).all()
