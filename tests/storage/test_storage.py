"""storage.py on fsspec's in-memory filesystem and on local paths: the same calls, the same
rules (whole files or none, exclusive creation, no secrets recorded)."""

import uuid

import pytest

from inpaint_data import storage
from inpaint_data.fileio import is_temp_name


@pytest.fixture
def memory_root():
    root = f"memory://t-{uuid.uuid4().hex[:8]}"
    yield root
    storage.remove(root)


@pytest.mark.parametrize("remote", [True, False])
def test_publish_replaces_whole_files_refuses_folders_and_leaves_no_temporary(remote, memory_root, tmp_path):
    root = memory_root if remote else str(tmp_path / "out")
    storage.make_dirs(root)
    storage.write_bytes(storage.join(root, "a.json"), b"one")
    storage.write_bytes(storage.join(root, "a.json"), b"two")
    assert storage.read_bytes(storage.join(root, "a.json")) == b"two"
    if remote:
        folder = tmp_path / "shard"
        folder.mkdir()
        (folder / "k.png").write_bytes(b"png")
        with pytest.raises(ValueError, match="cannot show a folder whole"):  # its objects would appear one by one
            storage.publish(folder, storage.join(root, "shard-000000"))
        storage.publish(folder / "k.png", storage.join(root, "k.png"))
        assert storage.read_bytes(storage.join(root, "k.png")) == b"png"
    assert not [n for n in storage.list_names(root) if is_temp_name(n)]
    assert storage.create_exclusive(storage.join(root, "_lock"), b"mine")
    assert not storage.create_exclusive(storage.join(root, "_lock"), b"theirs")
    assert storage.read_bytes(storage.join(root, "_lock")) == b"mine"


def test_find_files_walks_prefixes_and_globs(memory_root):
    for name in ("a.png", "sub/b.JPG", "sub/c.txt"):
        storage.write_bytes(f"{memory_root}/imgs/{name}", b"x")
    found = storage.find_files(f"{memory_root}/imgs", {".png", ".jpg"})
    assert found == {f"{memory_root}/imgs/a.png": "a", f"{memory_root}/imgs/sub/b.JPG": "sub/b"}
    assert storage.find_files(f"{memory_root}/imgs/sub/c.txt", {".png"}) == {f"{memory_root}/imgs/sub/c.txt": "c"}
    with pytest.raises(FileNotFoundError, match="no image matches"):
        storage.find_files(f"{memory_root}/imgs/*.webp", {".webp"}, "image")


def test_urls_are_recorded_without_secrets():
    assert storage.redact("masks --out s3://KEY:SECRET@bucket/x --from-video gs://u@b/v") == \
        "masks --out s3://bucket/x --from-video gs://b/v"
    assert storage.absolute("s3://ak:sk@bucket/prefix/") == "s3://bucket/prefix"
    assert not storage.is_remote("file:///tmp/x") and storage.local_path("file:///tmp/x").as_posix() == "/tmp/x"


def test_an_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="Protocol not known: nosuchscheme"):
        storage.filesystem("nosuchscheme://bucket/x")
