"""Where inputs and outputs live: plain paths, or URLs of any fsspec filesystem (`s3://`,
`gs://`, `hdfs://`, `memory://`, `file://`), the way Ray Data and img2dataset address storage.

Plain paths and `file://` URLs keep the local code paths (pathlib, os.replace, hard-link
locks); every other scheme goes through fsspec, whose filesystem packages are extras (s3fs for
`s3://`, gcsfs for `gs://`). Credentials come from each filesystem's usual places (for S3: the
environment, ~/.aws, instance roles; `AWS_ENDPOINT_URL` for an S3-compatible store) and are
never written by us: `redact` removes `user:secret@` from URLs before they are recorded.

Object stores have no rename: `publish` uploads under a temporary key of our shape
(fileio.temp_name) and moves it onto the final key, so the final key appears whole or not at
all, and a killed upload leaves only a temporary key that the next run of the job removes.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from .fileio import atomic_file, atomic_write_bytes, json_bytes, redact, temp_name

LOCAL_SCHEMES = ("", "file", "local")

Location = str | Path


def scheme(location: Location) -> str:
    text = str(location)
    return text.split("://", 1)[0].lower() if "://" in text else ""


def is_remote(location: Location) -> bool:
    """Whether `location` is a URL of a non-local filesystem (s3://, gs://, memory://, ...)."""
    return scheme(location) not in LOCAL_SCHEMES


def local_path(location: Location) -> Path:
    """The local path of a plain path or a `file://` URL."""
    text = str(location)
    return Path(text.split("://", 1)[1]) if "://" in text else Path(text)


def normalise(location: Location) -> str | Path:
    """A remote URL as a string without a trailing slash; a local one as a Path."""
    return str(location).rstrip("/") if is_remote(location) else local_path(location)


def absolute(location: Location) -> str:
    """A location as recorded in a job's identity: an absolute local path, or the URL without
    its secrets."""
    return redact(str(location).rstrip("/")) if is_remote(location) else str(local_path(location).resolve())


def for_workers(location: Location | None) -> str | None:
    """A location as handed to another process (a Ray worker runs in its own folder): a local
    path made absolute here, on the driver, and a URL unchanged (its credentials included)."""
    if location is None:
        return None
    text = str(location)
    return text.rstrip("/") if is_remote(text) else os.path.abspath(local_path(text))


def filesystem(url: str):
    """(fsspec filesystem, path inside it) for a remote URL; a clear error when the scheme's
    package is missing."""
    import fsspec

    try:
        return fsspec.core.url_to_fs(url)
    except ImportError as e:
        package = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs"}.get(scheme(url), "its fsspec package")
        raise ImportError(f"{scheme(url)}:// needs {package} (pip install {package}): {e}") from None


def join(location: Location, *names: str) -> str | Path:
    """`location`/name/...: a URL string for a remote location, else a Path."""
    if is_remote(location):
        return "/".join([str(location).rstrip("/"), *names])
    return local_path(location).joinpath(*names)


def name_of(location: Location) -> str:
    return str(location).rstrip("/").rsplit("/", 1)[-1]


def parent_of(location: Location) -> str | Path:
    if is_remote(location):
        return str(location).rstrip("/").rsplit("/", 1)[0]
    return local_path(location).parent


def exists(location: Location) -> bool:
    if not is_remote(location):
        return local_path(location).exists()
    fs, path = filesystem(str(location))
    return fs.exists(path)


def is_dir(location: Location) -> bool:
    if not is_remote(location):
        return local_path(location).is_dir()
    fs, path = filesystem(str(location))
    return fs.isdir(path)


def is_file(location: Location) -> bool:
    if not is_remote(location):
        return local_path(location).is_file()
    fs, path = filesystem(str(location))
    return fs.isfile(path)


def list_names(location: Location) -> list[str]:
    """The names directly under a folder or prefix (none when it does not exist)."""
    if not is_remote(location):
        folder = local_path(location)
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    fs, path = filesystem(str(location))
    try:
        return sorted(name_of(p) for p in fs.ls(path, detail=False, refresh=True) if p.rstrip("/") != path)
    except FileNotFoundError:
        return []


def list_files(location: Location) -> list[str]:
    """The names of the files directly under a folder or prefix, sorted (none when it does not
    exist); one listing, no request per file."""
    try:
        if not is_remote(location):
            entries = _list_local(str(local_path(location)))
        else:
            fs, path = filesystem(str(location))
            entries = _list_remote(fs, path.rstrip("/"))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [name for name, is_folder, _ in entries if not is_folder]


#: Folders listed ahead of the walk, in parallel threads (object stores answer in tens of ms). A
#: local walk lists one ahead: more threads stat'ing on a local disk contend for the GIL with the
#: walk itself (8 ahead: 10 µs a file, 1 ahead: 4.5 µs; benchmarks/listing_scale.py).
LIST_AHEAD = 8
LIST_AHEAD_LOCAL = 1


def walk_files(location: Location) -> Iterator[tuple[str, str]]:
    """(location, path relative to `location`) of every file under a folder or prefix (see
    walk_stamped; no file is stat'ed)."""
    return ((loc, rel) for loc, rel, _ in walk_stamped(location, stamps=False))


def walk_stamped(location: Location, stamps: bool = True) -> Iterator[tuple[str, str, str]]:
    """(location, path relative to `location`, stamp) of every file under a folder or prefix,
    one at a time (see walk_stamped_runs)."""
    for locations, rels, stamps_ in walk_stamped_runs(location, stamps):
        yield from zip(locations, rels, stamps_)


#: A run of files the walk meets one after the other: (locations, relative paths, stamps).
FileRun = tuple[list[str], list[str], list[str]]


def walk_stamped_runs(location: Location, stamps: bool = True) -> Iterator[FileRun]:
    """The files under a folder or prefix as runs (the files of one folder between two of its
    subfolders), so that millions of files cost a few list operations a folder rather than
    Python calls a file. Streamed in the order of sorted Paths: a folder's entries by name, a
    subfolder walked where its name falls; the stamp is `stamp_of`'s (an object store's listing
    gives it, a local file costs a stat, "" without `stamps`). One folder's listing is held per
    level, never the whole tree, so 10 million files walk in flat memory; folders are listed ahead
    in threads (an object store, asked a folder at a time and paged, LIST_AHEAD; a local disk,
    LIST_AHEAD_LOCAL). Local symlinks to folders are not followed, as Path.rglob."""
    if not is_remote(location):
        root = str(local_path(location).resolve())
        list_folder, ahead = partial(_list_local, stamps=stamps), LIST_AHEAD_LOCAL
    else:
        fs, root = filesystem(str(location))
        root = root.rstrip("/")
        list_folder, ahead = partial(_list_remote, fs), LIST_AHEAD
    prefix = str(location).rstrip("/") if is_remote(location) else root
    with ThreadPoolExecutor(ahead, thread_name_prefix="inpaint-data-list") as pool:
        try:
            entries = list_folder(root)
        except FileNotFoundError:
            return
        for rel, names, stamps_ in _walk(list_folder, root, "", entries, pool, ahead):
            rels = [rel + name for name in names]
            yield [f"{prefix}/{r}" for r in rels], rels, stamps_


def _walk(list_folder, folder: str, rel: str, entries: list[tuple[str, bool, str]], pool, ahead_at_most: int,
          ) -> Iterator[tuple[str, list[str], list[str]]]:
    """(relative folder, file names, stamps) of each run of files under `folder`, whose sorted
    (name, is_folder, stamp) `entries` are given; up to `ahead_at_most` of its subfolders'
    listings are asked for ahead, in the order they are walked."""
    subfolders = (name for name, is_folder, _ in entries if is_folder)
    ahead: deque = deque()
    names: list[str] = []
    stamps: list[str] = []
    for name, is_folder, stamp in entries:
        if not is_folder:
            names.append(name)
            stamps.append(stamp)
            continue
        if names:
            yield rel, names, stamps
            names, stamps = [], []
        while len(ahead) < ahead_at_most and (following := next(subfolders, None)) is not None:
            ahead.append(pool.submit(list_folder, f"{folder}/{following}"))
        yield from _walk(list_folder, f"{folder}/{name}", f"{rel}{name}/", ahead.popleft().result(), pool,
                         ahead_at_most)
    if names:
        yield rel, names, stamps


def _list_local(folder: str, stamps: bool = False) -> list[tuple[str, bool, str]]:
    entries = []
    with os.scandir(folder) as found:
        for e in found:
            if e.is_dir(follow_symlinks=False):
                entries.append((e.name, True, ""))
            elif e.is_file():
                entries.append((e.name, False, _local_stamp(e.stat()) if stamps else ""))
    entries.sort()
    return entries


def _list_remote(fs, folder: str) -> list[tuple[str, bool, str]]:
    try:
        listing = fs.ls(folder, detail=True, refresh=True)
    finally:
        fs.invalidate_cache(folder)  # the walk holds no listing it has passed
    return sorted((name_of(e["name"]), e["type"] == "directory", _remote_stamp(e)) for e in listing
                  if e["name"].rstrip("/") != folder)


def _local_stamp(stat: os.stat_result) -> str:
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _remote_stamp(info: dict) -> str:
    """An object's version as its listing gives it: the ETag where the store has one, else size
    and modification time."""
    if info.get("type") == "directory":
        return ""
    etag = info.get("ETag") or info.get("etag")
    when = info.get("LastModified") or info.get("mtime") or info.get("updated") or info.get("created") or ""
    return f"{info.get('size', '')}:{etag.strip(chr(34))}" if etag else f"{info.get('size', '')}:{when}"


def stamp_of(location: Location) -> str:
    """A file's version as `size:mtime_ns` (local) or `size:ETag` / `size:modified` (a URL): a
    file changed under the same name gets another stamp, so a re-listed job sees the change."""
    if not is_remote(location):
        return _local_stamp(os.stat(local_path(location)))
    fs, path = filesystem(str(location))
    return _remote_stamp(fs.info(path))


def iter_files(item: str, extensions, what: str = "file") -> Iterator[tuple[str, str]]:
    """(location, name) of the files `item` names (see iter_stamped_files; no file is stat'ed)."""
    return ((loc, name) for loc, name, _ in iter_stamped_files(item, extensions, what, stamps=False))


def iter_stamped_files(item: str, extensions, what: str = "file",
                       stamps: bool = True) -> Iterator[tuple[str, str, str]]:
    """(location, name, stamp) of the files `item` names, one at a time (see iter_stamped_file_runs)."""
    for locations, names, stamps_ in iter_stamped_file_runs(item, extensions, what, stamps):
        yield from zip(locations, names, stamps_)


def iter_stamped_file_runs(item: str, extensions, what: str = "file", stamps: bool = True) -> Iterator[FileRun]:
    """(locations, names, stamps) of the files `item` names, streamed in runs: a file (whatever
    its extension; name: its stem), a folder or prefix walked for `extensions` (name: the path
    below it without extension, in walk order), or a glob (name: the stem, sorted). The stamp is
    the file's version (`stamp_of`; "" without `stamps`). Raises FileNotFoundError when a glob
    matches nothing."""
    if is_file(item):
        location = str(local_path(item).resolve()) if not is_remote(item) else item
        yield [location], [_stem(name_of(item))], [stamp_of(item) if stamps else ""]
        return
    if is_dir(item):
        extensions = {e.lower() for e in extensions}  # none holds "/": a dot in a folder's name never matches
        for locations, rels, stamps_ in walk_stamped_runs(item, stamps):
            kept = [i for i, rel in enumerate(rels) if rel[rel.rfind("."):].lower() in extensions]
            if len(kept) < len(rels):
                locations, rels, stamps_ = ([column[i] for i in kept] for column in (locations, rels, stamps_))
            if rels:
                yield locations, [rel[:rel.rfind(".")] for rel in rels], stamps_
        return
    if is_remote(item):  # the glob's listing gives each object's stamp: no request a file
        fs, pattern = filesystem(item)
        matches = {fs.unstrip_protocol(m): _remote_stamp(info) for m, info in fs.glob(pattern, detail=True).items()
                   if info.get("type") == "file"}
    else:
        found = (str(Path(m).resolve()) for m in glob.glob(item, recursive=True))
        matches = {path: _local_stamp(os.stat(path)) if stamps else "" for path in found if Path(path).is_file()}
    if not matches:
        raise FileNotFoundError(f"no {what} matches {item!r}")
    ordered = sorted(matches)
    yield ordered, [_stem(name_of(m)) for m in ordered], [matches[m] for m in ordered]


def find_files(item: str, extensions, what: str = "file") -> dict[str, str]:
    """location -> name of the files `item` names (see iter_files)."""
    return dict(iter_files(item, extensions, what))


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name


def glob_files(pattern: Location) -> list[str | Path]:
    """The files matching a glob pattern (local Paths, or URLs), sorted."""
    if not is_remote(pattern):
        return sorted(Path(m) for m in glob.glob(str(local_path(pattern))) if Path(m).is_file())
    fs, path = filesystem(str(pattern))
    fs.invalidate_cache()  # listings of this process may predate other processes' writes
    return sorted(fs.unstrip_protocol(m) for m in fs.glob(path) if fs.isfile(m))


def read_bytes(location: Location) -> bytes:
    if not is_remote(location):
        return local_path(location).read_bytes()
    fs, path = filesystem(str(location))
    return fs.cat_file(path)


def read_json(location: Location):
    """The parsed JSON file at `location`, or None when there is none."""
    try:
        return json.loads(read_bytes(location))
    except FileNotFoundError:
        return None


def open_input(location: Location, mode: str = "rb"):
    """A file object for reading (fsspec streams remote files in blocks, no whole copy)."""
    if not is_remote(location):
        return open(local_path(location), mode)
    fs, path = filesystem(str(location))
    return fs.open(path, mode)


def make_dirs(location: Location) -> None:
    """Create a local folder (and its parents); object stores need none."""
    if not is_remote(location):
        local_path(location).mkdir(parents=True, exist_ok=True)
        return
    fs, path = filesystem(str(location))
    fs.makedirs(path, exist_ok=True)


def remove(location: Location) -> None:
    """Remove a file, or a folder or prefix with everything under it, if there."""
    if not is_remote(location):
        path = local_path(location)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)  # cleaning up: what cannot go stays, as before
        else:
            path.unlink(missing_ok=True)
        return
    fs, path = filesystem(str(location))
    with contextlib.suppress(FileNotFoundError):
        fs.rm(path, recursive=True)


def rename(source: Location, target: Location) -> None:
    """Move a file within one store onto `target` (replacing it): a rename locally, the store's
    move (copy, then delete) on object stores."""
    if not is_remote(source):
        os.replace(local_path(source), local_path(target))
        return
    fs, path = filesystem(str(source))
    fs.mv(path, filesystem(str(target))[1])


def publish(local: Path, final: str) -> None:
    """Upload a finished local file to the remote `final`: under a temporary key of ours first,
    then moved into place (replacing what is there), so `final` is whole or absent. A folder
    cannot be published so: an object store shows its objects one at a time (jobs refuse
    `--format files` on a URL, see pipelines/jobs/engine.py)."""
    if local.is_dir():
        raise ValueError(f"{local} is a folder; an object store cannot show a folder whole")
    fs, path = filesystem(final)
    tmp = f"{path.rsplit('/', 1)[0]}/{temp_name(name_of(path))}"
    try:
        fs.put_file(str(local), tmp)
        fs.mv(tmp, path)
    except BaseException:
        with contextlib.suppress(Exception):
            fs.rm(tmp, recursive=True)
        raise


def put_file(local: Path, location: Location) -> None:
    """Copy a finished local file to `location` so that it appears whole or not at all (a
    temporary name and a rename locally, `publish` on object stores)."""
    if is_remote(location):
        publish(local, str(location))
        return
    with atomic_file(local_path(location)) as tmp:
        shutil.copyfile(local, tmp)


def write_bytes(location: Location, data: bytes) -> None:
    """Write a whole file atomically: temporary name and rename locally, temporary key and move
    on object stores."""
    if not is_remote(location):
        atomic_write_bytes(local_path(location), data)
        return
    with staged(name_of(location)) as local:
        local.write_bytes(data)
        publish(local, str(location))


def write_json(location: Location, obj) -> None:
    write_bytes(location, json_bytes(obj))


def create_exclusive(location: Location, data: bytes) -> bool:
    """Create `location` holding `data` unless it exists; False when it did. Atomic where the
    store supports it (local hard links, S3 conditional writes), else check-then-write."""
    if not is_remote(location):
        path = local_path(location)
        tmp = path.with_name(temp_name(path.name))
        tmp.write_bytes(data)
        try:
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)
    fs, path = filesystem(str(location))
    try:
        with fs.open(path, "xb") as f:
            f.write(data)
        return True
    except FileExistsError:
        return False
    except (NotImplementedError, ValueError):  # no exclusive mode: the small race is accepted
        if fs.exists(path):
            return False
        fs.pipe_file(path, data)
        return True


@contextlib.contextmanager
def staged(name: str) -> Iterator[Path]:
    """A local scratch path named `name` in a fresh temporary folder, removed afterwards: where
    remote outputs are built before `publish`."""
    folder = Path(tempfile.mkdtemp(prefix="inpaint-data-"))
    try:
        yield folder / name
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def local_copy(location: Location, suffix: str = "") -> Path:
    """A local temporary copy of a remote file, for libraries that need a path (decord,
    OpenCV, torch.load of a memory map); the caller removes it."""
    fd, path = tempfile.mkstemp(prefix="inpaint-data-", suffix=suffix)
    os.close(fd)
    fs, remote = filesystem(str(location))
    fs.get_file(remote, path)
    return Path(path)


