"""TensorFlow checkpoints with DeepFill v2's variable names, for tests/models/test_released_deepfill.py.

Run once in a separate venv with TensorFlow (no DeepFill code is needed; nothing is vendored):

    python3 -m venv /tmp/tfref && /tmp/tfref/bin/pip install tensorflow-cpu numpy
    /tmp/tfref/bin/python tests/data/deepfill_tf/make_tf_checkpoint.py

The names and shapes are those JiahuiYu/generative_inpainting (v2.0.0, inpaint_model.py and
inpaint_ops.py) and neuralgym (ops/gan_ops.py) create: `tf.layers.conv2d` in gen_conv makes
`{scope}/{name}/kernel` (kh, kw, cin, cout) and `/bias`; gen_deconv nests its conv as
`{name}/{name}_conv`; the SN-PatchGAN's conv2d_spectral_norm adds `{name}/kernel_sn/u` (1, cout).
Channel counts follow the gated convolutions: every conv but the two 3-channel outputs makes
2 x C channels and passes C on. The variables are created with tf.compat.v1.get_variable in
those scopes and saved with tf.compat.v1.train.Saver (the V2 bundle format the released
`snap-*.index` / `.data-*` files have), together with the Adam slots (`/Adam`, `/Adam_1`) and
beta powers an AdamOptimizer step creates, as a training run's snapshot would hold them.

Writes, for a small width (cnum 8, no sketch channel) and seeded random values:
  small/snap-7.index, small/snap-7.data-00000-of-00001: generator, discriminator and Adam slots;
  small_values.json: every variable's shape, dtype and the sha256 of its little-endian bytes as
  TensorFlow reads it back (tf.train.load_checkpoint), to check our reader against;
  small_layers.npz: an input and TF's outputs of the first two gated convolutions on it;
  released_names.json: [name, shape] of every generator and discriminator variable at the
  released width (cnum 48 / 64, no sketch), what a released snapshot holds.
"""

import hashlib
import json
from pathlib import Path

import numpy as np
import tensorflow as tf

HERE = Path(__file__).parent
tf1 = tf.compat.v1

# (name, output channels before gating as a multiple of cnum or a number, kernel) in build order
COARSE = ([("conv1", 1, 5), ("conv2_downsample", 2, 3), ("conv3", 2, 3), ("conv4_downsample", 4, 3),
           ("conv5", 4, 3), ("conv6", 4, 3)] + [(f"conv{i}_atrous", 4, 3) for i in (7, 8, 9, 10)]
          + [("conv11", 4, 3), ("conv12", 4, 3), ("conv13_upsample", 2, 3), ("conv14", 2, 3),
             ("conv15_upsample", 1, 3), ("conv16", 0.5, 3), ("conv17", "rgb", 3)])
HALLUCINATE = ([("xconv1", 1, 5), ("xconv2_downsample", 1, 3), ("xconv3", 2, 3), ("xconv4_downsample", 2, 3),
                ("xconv5", 4, 3), ("xconv6", 4, 3)] + [(f"xconv{i}_atrous", 4, 3) for i in (7, 8, 9, 10)])
ATTEND = [("pmconv1", 1, 5), ("pmconv2_downsample", 1, 3), ("pmconv3", 2, 3), ("pmconv4_downsample", 4, 3),
          ("pmconv5", 4, 3), ("pmconv6", 4, 3)]
ATTEND_OUT = [("pmconv9", 4, 3), ("pmconv10", 4, 3)]
MERGED = [("allconv11", 4, 3), ("allconv12", 4, 3), ("allconv13_upsample", 2, 3), ("allconv14", 2, 3),
          ("allconv15_upsample", 1, 3), ("allconv16", 0.5, 3), ("allconv17", "rgb", 3)]


def generator_shapes(cnum: int, sketch: bool) -> list[tuple[str, list[int]]]:
    """inpaint_net's variables in creation order, with shapes."""
    variables = []

    def stack(layers, channels_in):
        for name, out, k in layers:
            cout = 3 if out == "rgb" else int(out * cnum)
            scope = f"inpaint_net/{name}/{name}_conv" if name.endswith("_upsample") else f"inpaint_net/{name}"
            variables.extend([(f"{scope}/kernel", [k, k, channels_in, cout]), (f"{scope}/bias", [cout])])
            channels_in = cout if out == "rgb" else cout // 2
        return channels_in

    stack(COARSE, 3 + int(sketch) + 2)
    hallucinated = stack(HALLUCINATE, 3)
    attended = stack(ATTEND_OUT, stack(ATTEND, 3))
    stack(MERGED, hallucinated + attended)
    return variables


def discriminator_shapes(cnum: int, sketch: bool) -> list[tuple[str, list[int]]]:
    variables, channels_in = [], 3 + int(sketch) + 1  # image (+ sketch), mask
    for i, mult in enumerate((1, 2, 4, 4, 4, 4), start=1):
        scope = f"discriminator/sn_patch_gan/conv{i}"
        cout = cnum * mult
        variables += [(f"{scope}/kernel", [5, 5, channels_in, cout]), (f"{scope}/bias", [cout]),
                      (f"{scope}/kernel_sn/u", [1, cout])]
        channels_in = cout
    return variables


def gated(x, kernel, bias, stride):
    """inpaint_ops.gen_conv with padding "SAME": tf.layers.conv2d, split in two, ELU x sigmoid."""
    y = tf.nn.conv2d(x, kernel, strides=stride, padding="SAME") + bias
    features, gate = tf.split(y, 2, axis=3)
    return (tf.nn.elu(features) * tf.nn.sigmoid(gate)).numpy()


def main() -> None:
    rng = np.random.default_rng(0)
    (HERE / "small").mkdir(exist_ok=True)
    graph = tf.Graph()
    with graph.as_default():
        trainable = []
        for name, shape in generator_shapes(8, sketch=False) + discriminator_shapes(8, sketch=False):
            value = rng.normal(0, 0.2, shape).astype(np.float32)
            variable = tf1.get_variable(name, initializer=value, trainable=not name.endswith("/u"))
            if not name.endswith("/u"):
                trainable.append(variable)
        loss = tf.add_n([tf.reduce_sum(tf.square(v)) for v in trainable])
        generator_vars = [v for v in trainable if v.name.startswith("inpaint_net/")]
        step_g = tf1.train.AdamOptimizer(1e-4, beta1=0.5, beta2=0.999).minimize(loss, var_list=generator_vars)
        step_d = tf1.train.AdamOptimizer(1e-4, beta1=0.5, beta2=0.999).minimize(
            loss, var_list=[v for v in trainable if v not in generator_vars])
        saver = tf1.train.Saver()
        with tf1.Session(graph=graph) as session:
            session.run(tf1.global_variables_initializer())
            for _ in range(3):
                session.run([step_g, step_d])
            prefix = saver.save(session, str(HERE / "small" / "snap"), global_step=7, write_meta_graph=False)
    reader = tf.train.load_checkpoint(prefix)
    values = {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}
    digests = {name: [list(v.shape), str(v.dtype), hashlib.sha256(np.ascontiguousarray(v, v.dtype.newbyteorder("<"))
                                                                   .tobytes()).hexdigest()]
               for name, v in sorted(values.items())}
    (HERE / "small_values.json").write_text(json.dumps(digests, indent=0))
    (HERE / "small" / "checkpoint").unlink(missing_ok=True)
    # two of gen_conv's layers on a fixed input, with the file's kernels: a 5 x 5 gated conv and a
    # stride-2 one (TF's SAME padding is uneven there), split, ELU(features) * sigmoid(gate)
    x = np.random.default_rng(1).normal(0, 1, (1, 16, 20, 5)).astype(np.float32)
    conv1 = gated(x, values["inpaint_net/conv1/kernel"], values["inpaint_net/conv1/bias"], 1)
    conv2 = gated(conv1, values["inpaint_net/conv2_downsample/kernel"], values["inpaint_net/conv2_downsample/bias"], 2)
    np.savez(HERE / "small_layers.npz", input=x, conv1=conv1, conv2_downsample=conv2)
    released = generator_shapes(48, sketch=False) + discriminator_shapes(64, sketch=False)
    (HERE / "released_names.json").write_text(json.dumps(released, indent=0))
    print(f"{len(values)} variables in {prefix}; {len(released)} released names")


if __name__ == "__main__":
    main()
