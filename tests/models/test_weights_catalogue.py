"""The weights catalogue (models/weights.py): one entry per released file, one check, one message,
and `inpaint-data weights` lists them with where each was found."""

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from inpaint_data.cli.main import main
from inpaint_data.errors import InputError
from inpaint_data.models.files import sha256_of
from inpaint_data.models.inception import check_fid_weights
from inpaint_data.models.lpips import NETS, check_lpips_files
from inpaint_data.models.weights import CATALOGUE, PACKAGE_WEIGHTS, catalogue_rows, check_weights, weights_entry


def test_every_entry_names_its_file_digest_size_source_licence_and_users():
    for entry in CATALOGUE.values():
        assert entry.file and entry.source and entry.licence and entry.users, entry.name
        if entry.pinned:
            assert len(entry.sha256) == 64 and int(entry.sha256, 16) >= 0 and entry.size > 0, entry.name
    assert [e.name for e in CATALOGUE.values() if not e.pinned] == ["ade20k-resnet50dilated"]
    names = {"hed", "inception-fid", "alexnet", "vgg16", "lpips-alex", "lpips-vgg", "deepfillv2-frames64"}
    assert names <= set(CATALOGUE)
    assert {NETS[net]["backbone"] for net in NETS} <= set(CATALOGUE)


def test_the_shipped_model_matches_its_entry():
    entry = CATALOGUE["deepfillv2-frames64"]
    path = entry.located()
    assert path == PACKAGE_WEIGHTS / entry.file
    assert path.stat().st_size == entry.size and sha256_of(path) == entry.sha256
    assert check_weights(entry.name, path) == path


def test_installed_lpips_heads_are_located(tmp_path, monkeypatch):
    package = tmp_path / "site" / "lpips"
    (package / "weights" / "v0.1").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    heads = package / "weights" / "v0.1" / "alex.pth"
    heads.write_bytes(b"not the heads")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert CATALOGUE["lpips-alex"].located() == heads


@pytest.mark.parametrize("check", [
    lambda path: check_weights("alexnet", path),
    check_fid_weights,
    lambda path: check_lpips_files("alex", path, path),
])
def test_every_user_of_a_release_gets_the_same_message(tmp_path, check):
    path = tmp_path / "w.pth"
    path.write_bytes(b"some other file")
    with pytest.raises(InputError, match=r"weights \(.+\): .+ has sha256 [0-9a-f]{16}\.\.\., expected [0-9a-f]{16}"
                                         r"\.\.\.; it is another file than the released one"):
        check(path)


def test_an_unknown_name_is_refused():
    with pytest.raises(ValueError, match="unknown weights 'nope'"):
        weights_entry("nope")


def test_the_weights_command_lists_every_entry_and_where_it_was_found(tmp_path, monkeypatch):
    monkeypatch.setenv("INPAINT_DATA_CACHE", str(tmp_path))
    (tmp_path / "hed_bsds500.pt").write_bytes(b"x")
    result = CliRunner().invoke(main, ["weights"])
    assert result.exit_code == 0, result.output
    for entry in CATALOGUE.values():
        assert entry.name in result.output and (entry.sha256 or "not pinned") in result.output
    rows = {row["name"]: row for row in catalogue_rows()}
    assert rows["hed"]["found"] == str(tmp_path / "hed_bsds500.pt")
    assert rows["inception-fid"]["found"].startswith("not found: --inception-weights")
    assert str(Path(rows["deepfillv2-frames64"]["found"]).name) == "deepfillv2_frames64.pt"
    digest = hashlib.sha256(Path(rows["deepfillv2-frames64"]["found"]).read_bytes()).hexdigest()
    assert digest == CATALOGUE["deepfillv2-frames64"].sha256
