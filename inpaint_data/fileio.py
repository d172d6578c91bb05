"""Atomic writes: every file and shard is built under a temporary sibling name and renamed into
place, so a killed job never leaves a partial file under its real name.

Temporary names are `.{name}.tmp-{pid}-{8 hex}`; `is_temp_name` recognises exactly that shape, so
cleaning up after a killed job deletes only what we made, never a user's `*.tmp*` files.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

TMP_MARK = ".tmp-"
_TEMP_NAME = re.compile(r"^\..+\.tmp-\d+-[0-9a-f]{8}$")


def temp_path(final: str | Path) -> Path:
    """A unique hidden sibling name for building `final`."""
    final = Path(final)
    return final.with_name(f".{final.name}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")


def is_temp_name(name: str) -> bool:
    """Whether `name` is one of our temporary names (see temp_path)."""
    return bool(_TEMP_NAME.match(name))


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` through a temporary sibling; the temporary is removed on any error."""
    path = Path(path)
    tmp = temp_path(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def json_safe(obj: Any) -> Any:
    """`obj` with every non-finite float replaced by None, so that strict JSON readers accept it."""
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def dumps_json(obj: Any, **kwargs) -> str:
    """Strict JSON (no NaN or Infinity: they become null)."""
    return json.dumps(json_safe(obj), allow_nan=False, **kwargs)


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    return atomic_write_bytes(path, (dumps_json(obj, indent=2, sort_keys=True) + "\n").encode())
