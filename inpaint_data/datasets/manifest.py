"""`_manifest.json`: which job an output folder belongs to, and its totals once finished.

The `job` entry identifies the output (job name, format, and every parameter that changes what
is written). A re-run with the same job resumes; a different job in the same folder is refused.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .. import __version__
from .writers import atomic_write_json

MANIFEST = "_manifest.json"  # leading "_": skipped by pyarrow and Ray Data readers


class ManifestMismatch(ValueError):
    """The output folder already holds a different job."""


def _normalise(obj: Any) -> Any:
    return json.loads(json.dumps(obj, sort_keys=True))


def read_manifest(out_dir: str | Path) -> dict[str, Any] | None:
    path = Path(out_dir) / MANIFEST
    return json.loads(path.read_text()) if path.exists() else None


def claim_output(out_dir: str | Path, job: dict[str, Any], command: str | None = None) -> dict[str, Any]:
    """Create `out_dir` and its manifest, or check that the manifest there is for this same job."""
    out_dir = Path(out_dir)
    job = _normalise(job)
    existing = read_manifest(out_dir)
    if existing is not None:
        if existing.get("job") != job:
            theirs = existing.get("job", {})
            diff = sorted(
                k for k in set(theirs) | set(job) if theirs.get(k) != job.get(k)
            )
            raise ManifestMismatch(
                f"{out_dir} holds a different job (differs in: {', '.join(diff)}); "
                "choose another --out or delete that folder"
            )
        return existing
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = {
        "package": "inpaint-data",
        "version": __version__,
        "command": command,
        "job": job,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "complete": False,
    }
    atomic_write_json(out_dir / MANIFEST, manifest)
    return manifest


def finish_manifest(out_dir: str | Path, totals: dict[str, Any], command: str | None = None) -> dict[str, Any]:
    """Record the totals of a finished job (kept across re-runs of the same job)."""
    out_dir = Path(out_dir)
    manifest = read_manifest(out_dir) or {}
    manifest.update(
        totals=totals,
        complete=True,
        finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        last_command=command,
        last_version=__version__,
    )
    atomic_write_json(out_dir / MANIFEST, manifest)
    return manifest
