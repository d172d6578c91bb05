"""Atomic writes: every file and shard is built under a temporary sibling name and renamed into
place, so a killed job never leaves a partial file under its real name.

Temporary names are `.{name}.tmp-{pid}-{8 hex}`; `is_temp_name` recognises exactly that shape, so
cleaning up after a killed job deletes only what we made, never a user's `*.tmp*` files.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: `scheme://user:secret@` in a URL, and the query parameters of signed URLs (S3, GCS, Azure SAS)
#: and token-bearing ones: what `redact` removes from every text we record or print.
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s\"']+@")
_SECRET_QUERY = re.compile(
    r"(?P<name>[?&](?:X-Amz-(?:Signature|Credential|Security-Token)|X-Goog-(?:Signature|Credential)|AWSAccessKeyId|"
    r"Signature|sig|se|sp|skoid|sktid|token|access_token|api_key|apikey|key|secret|password)=)[^&#\s\"']*",
    re.IGNORECASE)
REDACTED = "REDACTED"

TMP_MARK = ".tmp-"
_TEMP_NAME = re.compile(r"^\..+\.tmp-\d+-[0-9a-f]{8}$")


def temp_name(name: str) -> str:
    """A unique hidden name for building the file or key `name` (see is_temp_name)."""
    return f".{name}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}"


def temp_path(final: str | Path) -> Path:
    """A unique hidden sibling name for building `final`."""
    final = Path(final)
    return final.with_name(temp_name(final.name))


def is_temp_name(name: str) -> bool:
    """Whether `name` is one of our temporary names (see temp_path)."""
    return bool(_TEMP_NAME.match(name))


def remove_path(path: Path) -> None:
    """Remove a file or a folder tree, if there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def replace_into(tmp: Path, final: Path) -> None:
    """Move a finished temporary file or folder onto `final`, replacing what is there."""
    if final.is_dir() and not final.is_symlink():
        shutil.rmtree(final)  # os.replace cannot replace a folder
    os.replace(tmp, final)


@contextlib.contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """The one way we write a file or folder: yields a temporary sibling name to write, renamed
    onto `path` when the block ends; on any error the temporary is removed and `path` untouched."""
    path = Path(path)
    tmp = temp_path(path)
    try:
        yield tmp
        replace_into(tmp, path)
    except BaseException:
        remove_path(tmp)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` through a temporary sibling (see atomic_file)."""
    with atomic_file(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def redact(text: str) -> str:
    """`text` without the secrets of any URL in it: the `user:secret@` part is removed, and the
    values of signed-URL and token query parameters become REDACTED. Every file we write that
    may hold a location (JSON files, sample records, file lists, checkpoints) and every console
    line goes through it."""
    if "://" not in text and "=" not in text:
        return text
    return _SECRET_QUERY.sub(rf"\g<name>{REDACTED}", _USERINFO.sub(r"\g<scheme>", text))


def redacted(obj: Any) -> Any:
    """`obj` (plain containers) with every string, keys included, passed through `redact`."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, dict):
        return {redacted(k): redacted(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(redacted(v) for v in obj)
    return obj


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
    """Strict JSON (no NaN or Infinity: they become null), without secrets (`redact`)."""
    return redact(json.dumps(json_safe(obj), allow_nan=False, **kwargs))


def json_bytes(obj: Any) -> bytes:
    """The bytes of our JSON files: strict, indented, keys sorted."""
    return (dumps_json(obj, indent=2, sort_keys=True) + "\n").encode()


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    return atomic_write_bytes(path, json_bytes(obj))
