"""A job's inputs as a Parquet file list: every input file, in a fixed order, with a unique key,
streamed to disk so that listing 10 million images keeps the driver's memory flat.

A list holds three string columns, `path` (a local path or URL), `key` and `stamp` (the file's
size and modification time or ETag, so that a file changed under its name lists as changed), in row groups of one
output shard each, so a shard task reads its own rows (`read_rows`) and the driver holds no
Python object per input. It is built in streaming passes over a scratch file: the first writes
the rows and keeps an 8-byte hash of each path and each key (16 bytes an input, and one sorted
copy while checking); rows whose hash another row shares are read back and compared as strings,
so only true repeats count. Repeated paths are dropped (the first one stays) and repeated keys
are resolved as `images.unique_keys` does, in list order: the first keeps its key, later ones
get `-2`, `-3`, ... skipping any key taken. The last pass writes the final lists, one per part of
the output (shard's train and val).

A job keeps its list in its output folder (`.files.parquet`; readers skip hidden names) with
what was listed (the request) in the file's metadata, and a re-run with the same request reads
it instead of listing again: a resumed job's inputs cannot drift under it.

A list is the job's own: its rows are hashed into the job's identity in `.manifest.json`, and a
list read back is hashed again (`verify_list`), so an edited list is refused. Its paths are
written without URL secrets (fileio.redact); a task gets them back, and is refused any row
outside the job's input locations, through `resolve_row` and the inputs' `input_roots`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import storage
from ..errors import InputError
from ..fileio import redact
from .image_inputs import LIST_FILE_EXTS
from .manifest import side_file
from .records import KEY_PATTERN

FILE_LIST = ".files.parquet"
META_KEY = b"inpaint-data"
#: `stamp`: the input's version when listed (storage.stamp_of; "" for the lines of a list file).
SCHEMA = pa.schema([("path", pa.string()), ("key", pa.string()), ("stamp", pa.string())])
BATCH = 16384  # rows handled at once in either pass


@dataclass(frozen=True)
class FileList:
    """A written list: where it is, how many rows, and the sha1 of its `path<TAB>key` lines (with
    the count, the job's identity of its inputs: see datasets.manifest.listing_identity)."""

    location: str | Path
    count: int
    sha1: str
    rows_per_group: int
    request: dict

    def identity(self) -> dict:
        return {"count": self.count, "sha1": self.sha1}


def input_roots(inputs: list[str]) -> tuple[str, ...] | None:
    """The locations a job's rows may name: each input (a folder or prefix, a file, a tar), or
    the folder before a glob's first wildcard; local ones absolute, URLs with their credentials
    (never written). None when an input is a `.txt`/`.lst` list: its lines may name any file,
    and the list's hash in the job's identity binds them."""
    roots = []
    for item in inputs:
        if item.lower().endswith(LIST_FILE_EXTS):
            return None
        fixed = re.split(r"[*?\[]", item, maxsplit=1)[0]
        if fixed != item:  # a glob: its fixed folder
            fixed = fixed.rsplit("/", 1)[0] if "/" in fixed else "."
        if storage.is_remote(fixed):
            roots.append(fixed.rstrip("/") or "/")
        else:  # as listed (symlinks resolved), and as given
            roots += dict.fromkeys([str(Path(fixed).resolve()), os.path.abspath(fixed)])
    return tuple(roots)


def _shown_roots(roots: tuple[str, ...]) -> list[tuple[str, str]]:
    """(root, the root as rows record it: without URL secrets) for each root."""
    return [(root, redact(root)) for root in roots]


def resolve_row(path: str, roots: tuple[str, ...] | None, shown: list[tuple[str, str]] | None = None) -> str:
    """The location a list's row names (its secrets put back from the job's `roots`; `shown`:
    their _shown_roots, when the caller resolves many rows); raises InputError when it lies
    outside every root, or climbs with `..`."""
    if roots is None:
        return path
    if "/../" in f"{path}/" or "/./" in f"{path}/":
        raise InputError(f"the file list names {path}, which climbs out of its folder; run again with --relist")
    for root, recorded in shown or _shown_roots(roots):
        prefix = recorded if recorded.endswith("/") else recorded + "/"
        if path == recorded or path.startswith((prefix, recorded + "::")):
            return root + path[len(recorded):]
    raise InputError(f"the file list names {path}, outside the job's inputs ({', '.join(map(redact, roots))}); "
                     "it was changed after the job wrote it: run again with --relist")


def _check_inside(paths: pa.ChunkedArray, roots: tuple[str, ...], shown: list[tuple[str, str]]) -> None:
    """resolve_row's checks on a column of paths at once; the first failing row raises its error."""
    climbs = pc.fill_null(pc.match_substring_regex(paths, r"/\.\.?(/|$)"), True)
    within = pc.is_null(paths)  # all false: no root takes a row yet
    for _, recorded in shown:
        prefix = recorded if recorded.endswith("/") else recorded + "/"
        hit = pc.or_(pc.or_(pc.equal(paths, recorded), pc.starts_with(paths, prefix)),
                     pc.starts_with(paths, recorded + "::"))
        within = pc.or_(within, hit)
    ok = pc.and_(pc.invert(climbs), pc.fill_null(within, False))
    if not pc.all(ok).as_py():
        resolve_row(paths.filter(pc.invert(ok))[0].as_py(), roots, shown)


def verify_list(file_list: FileList, roots: tuple[str, ...] | None) -> None:
    """Hash a list read back and check every row: the sha1 of its rows must be the one it was
    written with (the job's identity holds it too), keys must be keys, paths inside `roots`."""
    digest, count = hashlib.sha1(), 0
    shown = _shown_roots(roots) if roots is not None else None
    with storage.open_input(file_list.location) as f:
        parquet = pq.ParquetFile(f)
        for i in range(parquet.num_row_groups):  # each check on a whole row group at once (Arrow kernels)
            group = parquet.read_row_group(i)
            paths, keys = group.column("path"), group.column("key")
            bad = pc.invert(pc.fill_null(pc.match_substring_regex(keys, KEY_PATTERN.pattern), False))
            if pc.any(bad).as_py():
                key = keys.filter(bad)[0].as_py()
                raise InputError(f"{redact(str(file_list.location))} holds the key {key!r}, which is not a sample "
                                 "key (letters, digits, '_' and '-'); run again with --relist")
            if shown is not None:
                _check_inside(paths, roots, shown)
            digest.update(_lines(group))
            count += len(paths)
    if (count, digest.hexdigest()) != (file_list.count, file_list.sha1):
        raise InputError(f"{redact(str(file_list.location))} was changed after the job wrote it (its rows do not "
                         "match their recorded hash); run again with --relist")


def _lines(table: pa.Table) -> bytes:
    """The rows as the list's sha1 takes them, `path<TAB>key<TAB>stamp` lines (a row without a
    stamp as `path<TAB>key`, as lists were hashed before stamps), joined by Arrow."""
    paths, keys = table.column("path"), table.column("key")
    stamps = table.column("stamp") if "stamp" in table.column_names else pa.nulls(len(paths), pa.string())
    stamps = pc.fill_null(stamps, "")
    lines = pc.if_else(pc.equal(stamps, ""), pc.binary_join_element_wise(paths, keys, "\t"),
                       pc.binary_join_element_wise(paths, keys, stamps, "\t"))
    return _concatenated(pc.binary_join_element_wise(lines, "\n", ""))


def _concatenated(strings: pa.ChunkedArray | pa.Array) -> bytes:
    """The texts of a string array without nulls, one after the other (its data buffer)."""
    data = []
    for chunk in strings.chunks if isinstance(strings, pa.ChunkedArray) else [strings]:
        offsets, values = _buffers(chunk)
        data.append(values[offsets[0]:offsets[-1]].tobytes())
    return b"".join(data)


def _buffers(strings: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, bytes) of a string array, as numpy views of its Arrow buffers."""
    strings = strings.cast(pa.large_string())
    _, offsets, values = strings.buffers()
    offsets = np.frombuffer(offsets, np.int64)[strings.offset:strings.offset + len(strings) + 1]
    return offsets, np.frombuffer(values, np.uint8) if values is not None else np.zeros(0, np.uint8)


_MULTIPLIER = np.uint64(0x100000001B3)
_POWERS = np.concatenate([[np.uint64(1)], np.cumprod(np.full(4095, _MULTIPLIER, np.uint64))])


def _hashes(strings: list[str] | pa.Array) -> np.ndarray:
    """A 64-bit hash of each string: a polynomial over its UTF-8 bytes (mod 2^64) and its length,
    then splitmix64's finaliser; numpy over the Arrow buffers, about 1/10 the cost of a hashlib
    call a string, and the same in every process (Python's `hash` of a str is not)."""
    if not isinstance(strings, pa.Array):
        strings = pa.array(strings, pa.large_string())
    offsets, values = _buffers(strings)
    lengths = np.diff(offsets)
    hashes = np.zeros(len(lengths), np.uint64)
    if offsets[-1] > offsets[0]:
        powers = _POWERS
        if lengths.max() > len(powers):
            powers = np.concatenate([[np.uint64(1)], np.cumprod(np.full(lengths.max(), _MULTIPLIER, np.uint64))])
        owner = np.repeat(np.arange(len(lengths)), lengths)
        exponent = offsets[1:][owner] - 1 - np.arange(offsets[0], offsets[-1])
        terms = (values[offsets[0]:offsets[-1]].astype(np.uint64) + np.uint64(1)) * powers[exponent]
        filled = lengths > 0
        hashes[filled] = np.add.reduceat(terms, (offsets[:-1] - offsets[0])[filled])
    hashes += lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    for shift, factor in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB)):
        hashes ^= hashes >> np.uint64(shift)
        hashes *= np.uint64(factor)
    return hashes ^ (hashes >> np.uint64(31))


def _shared(hashes: np.ndarray) -> np.ndarray:
    """Sorted row numbers whose hash another row has too: the candidates of a repeat, few in
    practice (a hash collision puts two different texts here; the strings then decide). Holds
    one sorted copy of the hashes, and checks them a million at a time."""
    ranked = np.sort(hashes)
    values = np.unique(ranked[1:][ranked[1:] == ranked[:-1]])
    del ranked
    if not len(values):
        return np.zeros(0, np.int64)
    step = 1 << 20
    return np.concatenate([np.flatnonzero(np.isin(hashes[i : i + step], values)) + i
                           for i in range(0, len(hashes), step)])


def runs_of(entries: Iterable[tuple[str, ...]], size: int = BATCH) -> Iterator[storage.FileRun]:
    """(path, key[, stamp]) entries as runs of columns, for `write_file_lists`."""
    run: storage.FileRun = ([], [], [])
    for entry in entries:
        run[0].append(entry[0])
        run[1].append(entry[1])
        run[2].append(entry[2] if len(entry) > 2 else "")
        if len(run[0]) == size:
            yield run
            run = ([], [], [])
    if run[0]:
        yield run


def _scratch_rows(runs: Iterable[storage.FileRun], scratch: Path, redact_paths: bool) -> tuple[np.ndarray, np.ndarray]:
    """Pass 1: write the rows of `runs` to `scratch`; an 8-byte hash of every path and key."""
    path_hashes: list[np.ndarray] = []
    key_hashes: list[np.ndarray] = []
    with pq.ParquetWriter(scratch, SCHEMA) as writer:
        batch: storage.FileRun = ([], [], [])

        def flush() -> None:
            table = pa.table(list(batch), schema=SCHEMA)
            path_hashes.append(_hashes(table.column("path").combine_chunks()))
            key_hashes.append(_hashes(table.column("key").combine_chunks()))
            writer.write_table(table)
            for column in batch:
                column.clear()

        for paths, keys, stamps in runs:
            batch[0].extend(map(redact, paths) if redact_paths else paths)
            batch[1].extend(keys)
            batch[2].extend(stamps)
            if len(batch[0]) >= BATCH:
                flush()
        if batch[0]:
            flush()
    empty = np.zeros(0, np.uint64)
    return (np.concatenate(path_hashes) if path_hashes else empty,
            np.concatenate(key_hashes) if key_hashes else empty)


def _scratch_batches(scratch: Path) -> Iterator[tuple[int, pa.RecordBatch]]:
    """(first row number, rows) of the scratch file, a batch at a time."""
    row = 0
    for batch in pq.ParquetFile(scratch).iter_batches(BATCH):
        yield row, batch
        row += batch.num_rows


def _rows_of(scratch: Path, rows: np.ndarray, column: int) -> Iterator[tuple[int, str]]:
    """(row, text of `column`) for the sorted `rows` of the scratch file."""
    for first, batch in _scratch_batches(scratch):
        lo, hi = np.searchsorted(rows, [first, first + batch.num_rows])
        if hi > lo:
            texts = batch.column(column).take(pa.array(rows[lo:hi] - first)).to_pylist()
            yield from zip(rows[lo:hi].tolist(), texts)


def _repeated_paths(scratch: Path, path_hashes: np.ndarray) -> np.ndarray:
    """The rows whose path an earlier row has (the first one stays), sorted."""
    seen: set[str] = set()
    repeated = []
    for row, path in _rows_of(scratch, _shared(path_hashes), 0):
        if path in seen:
            repeated.append(row)
        seen.add(path)
    return np.array(repeated, np.int64)


def _renames(scratch: Path, key_hashes: np.ndarray, dropped: np.ndarray) -> dict[int, str]:
    """row -> new key for the kept rows whose key an earlier kept row has: `-2`, `-3`, ...,
    skipping every key taken (a key whose hash is taken counts as taken: that only skips a
    number)."""
    seen: set[str] = set()
    repeats: list[tuple[int, str]] = []
    for row, key in _rows_of(scratch, _shared(key_hashes), 1):
        if _holds(dropped, row):
            continue
        if key in seen:
            repeats.append((row, key))
        seen.add(key)
    if not repeats:
        return {}
    taken = np.sort(key_hashes)
    renames: dict[int, str] = {}
    for row, key in repeats:
        n = 2
        while True:
            candidate = f"{key}-{n}"
            h = _hashes([candidate])[0]
            at = np.searchsorted(taken, h)
            if candidate not in seen and not (at < len(taken) and taken[at] == h):
                break
            n += 1
        renames[row] = candidate
        seen.add(candidate)
    return renames


def _holds(ordered: np.ndarray, value: int) -> bool:
    at = np.searchsorted(ordered, value)
    return bool(at < len(ordered) and ordered[at] == value)


class _PartWriter:
    """Rows of one part into row groups of exactly `rows_per_group` (the last may be short)."""

    def __init__(self, path: Path, rows_per_group: int, request: dict):
        self.path, self.rows_per_group, self.request = path, rows_per_group, request
        self.writer: pq.ParquetWriter | None = None
        self.pending: list[pa.Table] = []
        self.pending_rows = 0
        self.count = 0
        self.digest = hashlib.sha1()

    def add(self, rows: pa.Table) -> None:
        self.digest.update(_lines(rows))
        self.count += rows.num_rows
        self.pending.append(rows)
        self.pending_rows += rows.num_rows
        if self.pending_rows >= self.rows_per_group:
            self.flush(whole_groups_only=True)

    def flush(self, whole_groups_only: bool = False) -> None:
        if not self.pending_rows:
            return
        rows = pa.concat_tables(self.pending)
        cut = rows.num_rows - rows.num_rows % self.rows_per_group if whole_groups_only else rows.num_rows
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, SCHEMA)
        if cut:
            self.writer.write_table(rows.slice(0, cut), row_group_size=self.rows_per_group)
        self.pending = [rows.slice(cut)] if cut < rows.num_rows else []
        self.pending_rows = rows.num_rows - cut

    def close(self) -> FileList:
        self.flush()
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, SCHEMA)
        result = FileList(self.path, self.count, self.digest.hexdigest(), self.rows_per_group, self.request)
        meta = {k: v for k, v in result.__dict__.items() if k != "location"}
        self.writer.add_key_value_metadata({META_KEY: json.dumps(meta, sort_keys=True).encode()})
        self.writer.close()
        return result


def write_file_lists(runs: Iterable[storage.FileRun], folder: Path, rows_per_group: int, request: dict,
                     part_of: Callable[[str], str] | None = None, redact_paths: bool = True) -> dict[str, FileList]:
    """Write the lists of `runs` ((paths, key-safe names, stamps) columns, streamed; `runs_of`
    makes them from rows) into local `folder`, paths without URL secrets unless not
    `redact_paths` (the rows of a `.txt` list of inputs, whose secrets no input root could give
    back, are kept as given), one per part (`part_of(key)`; one part, "", without it):
    part -> FileList. `request` says what was listed; it is kept in the file, for `listed` to
    know a list it may read back."""
    scratch = folder / "_scratch.parquet"
    path_hashes, key_hashes = _scratch_rows(runs, scratch, redact_paths)
    dropped = _repeated_paths(scratch, path_hashes)
    del path_hashes
    renames = _renames(scratch, key_hashes, dropped)
    del key_hashes
    parts: dict[str, _PartWriter] = {}
    for first, batch in _scratch_batches(scratch):
        rows = pa.Table.from_batches([batch])
        here = dropped[(dropped >= first) & (dropped < first + rows.num_rows)] - first
        moved = {row - first: key for row, key in renames.items() if first <= row < first + rows.num_rows}
        if moved:
            keys = rows.column("key").to_pylist()
            for i, key in moved.items():
                keys[i] = key
            rows = rows.set_column(1, "key", pa.array(keys, pa.string()))
        if len(here):
            keep = np.ones(rows.num_rows, bool)
            keep[here] = False
            rows = rows.filter(pa.array(keep))
        if part_of is None:
            by_part = {"": rows}
        else:
            names = np.array([part_of(key) for key in rows.column("key").to_pylist()], object)
            by_part = {part: rows.filter(pa.array(names == part)) for part in dict.fromkeys(names.tolist())}
        for part, part_rows in by_part.items():
            if part not in parts:
                parts[part] = _PartWriter(folder / f"{part or 'all'}{FILE_LIST}", rows_per_group,
                                          {**request, "part": part})
            parts[part].add(part_rows)
    scratch.unlink()
    return {part: writer.close() for part, writer in sorted(parts.items())}


@contextlib.contextmanager
def listed(runs: Callable[[], Iterable[storage.FileRun]], targets: dict[str, storage.Location],
           rows_per_group: int, request: dict, part_of: Callable[[str], str] | None = None,
           relist: bool = False, roots: tuple[str, ...] | None = None,
           ) -> Iterator[dict[str, tuple[FileList, Path | None]]]:
    """part -> (its list, the local file to put into its output folder, or None) for an output
    of one or more parts (`targets`, part -> folder). The lists already in the folders are read
    when they were made for the same `request` and group size (unless `relist`), each verified
    against its hash and the inputs' `roots` (verify_list); else `runs()` is listed again
    into a scratch folder, removed on exit. A part with no inputs is left out."""
    found = {part: read_file_list(side_file(folder, FILE_LIST)) for part, folder in targets.items()}
    if not relist and all(f is not None and (f.request, f.rows_per_group) == ({**request, "part": part}, rows_per_group)
                          for part, f in found.items()):
        for f in found.values():
            verify_list(f, roots)
        yield {part: (f, None) for part, f in found.items() if f.count}
        return
    folder = Path(tempfile.mkdtemp(prefix="inpaint-data-list-"))
    try:
        lists = write_file_lists(runs(), folder, rows_per_group, request, part_of, redact_paths=roots is not None)
        yield {part: (f, Path(f.location)) for part, f in lists.items() if part in targets}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_table(columns: dict[str, list], path: Path, request: dict) -> Path:
    """A small listing (video paths and their frame counts) as a Parquet file at local `path`,
    with the `request` that made it in its metadata, for `read_table`."""
    table = pa.table(columns).replace_schema_metadata({META_KEY: json.dumps({"request": request}).encode()})
    pq.write_table(table, path)
    return path


def read_table(location: storage.Location, request: dict) -> dict[str, list] | None:
    """The columns of a listing written by `write_table` for the same `request`, else None."""
    if not storage.is_file(location):
        return None
    try:
        with storage.open_input(location) as f:
            table = pq.read_table(f)
        made_for = json.loads((table.schema.metadata or {})[META_KEY])["request"]
    except (KeyError, ValueError, TypeError, OSError, pa.ArrowException):
        return None
    return table.to_pydict() if made_for == request else None


def read_file_list(location: storage.Location) -> FileList | None:
    """The list at `location` (a path or URL) from its metadata, or None when there is none or it
    is not one of ours."""
    if not storage.is_file(location):
        return None
    try:
        with storage.open_input(location) as f:
            meta = pq.ParquetFile(f).metadata.metadata or {}
        return FileList(location, **json.loads(meta[META_KEY]))
    except (KeyError, ValueError, TypeError, OSError, pa.ArrowException):
        return None


def read_rows(location: storage.Location, start: int, stop: int,
              roots: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """(path, key) of rows start..stop-1 of a list, reading only the row groups that hold them;
    with the job's input `roots`, each path as `resolve_row` gives it (a row outside them raises)."""
    with storage.open_input(location) as f:
        parquet = pq.ParquetFile(f)
        groups, first, row = [], None, 0
        for i in range(parquet.num_row_groups):
            n = parquet.metadata.row_group(i).num_rows
            if row < stop and row + n > start:
                groups.append(i)
                first = row if first is None else first
            row += n
        if not groups:
            return []
        table = parquet.read_row_groups(groups).slice(start - first, stop - start)
    paths = table.column("path").to_pylist()
    if roots is not None:
        shown = _shown_roots(roots)
        paths = [resolve_row(path, roots, shown) for path in paths]
    return list(zip(paths, table.column("key").to_pylist()))
