"""PyTorch Lightning checkpoints read as plain data, with no code from the file run.

A Lightning checkpoint (LaMa's `models/best.ckpt`) is a torch zip whose pickle holds, besides
tensors and containers, the training config as OmegaConf objects (`hyper_parameters`) and class
references (`hparams_type`, callback states keyed by class). It goes through torch's own
weights-only unpickler, with every global it names that is not plain data bound to an inert
record class of ours: the records only store the state the pickle gives them, so nothing named
in the file is imported or called. The records are then turned into plain data: OmegaConf
containers and value nodes become dicts, lists and values (interpolations such as
`${generator.ngf}` resolved, other `${...}` left as text); a class reference becomes its dotted
name; a record of any other class is refused, naming it.
"""

from __future__ import annotations

import _compat_pickle
import collections
import io
import pickle
import pickletools
import re
import zipfile
from pathlib import Path
from typing import Any

import torch

from ... import storage
from ...errors import InputError, first_line

#: OmegaConf's containers and value nodes, by the dotted name a pickle gives them.
CONTAINERS = {"omegaconf.dictconfig.DictConfig": dict, "omegaconf.listconfig.ListConfig": list}
VALUE_NODES = {f"omegaconf.nodes.{name}" for name in
               ("AnyNode", "StringNode", "IntegerNode", "FloatNode", "BooleanNode", "BytesNode", "PathNode")}
#: OmegaConf's bookkeeping, dropped: what a node's `_metadata` holds.
METADATA = {"omegaconf.base.Metadata", "omegaconf.base.ContainerMetadata"}
#: Constructors a pickle may call that build plain data (type markers in OmegaConf's metadata).
PLAIN_GLOBALS = (dict, list, tuple, set, frozenset, int, float, str, bool, bytes, complex,
                 collections.defaultdict, collections.OrderedDict)
_TORCH_MODULES = ("torch", "collections", "builtins", "__builtin__", "copyreg", "_codecs")
_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][\w.]*)\}")


class Record:
    """What a global named in the pickle becomes: the name, the arguments it was called with and
    the state it was given, nothing else (no method of the original class exists here)."""

    name = ""

    def __init__(self, *args: Any):
        self.args = args
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state


def _globals_named(pickle_bytes: bytes) -> set[str]:
    """Every `module.name` the pickle's GLOBAL / STACK_GLOBAL opcodes look up."""
    names, strings = set(), []
    for opcode, arg, _ in pickletools.genops(pickle_bytes):
        if opcode.name == "GLOBAL":
            names.add(arg.replace(" ", "."))
        elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
            names.add(f"{strings[-2]}.{strings[-1]}")
        if isinstance(arg, str):
            strings.append(arg)
    return names


def _python3_name(name: str) -> str:
    """A protocol-2 pickle's Python 2 name (`commands.call`) as Python 3 knows it (`subprocess.call`)."""
    module, _, attribute = name.rpartition(".")
    module, attribute = _compat_pickle.NAME_MAPPING.get((module, attribute), (module, attribute))
    return f"{_compat_pickle.IMPORT_MAPPING.get(module, module)}.{attribute}"


def _records_for(names: set[str]) -> list[tuple[type, str]]:
    """An inert Record class for each name that is not torch's or a builtin's, under that name."""
    records = []
    for name in sorted(names):
        if name.split(".")[0] in _TORCH_MODULES:
            continue
        records.append((type(name.rsplit(".", 1)[-1], (Record,), {"name": _python3_name(name)}), name))
    return records


def load_records(archive: bytes, pickle_bytes: bytes, where: str) -> Any:
    """torch.load of a torch zip (`archive`, whose pickle is `pickle_bytes`) with torch's
    weights-only unpickler and every global the pickle names that is not torch's or plain data
    bound to an inert Record; InputError when torch refuses it or cannot read it."""
    try:
        with torch.serialization.safe_globals([*PLAIN_GLOBALS, *_records_for(_globals_named(pickle_bytes))]):
            return torch.load(io.BytesIO(archive), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:  # torch's own refusals (modules it blocks whatever the allowlist)
        reason = next((line.strip() for line in str(e).splitlines() if "GLOBAL" in line), first_line(e, 200))
        raise InputError(f"{where} refused: {reason}") from None
    except Exception as e:  # damaged archives raise RuntimeError, EOFError...
        raise InputError(f"{where} could not be read ({first_line(e, 200)})") from None


def read_checkpoint(path: str | Path, what: str = "checkpoint", data: bytes | None = None) -> dict:
    """A Lightning (or any torch zip) checkpoint as plain data: tensors, numbers, strings,
    lists and dicts (`data`: the file's bytes, when the caller has read them already). Raises
    InputError for a file that is not a torch zip, or that holds an object of a class other than
    OmegaConf's."""
    if data is None:
        if not storage.is_file(path):
            raise FileNotFoundError(f"{what} {path} not found")
        data = storage.read_bytes(path)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            pickle_name = next((n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"), None)
            if pickle_name is None:
                raise InputError(f"{what} {path} is not a PyTorch checkpoint (no data.pkl in the archive)")
            pickle_bytes = archive.read(pickle_name)
    except zipfile.BadZipFile:
        raise InputError(f"{what} {path} is not a PyTorch checkpoint (not a zip archive)") from None
    loaded = load_records(data, pickle_bytes, f"{what} {path}")
    try:
        return to_plain(loaded)
    except TypeError as e:
        raise InputError(f"{what} {path} refused: {e}") from None


def to_plain(obj: Any, where: str = "") -> Any:
    """Records turned into plain data (see the module's docstring); TypeError names a record
    of a class we do not read."""
    if isinstance(obj, type) and issubclass(obj, Record):
        return obj.name
    if isinstance(obj, Record):
        if obj.name in CONTAINERS:
            content = (obj.state or {}).get("_content")
            if not isinstance(content, (dict, list)):
                return content  # None, an interpolation or "???" (missing)
            if CONTAINERS[obj.name] is dict:
                return {key: to_plain(value, f"{where}.{key}") for key, value in content.items()}
            return [to_plain(value, f"{where}[{i}]") for i, value in enumerate(content)]
        if obj.name in VALUE_NODES:
            return to_plain((obj.state or {}).get("_val"), where)
        raise TypeError(f"{where or 'the file'} holds a {obj.name} object, which is neither data nor a config")
    if isinstance(obj, dict):
        return {to_plain(key): to_plain(value, f"{where}.{key}" if where else str(key)) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_plain(value, f"{where}[{i}]") for i, value in enumerate(obj))
    if isinstance(obj, (set, frozenset)):
        return sorted(to_plain(value, where) for value in obj)
    return obj


def resolve(config: dict) -> dict:
    """The config with every `${a.b.c}` that names another entry of it replaced by that entry's
    value (a whole-string reference keeps the value's type; one inside text is formatted into it).
    Resolver calls (`${env:TORCH_HOME}`) and references to missing entries stay as text."""

    def lookup(dotted: str, seen: tuple[str, ...]) -> Any:
        value: Any = config
        for part in dotted.split("."):
            if not isinstance(value, dict) or part not in value:
                raise KeyError(dotted)
            value = value[part]
        if dotted in seen:
            raise ValueError(f"the config's interpolations loop: {' -> '.join((*seen, dotted))}")
        return walk(value, (*seen, dotted))

    def walk(value: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, seen) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, seen) for v in value]
        if not isinstance(value, str) or "${" not in value:
            return value
        whole = _INTERPOLATION.fullmatch(value)
        try:
            if whole:
                return lookup(whole.group(1), seen)
            return _INTERPOLATION.sub(lambda m: str(lookup(m.group(1), seen)), value)
        except KeyError:
            return value

    return walk(config, ())
