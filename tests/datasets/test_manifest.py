import json

import pytest

from inpaint_data.datasets.manifest import ManifestMismatch, claim_output, finish_manifest, read_manifest

JOB = {"name": "masks-free-form", "format": "webdataset", "count": 10, "size": (256, 256)}


def test_same_job_may_resume(tmp_path):
    first = claim_output(tmp_path / "out", JOB, command="inpaint-data masks ...")
    again = claim_output(tmp_path / "out", dict(JOB))
    assert first == again and first["job"]["size"] == [256, 256]


def test_different_job_is_refused_and_manifest_kept(tmp_path):
    claim_output(tmp_path, JOB)
    before = (tmp_path / ".manifest.json").read_bytes()
    with pytest.raises(ManifestMismatch, match="differs in: count"):
        claim_output(tmp_path, {**JOB, "count": 11})
    assert (tmp_path / ".manifest.json").read_bytes() == before


def test_finish_records_totals(tmp_path):
    claim_output(tmp_path, JOB)
    finish_manifest(tmp_path, {"count": 10})
    manifest = read_manifest(tmp_path)
    assert manifest["complete"] is True and manifest["totals"] == {"count": 10}
    assert json.loads((tmp_path / ".manifest.json").read_text())["job"]["name"] == "masks-free-form"
