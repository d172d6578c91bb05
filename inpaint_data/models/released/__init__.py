"""Released weights of other projects read into our models (`inpaint-data import`, `--init`).

Each importer reads a published file as data, maps every tensor onto our networks by name (a
file we cannot read whole is a one-line error, never a half-loaded model) and answers an
ImportedModel; `imported_file` makes of it a model file of ours (the export format, with the
discriminator, the optimiser states and the source beside the generator).

| file | importer |
|---|---|
| LaMa's Lightning checkpoint (`big-lama/models/best.ckpt`, any LaMa run's `.ckpt`) | lama.from_lightning |
| LaMa traced by its to_jit.py (IOPaint's `big-lama.pt`): weights only, its code never loaded | lama.from_traced |
| our own `export --torchscript` file: weights only, likewise | from_our_torchscript |
| DeepFill v2's TensorFlow checkpoint (`snap-*.index` and `.data-*`, Places2 / CelebA-HQ) | deepfill.from_tf_bundle |
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...errors import InputError
from ..exported import TORCHSCRIPT_INFO
from .common import ImportedModel, check_optimizer_state

#: The `format` of a file `imported_file` makes (the export format: every model reader takes it).
IMPORTED_FROM = "imported_from"


def is_tf_checkpoint(path: str | Path) -> bool:
    """Whether `path` names a TensorFlow checkpoint: its prefix, `.index` or a `.data-*` shard."""
    from ... import storage

    text = str(path)
    return text.endswith(".index") or ".data-" in Path(text).name or storage.is_file(text + ".index")


def read_released(path: str | Path) -> ImportedModel:
    """The released checkpoint at `path`, whichever of the known kinds it is."""
    import io
    import zipfile

    from ... import storage
    from . import lama
    from .lightning import read_checkpoint
    from .torchscript import is_torchscript, read_torchscript_tensors

    text = str(path)
    if is_tf_checkpoint(text):
        from .deepfill import from_tf_bundle
        from .tf_bundle import index_path, read_bundle

        tensors = read_bundle(text)
        imported = from_tf_bundle(tensors, text)
        prefix = Path(index_path(text)[0]).name
        # the snapshot's step: its global_step variable, else the number Saver put in its name
        step = tensors.get("global_step")
        number = prefix.rsplit("-", 1)[-1]
        imported.source.update(file=prefix, step=int(step) if step is not None else
                               int(number) if number.isdigit() else None)
        return imported
    if not storage.is_file(path):
        raise FileNotFoundError(f"released checkpoint {path} not found")
    data = storage.read_bytes(path)  # once: big-lama's files are hundreds of MB
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            traced = is_torchscript(archive)
    except zipfile.BadZipFile:
        traced = False
    if traced:
        tensors, extras = read_torchscript_tensors(path, data)
        imported = (from_our_torchscript(tensors, extras, str(path)) if TORCHSCRIPT_INFO in extras
                    else lama.from_traced(tensors, str(path)))
        imported.source["file"] = Path(str(path)).name
        return imported
    checkpoint = read_checkpoint(path, "released checkpoint", data)
    state = checkpoint.get("state_dict")
    if isinstance(state, dict) and any(str(key).startswith("generator.model.") for key in state):
        imported = lama.from_lightning(checkpoint, str(path))
    else:
        raise InputError(f"{path} is not a checkpoint we can import (known: LaMa's Lightning .ckpt, "
                         "LaMa's TorchScript, ours, DeepFill v2's TensorFlow snap-*.index)")
    imported.source["file"] = Path(str(path)).name
    return imported


def from_our_torchscript(tensors: dict, extras: dict[str, bytes], path: str) -> ImportedModel:
    """The generator of a file `export --torchscript` wrote (models.exported.LamaConvention keeps
    it as `model`; the config rides along as an extra file)."""
    import json

    from ..registry import get_model
    from .common import load_exactly

    info = json.loads(extras[TORCHSCRIPT_INFO])
    config = info.get("model_config")
    try:
        generator = get_model(config["model"], **config)
    except (TypeError, KeyError, ValueError) as e:
        raise InputError(f"{path}: its model config {config!r} does not describe a model ({e})") from None
    state = {key.removeprefix("model."): value for key, value in tensors.items()}
    return ImportedModel(model_config=config, generator=load_exactly(generator, state, f"{path}: the generator"),
                         train_size=info.get("train_size"), source={"format": "inpaint-data-torchscript",
                                                                    "step": info.get("step")})


def imported_file(imported: ImportedModel) -> dict[str, Any]:
    """A model file of ours: what `export` writes (generator and model config: `inpaint`, `eval`
    and `export` read it) plus the discriminator, optimiser states, settings and source."""
    from ... import __version__
    from ..exported import EXPORT_FORMAT

    saved: dict[str, Any] = {"format": EXPORT_FORMAT, "version": __version__, "model_config": imported.model_config,
                             "step": imported.source.get("step") or 0, "state_dict": imported.generator,
                             "settings": imported.settings, IMPORTED_FROM: imported.source}
    if imported.discriminator is not None:
        saved["discriminator"] = imported.discriminator
    if imported.optimizers:
        saved["optimizers"] = imported.optimizers
    if imported.train_size:
        saved["train_size"] = imported.train_size
    saved.update(imported.extra)
    return saved


__all__ = ["ImportedModel", "IMPORTED_FROM", "check_optimizer_state", "imported_file", "is_tf_checkpoint",
           "read_released"]
