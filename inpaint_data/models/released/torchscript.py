"""The weights of a TorchScript file, read as data: its code is never loaded.

A TorchScript archive (`torch.jit.save`) holds the module tree's attributes in `data.pkl`, the
tensors in `data/`, and the program in `code/` and `constants.pkl`. Only the first two are read:
they are copied into an archive of torch.save's layout and loaded with the weights-only
unpickler (models/released/lightning.py binds the module classes it names, `__torch__.*`, to
inert records), so taking the weights of IOPaint's `big-lama.pt` runs nothing from the file and
needs no consent (running the file as a model does: `--model torchscript:... --trust-model-code`).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import torch

from ... import storage
from ...errors import InputError
from .lightning import Record, load_records

#: The members of a TorchScript archive that hold data (the rest is code).
DATA_MEMBERS = ("data.pkl", "byteorder", "version")


def is_torchscript(archive: zipfile.ZipFile) -> bool:
    return any(name.endswith("/constants.pkl") for name in archive.namelist())


def read_torchscript_tensors(path: str | Path, data: bytes | None = None) -> tuple[dict[str, torch.Tensor],
                                                                                   dict[str, bytes]]:
    """(every tensor of the module tree by its dotted attribute name, the archive's extra files);
    `data`: the file's bytes, when the caller has read them already."""
    data = storage.read_bytes(path) if data is None else data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if not is_torchscript(archive):
            raise InputError(f"{path} is not a TorchScript archive")
        root = archive.namelist()[0].split("/")[0]
        rebuilt = io.BytesIO()
        with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_STORED) as out:
            for name in archive.namelist():
                member = name[len(root) + 1:]
                if member in DATA_MEMBERS or member.startswith("data/"):
                    out.writestr(f"archive/{member}", archive.read(name))
        extras = {name[len(root) + len("/extra/"):]: archive.read(name) for name in archive.namelist()
                  if name.startswith(f"{root}/extra/")}
        module = load_records(rebuilt.getvalue(), archive.read(f"{root}/data.pkl"), str(path))
    if not isinstance(module, Record):
        raise InputError(f"{path}: its data is not a module")
    return _tensors(module), extras


def _tensors(module: Record, prefix: str = "") -> dict[str, torch.Tensor]:
    found = {}
    for name, value in (module.state or {}).items() if isinstance(module.state, dict) else ():
        if isinstance(value, torch.Tensor):
            found[prefix + name] = value
        elif isinstance(value, Record):
            found.update(_tensors(value, f"{prefix}{name}."))
    return found
