"""Who owns an output folder: `.manifest.json` (which job, and its totals once finished) and
`.job.lock` (which process is writing it now).

The `job` entry identifies the output (job name, format, every parameter that changes what is
written, and a hash of the input listing). A re-run with the same job resumes; a different job,
or a non-empty folder that is not ours, is refused; so is a folder another live process holds.
The same rules hold for a remote output (an object-store prefix, see storage): the lock is
created with a conditional write where the store has one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from .. import __version__, storage
from ..errors import InputError
from ..fileio import dumps_json

#: Side files are hidden ("."): pyarrow, Ray Data, Spark, webdataset's globbing and Hugging Face
#: datasets' builders all skip them, so a folder reads as its shards alone.
MANIFEST = ".manifest.json"
LOCK = ".job.lock"
#: Side files as versions up to 0.1.0 named them (a leading "_", which Hugging Face datasets
#: reads as data); a job run on such a folder renames them (adopt_legacy_names).
LEGACY_SIDE_FILE = re.compile(r"^_(manifest\.json|files\.parquet|videos\.parquet|[A-Za-z0-9_-]+-\d{6,}\.stats\.json)$")


class ManifestMismatch(InputError):
    """The output folder already holds a different job, or files that are not ours."""


class OutputBusy(InputError):
    """Another live process is writing the output folder."""


def refuse_foreign(location: storage.Location, ours: Callable[[storage.Location], bool], overwrite: bool) -> None:
    """A single output file (a report, an exported model, a preview) is replaced only when it is
    ours (`ours(location)`) or the user said `--overwrite`; raises InputError otherwise."""
    if overwrite or not storage.exists(location) or ours(location):
        return
    raise InputError(f"{storage.redact(str(location))} exists and was not written by inpaint-data; "
                     "give --overwrite to replace it, or choose another --out")


def listing_identity(lines: Iterable[str]) -> dict[str, Any]:
    """The count and sha1 of an input listing (one line per input, in a fixed order): a job's
    identity holds it, so a re-run over added, removed or renamed inputs is refused."""
    digest, count = hashlib.sha1(), 0
    for line in lines:
        digest.update(line.encode() + b"\n")
        count += 1
    return {"count": count, "sha1": digest.hexdigest()}


def check_output_free(out_dir: storage.Location) -> None:
    """Refuse an existing `out_dir` that is a file, or a non-empty folder without our manifest
    (a user's folder: nothing in it may be adopted, overwritten or cleaned up)."""
    if storage.is_file(out_dir):
        raise ManifestMismatch(f"{out_dir} is a file, not a folder; choose another --out")
    names = storage.list_names(out_dir)
    if MANIFEST not in names and legacy_name(MANIFEST) not in names:
        foreign = [name for name in names if name != LOCK]
        if foreign:
            raise ManifestMismatch(
                f"{out_dir} is not empty and is not an inpaint-data output folder (it holds {foreign[0]!r}"
                f"{f' and {len(foreign) - 1} more' if len(foreign) > 1 else ''}); choose a new or empty --out"
            )


def _normalise(obj: Any) -> Any:
    """`obj` as the manifest records it (strict JSON, URL secrets removed), for comparisons."""
    return json.loads(dumps_json(obj, sort_keys=True))


def legacy_name(name: str) -> str:
    """What a side file (".name") was called up to 0.1.0 ("_name")."""
    return "_" + name[1:]


def side_file(folder: storage.Location, name: str) -> str | Path:
    """Where to read the side file `name` of `folder`: its own name, or its legacy one where
    only that exists (a folder written up to 0.1.0 and not re-run since)."""
    location = storage.join(folder, name)
    legacy = storage.join(folder, legacy_name(name))
    return legacy if not storage.exists(location) and storage.exists(legacy) else location


def read_side_json(folder: storage.Location, name: str) -> Any:
    """The JSON side file `name` of `folder` (None when there is none), under its legacy name if
    only that exists: one read for a current folder, where side_file would first ask twice."""
    found = storage.read_json(storage.join(folder, name))
    return found if found is not None else storage.read_json(storage.join(folder, legacy_name(name)))


def adopt_legacy_names(out_dir: storage.Location) -> int:
    """Rename the side files of a folder written up to 0.1.0 ("_manifest.json", "_files.parquet",
    "_*.stats.json", ...) to their hidden names; returns how many. Call it holding the lock."""
    renamed = 0
    for name in storage.list_names(out_dir):
        if LEGACY_SIDE_FILE.match(name):
            storage.rename(storage.join(out_dir, name), storage.join(out_dir, "." + name[1:]))
            renamed += 1
    return renamed


def read_manifest(out_dir: storage.Location) -> dict[str, Any] | None:
    return read_side_json(out_dir, MANIFEST)


def check_job(out_dir: storage.Location, job: dict[str, Any]) -> None:
    """Raise ManifestMismatch unless `out_dir` is new, empty, or holds this same job. Writes nothing."""
    check_output_free(out_dir)
    existing = read_manifest(out_dir)
    if existing is not None and existing.get("job") != _normalise(job):
        theirs, ours = existing.get("job", {}), _normalise(job)
        diff = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
        hint = " (the inputs changed since it was written)" if "inputs" in diff else ""
        raise ManifestMismatch(
            f"{out_dir} holds a different job (differs in: {', '.join(diff)}){hint}; "
            "choose another --out or delete that folder"
        )


def claim_output(out_dir: storage.Location, job: dict[str, Any], command: str | None = None) -> dict[str, Any]:
    """Create `out_dir` and its manifest, or check that the manifest there is for this same job.
    The command line is recorded without the secrets of any URL in it (storage.redact)."""
    check_job(out_dir, job)
    adopt_legacy_names(out_dir)
    job = _normalise(job)
    existing = read_manifest(out_dir)
    if existing is not None:
        return existing
    storage.make_dirs(out_dir)
    manifest = {
        "package": "inpaint-data",
        "version": __version__,
        "command": command and storage.redact(command),
        "job": job,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "complete": False,
    }
    storage.write_json(storage.join(out_dir, MANIFEST), manifest)
    return manifest


def finish_manifest(out_dir: storage.Location, totals: dict[str, Any], command: str | None = None) -> dict[str, Any]:
    """Record the totals of a finished job (kept across re-runs of the same job)."""
    manifest = read_manifest(out_dir) or {}
    manifest.update(
        totals=totals,
        complete=True,
        finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        last_command=command and storage.redact(command),
        last_version=__version__,
    )
    storage.write_json(storage.join(out_dir, MANIFEST), manifest)
    return manifest


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _read_holder(lock: storage.Location) -> dict[str, Any]:
    try:
        return json.loads(storage.read_bytes(lock))
    except (OSError, ValueError):
        return {}


@contextlib.contextmanager
def output_lock(out_dir: storage.Location) -> Iterator[storage.Location]:
    """Hold `out_dir/.job.lock` (pid and host) while a job writes the folder.

    Refused with OutputBusy while a live process on this host (or any process on another host)
    holds it; a lock left by a dead process of this host is taken over. The lock is created
    whole and exclusively (storage.create_exclusive), so it is never empty and never shared.
    """
    storage.make_dirs(out_dir)
    lock = storage.join(out_dir, LOCK)
    mine = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    for _ in range(2):
        try:
            if storage.create_exclusive(lock, json.dumps(mine).encode()):
                break
        except FileNotFoundError:  # our temporary was cleaned up by the job holding the folder
            raise OutputBusy(f"{out_dir} is being written by another job; wait for it") from None
        holder = _read_holder(lock)
        same_host = holder.get("host") == mine["host"]
        if same_host and isinstance(holder.get("pid"), int) and not _alive(holder["pid"]):
            storage.remove(lock)  # stale: its process is gone
            continue
        raise OutputBusy(
            f"{out_dir} is being written by process {holder.get('pid', '?')} on {holder.get('host', '?')} "
            f"(since {holder.get('started', '?')}); wait for it, or delete {lock} if that job is gone"
        )
    else:
        raise OutputBusy(f"could not take {lock}; try again")
    try:
        yield lock
    finally:
        if _read_holder(lock).get("pid") == mine["pid"]:
            storage.remove(lock)
