"""DeepFill v2's released TensorFlow checkpoints (JiahuiYu/generative_inpainting v2.0.0: Places2,
CelebA-HQ; `snap-*.index` / `.data-*`) onto our DeepFill v2 generator and SN-PatchGAN.

Variable names are those inpaint_model.py builds: `inpaint_net/{layer}/kernel|bias` in build
order (gen_deconv nests its conv as `{layer}/{layer}_conv`), and for the discriminator
`discriminator/sn_patch_gan/conv{1-6}/kernel|bias|kernel_sn/u` (neuralgym's spectral norm keeps
its left singular vector `u`). Our layers are built in the same order (models/deepfill.py), so
the i-th TF layer of each stage is our stage's i-th layer; the imported model pads its strided
layers as TF's "SAME" does (`tf_padding`, layers.use_tf_same_padding). Kernels are TF's (kh, kw, cin, cout),
ours (cout, cin, kh, kw). A training snapshot's Adam slots (`{var}/Adam`, `/Adam_1`) become our
Adams' moments, its `beta2_power` their step count (the released betas 0.5 / 0.999).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ...errors import InputError
from .. import deepfill
from .common import ImportedModel, listed, load_exactly

#: inpaint_model.py's layer names, stage by stage, in the order our stages hold them.
STAGES = {
    "coarse.layers": ["conv1", "conv2_downsample", "conv3", "conv4_downsample", "conv5", "conv6",
                      "conv7_atrous", "conv8_atrous", "conv9_atrous", "conv10_atrous", "conv11", "conv12",
                      "conv13_upsample", "conv14", "conv15_upsample", "conv16"],
    "refine_conv.layers": ["xconv1", "xconv2_downsample", "xconv3", "xconv4_downsample", "xconv5", "xconv6",
                           "xconv7_atrous", "xconv8_atrous", "xconv9_atrous", "xconv10_atrous"],
    "refine_attention_in.layers": ["pmconv1", "pmconv2_downsample", "pmconv3", "pmconv4_downsample", "pmconv5",
                                   "pmconv6"],
    "refine_attention_out.layers": ["pmconv9", "pmconv10"],
    "refine_out.layers": ["allconv11", "allconv12", "allconv13_upsample", "allconv14", "allconv15_upsample",
                          "allconv16"],
}
OUTPUTS = {"coarse_out": "conv17", "fine_out": "allconv17"}
GENERATOR_SCOPE, DISCRIMINATOR_SCOPE = "inpaint_net/", "discriminator/sn_patch_gan/"
#: What training adds beside the variables: Adam's slots and bias-correction powers, the step.
SLOTS = ("/Adam", "/Adam_1")
#: The released inpaint.yml's Adam betas, for the step count a snapshot's beta powers give.
BETA2 = 0.999


def _tf_scope(layer: str) -> str:
    return f"{GENERATOR_SCOPE}{layer}/{layer}_conv" if layer.endswith("_upsample") else f"{GENERATOR_SCOPE}{layer}"


def generator_names() -> dict[str, str]:
    """Our generator's state_dict key -> the TF variable it comes from."""
    names = {}
    for stage, layers in STAGES.items():
        for i, layer in enumerate(layers):
            ours = f"{stage}.{i}.conv.conv" if layer.endswith("_upsample") else f"{stage}.{i}.conv"
            names[f"{ours}.weight"], names[f"{ours}.bias"] = f"{_tf_scope(layer)}/kernel", f"{_tf_scope(layer)}/bias"
    for ours, layer in OUTPUTS.items():
        names[f"{ours}.conv.weight"], names[f"{ours}.conv.bias"] = (f"{_tf_scope(layer)}/kernel",
                                                                    f"{_tf_scope(layer)}/bias")
    return names


def discriminator_names() -> dict[str, str]:
    """Our discriminator's state_dict key -> the TF variable (spectral norm's `_v` is derived)."""
    names = {}
    for i in range(6):
        scope = f"{DISCRIMINATOR_SCOPE}conv{i + 1}"
        names[f"layers.{2 * i}.bias"] = f"{scope}/bias"
        names[f"layers.{2 * i}.parametrizations.weight.original"] = f"{scope}/kernel"
        names[f"layers.{2 * i}.parametrizations.weight.0._u"] = f"{scope}/kernel_sn/u"
    return names


def _torch_layout(value: np.ndarray) -> torch.Tensor:
    """TF's (kh, kw, cin, cout) kernel as (cout, cin, kh, kw); other tensors as they are."""
    tensor = torch.from_numpy(np.ascontiguousarray(value))
    return tensor.permute(3, 2, 0, 1).contiguous() if tensor.ndim == 4 else tensor


def _mapped(tensors: dict[str, np.ndarray], names: dict[str, str], path: str, what: str) -> dict[str, torch.Tensor]:
    missing = [tf for tf in names.values() if tf not in tensors]
    if missing:
        raise InputError(f"{path}: the {what} lacks {len(missing)} variables: {listed(missing, quoted=False)}")
    return {ours: _torch_layout(tensors[tf]) for ours, tf in names.items()}


def _spectral_v(state: dict[str, torch.Tensor]) -> None:
    """Each spectral-norm layer's right vector from its kernel and TF's left one: v = W^T u / |W^T u|."""
    for key in [k for k in state if k.endswith("._u")]:
        layer = key[: -len(".parametrizations.weight.0._u")]
        weight = state[f"{layer}.parametrizations.weight.original"].flatten(1)
        u = state[key].reshape(-1)
        state[key] = u
        v = weight.t() @ u
        state[f"{layer}.parametrizations.weight.0._v"] = v / v.norm().clamp_min(1e-12)


def _adam_state(tensors: dict[str, np.ndarray], module: torch.nn.Module, names: dict[str, str], step: int) -> dict:
    """A torch Adam state_dict for `module`'s parameters from the TF slots of their variables."""
    state = {}
    parameters = [name for name, _ in module.named_parameters()]
    for i, name in enumerate(parameters):
        tf = names[name]
        state[i] = {"step": torch.tensor(float(step)), "exp_avg": _torch_layout(tensors[tf + "/Adam"]),
                    "exp_avg_sq": _torch_layout(tensors[tf + "/Adam_1"])}
    return {"state": state, "param_groups": [{"lr": 1e-4, "betas": (0.5, BETA2), "eps": 1e-8, "weight_decay": 0,
                                              "amsgrad": False, "params": list(range(len(parameters)))}]}


def from_tf_bundle(tensors: dict[str, np.ndarray], path: str) -> ImportedModel:
    """Generator (required), discriminator (all of it or none) and Adam states (where every slot
    is there) of a DeepFill v2 TF checkpoint (tf_bundle.read_bundle); every variable of the file
    must find its place, else a one-line InputError names the first that does not."""
    first = tensors.get(f"{GENERATOR_SCOPE}conv1/kernel")
    if first is None or first.ndim != 4:
        raise InputError(f"{path}: no {GENERATOR_SCOPE}conv1/kernel: not DeepFill v2's inpaint_net")
    if first.shape[2] not in (5, 6):
        raise InputError(f"{path}: conv1 takes {first.shape[2]} channels; DeepFill v2 takes 5 (6 with a sketch)")
    sketch, cnum = first.shape[2] == 6, int(first.shape[3])
    g_names = generator_names()
    generator = deepfill.Generator(cnum=cnum, sketch=sketch, tf_padding=True)
    g_state = load_exactly(generator, _mapped(tensors, g_names, path, "generator"), f"{path}: the generator")
    used = set(g_names.values())

    discriminator = d_state = None
    d_names = discriminator_names()
    settings = {}
    if any(name.startswith(DISCRIMINATOR_SCOPE) for name in tensors):
        d_state = _mapped(tensors, d_names, path, "discriminator")
        settings["dcnum"] = int(d_state["layers.0.parametrizations.weight.original"].shape[0])
        discriminator = deepfill.Discriminator(cnum=settings["dcnum"], sketch=sketch, tf_padding=True)
        _spectral_v(d_state)
        d_state = load_exactly(discriminator, d_state, f"{path}: the discriminator")
        used |= set(d_names.values())

    step, optimizers = 0, {}
    powers = [name for name in tensors if name.split("/")[-1].startswith(("beta1_power", "beta2_power"))]
    beta2 = [float(tensors[name]) for name in powers if name.split("/")[-1].startswith("beta2_power")]
    if beta2 and 0 < beta2[0] < 1:  # TF1's Adam starts its power at beta2 and multiplies after each step
        step = round(math.log(beta2[0]) / math.log(BETA2)) - 1
    for name, module, names in (("generator", generator, g_names), ("discriminator", discriminator, d_names)):
        trainable = [tf for ours, tf in names.items() if not ours.endswith("._u")]
        if module is not None and all(tf + slot in tensors for tf in trainable for slot in SLOTS):
            optimizers[name] = _adam_state(tensors, module, names, step)
            used |= {tf + slot for tf in trainable for slot in SLOTS}
    used |= set(powers) | {"global_step"}
    left = sorted(set(tensors) - used)
    if left:
        raise InputError(f"{path}: variable {left[0]!r} has no place in our DeepFill v2"
                         + (f" ({len(left)} such)" if len(left) > 1 else ""))
    return ImportedModel(
        model_config={"model": "deepfillv2", "cnum": cnum, "sketch": sketch, "tf_padding": True}, generator=g_state,
        discriminator=d_state, optimizers=optimizers, settings=settings, train_size=256,
        source={"format": "deepfillv2-tensorflow", "adam_steps": step})
