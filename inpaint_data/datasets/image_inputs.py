"""What the image jobs (`edges`, `shard`) take as inputs, streamed: image files, folder trees and
prefixes (walked, see storage.walk_files), globs, `.txt`/`.lst` files naming one image per line,
and img2dataset output folders. Each image comes as (location, key-safe name); the names are made
unique by the job's file list (datasets.file_list), so nothing here holds the inputs in memory."""

from __future__ import annotations

import os
from collections.abc import Iterator

from .. import storage
from .ecosystem import img2dataset_images, is_img2dataset_folder
from .images import IMAGE_EXTS, key_safe_all

LIST_FILE_EXTS = (".txt", ".lst")


def list_file_lines(location: str) -> Iterator[str]:
    """The non-empty lines of a list file, streamed; local relative paths made absolute."""
    with storage.open_input(location, "r") as lines:
        for line in lines:
            line = line.strip()
            if line:
                yield line if storage.is_remote(line) else os.path.abspath(line)


def image_entries(inputs: list[str]) -> Iterator[tuple[str, str, str]]:
    """(location, key-safe name, stamp) of every image the inputs name, one at a time (see
    image_entry_runs)."""
    for locations, names, stamps in image_entry_runs(inputs):
        yield from zip(locations, names, stamps)


def image_entry_runs(inputs: list[str]) -> Iterator[storage.FileRun]:
    """(locations, key-safe names, stamps) of every image the inputs name, in runs (a folder's
    files come as one), input by input, each in its own order (walk order for folders, sorted
    globs, line order for list files, shard order for img2dataset folders). The stamp is the
    file's version from its listing (storage.stamp_of; a tar member's size and time), so that a
    file changed under the same name lists as changed. A list file's lines are taken as image
    files without asking the store for each (ten million lines, ten million requests): no stamp,
    and one that is missing or not an image is a recorded error of its shard, not of the listing."""
    for item in inputs:
        if item.lower().endswith(LIST_FILE_EXTS) and storage.is_file(item):
            runs = _runs((line, storage.name_of(line).rsplit(".", 1)[0], "") for line in list_file_lines(item))
        elif is_img2dataset_folder(item):
            runs = _runs(img2dataset_images(item))
        else:
            runs = storage.iter_stamped_file_runs(item, IMAGE_EXTS, "image")
        for locations, names, stamps in runs:
            yield locations, key_safe_all(names), stamps


def _runs(entries: Iterator[tuple[str, str, str]], size: int = 4096) -> Iterator[storage.FileRun]:
    run: storage.FileRun = ([], [], [])
    for entry in entries:
        for column, value in zip(run, entry):
            column.append(value)
        if len(run[0]) == size:
            yield run
            run = ([], [], [])
    if run[0]:
        yield run
