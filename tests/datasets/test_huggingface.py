"""Our output folders load in Hugging Face `datasets` as they are: `load_dataset(FOLDER)` and the
webdataset/parquet builders with `data_dir=FOLDER`, for masks, edges and image shards with their
train/val parts. Side files are hidden (".manifest.json", ".files.parquet", ".*.stats.json"),
which its builders skip; folders written with the old "_" names are renamed by a re-run."""

import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from inpaint_data.cli.main import main

datasets = pytest.importorskip("datasets")


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Masks, edges and image shards (train/val) in both formats, plus a mask preview in the folder."""
    root = tmp_path_factory.mktemp("hf")
    rng = np.random.default_rng(0)
    (root / "photos").mkdir()
    for i in range(12):
        small = rng.integers(0, 256, (4, 6, 3), dtype=np.uint8)
        cv2.imwrite(str(root / "photos" / f"p{i:02d}.png"), cv2.resize(small, (48, 32), interpolation=cv2.INTER_CUBIC))
    for fmt in ("webdataset", "parquet"):
        invoke("masks", "--free-form", "--style", "deepfill", "--count", 10, "--size", 32, "--shard-size", 4,
               "--workers", 0, "--format", fmt, "--out", root / f"masks-{fmt}")
        invoke("edges", "--canny", root / "photos", "--shard-size", 5, "--workers", 0, "--format", fmt,
               "--out", root / f"edges-{fmt}")
        invoke("shard", root / "photos", "--size", 32, "--val-fraction", 0.3, "--shard-size", 3, "--workers", 0,
               "--format", fmt, "--out", root / f"shards-{fmt}")
    invoke("masks", "stats", root / "masks-webdataset")  # previews beside the shards
    return root


def _load(*args, cache, **kwargs):
    datasets.disable_progress_bars()
    return datasets.load_dataset(*args, cache_dir=str(cache), **kwargs)


def _total(folder) -> int:
    return json.loads((folder / ".manifest.json").read_text())["totals"]["count"]


@pytest.mark.parametrize("fmt", ["webdataset", "parquet"])
def test_mask_and_edge_folders_load_as_they_are(outputs, fmt, tmp_path):
    for kind, column in (("masks", "mask"), ("edges", "edge")):
        folder = outputs / f"{kind}-{fmt}"
        for loaded in (_load(str(folder), cache=tmp_path), _load(fmt, data_dir=str(folder), cache=tmp_path)):
            assert list(loaded) == ["train"] and loaded["train"].num_rows == _total(folder)
            row = loaded["train"][0]
            image = row[f"{column}.png"] if fmt == "webdataset" else row[f"{column}_png"] if f"{column}_png" in row \
                else row[column]
            if fmt == "parquet":
                image = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_UNCHANGED) if isinstance(image, bytes) \
                    else np.asarray(image)
            assert np.asarray(image).ndim == 2  # one channel, as written


@pytest.mark.parametrize("fmt", ["webdataset", "parquet"])
def test_image_shards_load_with_their_train_and_validation_splits(outputs, fmt, tmp_path):
    folder = outputs / f"shards-{fmt}"
    for loaded in (_load(str(folder), cache=tmp_path), _load(fmt, data_dir=str(folder), cache=tmp_path)):
        assert sorted(loaded) == ["train", "validation"]
        assert loaded["train"].num_rows == _total(folder / "train")
        assert loaded["validation"].num_rows == _total(folder / "val")
        assert loaded["train"].num_rows + loaded["validation"].num_rows == 12


def test_the_readmes_webdataset_recipe_gives_single_channel_masks(outputs):
    import webdataset as wds

    shards = sorted(str(p) for p in (outputs / "masks-webdataset").glob("*.tar"))
    sample = next(iter(wds.WebDataset(shards, shardshuffle=False).decode("l8")))
    assert sample["mask.png"].ndim == 2 and sample["mask.png"].dtype == np.uint8


def test_folders_with_the_old_side_file_names_are_renamed_and_resumed(outputs, tmp_path):
    """Up to 0.1.0 the side files began with "_" (which the JSON builder took for data): a re-run
    of the same job renames them and writes no shard again."""
    import shutil

    runs = {"masks": ["masks", "--free-form", "--style", "deepfill", "--count", 10, "--size", 32, "--shard-size", 4],
            "edges": ["edges", "--canny", outputs / "photos", "--shard-size", 5]}
    for kind, command in runs.items():
        folder = tmp_path / kind
        shutil.copytree(outputs / f"{kind}-webdataset", folder)
        for path in folder.glob(".*"):
            if path.name.startswith((".manifest", f".{kind}-", ".files")):
                path.rename(folder / ("_" + path.name[1:]))
        assert (folder / "_manifest.json").exists()
        stamps = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.tar")}
        result = invoke(*command, "--workers", 0, "--format", "webdataset", "--out", folder)
        assert f"(0 written, {len(stamps)} already done" in result.output
        assert {p.name: p.stat().st_mtime_ns for p in folder.glob("*.tar")} == stamps
        assert not list(folder.glob("_*")) and (folder / ".manifest.json").exists()
        assert len(list(folder.glob(f".{kind}-*.stats.json"))) == len(stamps)
        assert (folder / ".files.parquet").exists() == (kind == "edges")
        assert _load(str(folder), cache=tmp_path)["train"].num_rows == _total(folder)
