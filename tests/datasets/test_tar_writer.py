import io
import tarfile

import numpy as np

from inpaint_data.datasets.codec import encode_sample
from inpaint_data.datasets.records import Sample
from inpaint_data.datasets.writers import TAR_MTIME, WebDatasetWriter


def test_our_tar_members_are_tarfiles_bytes(tmp_path):
    """The webdataset writer builds headers from a template; the archive must be byte for byte
    what tarfile writes (sizes across block boundaries, long names, an empty shard)."""
    rng = np.random.default_rng(0)
    sizes = (1, 16, 63, 64, 200)
    samples = [Sample(key=f"{i:09d}" + "x" * (80 if i == 2 else 0),
                      mask=(rng.random((s, s)) > 0.5).astype(np.uint8) * 255, meta={"i": i, "s": "é"})
               for i, s in enumerate(sizes)]
    for count in (0, 1, len(samples)):
        with WebDatasetWriter(tmp_path / f"ours-{count}.tar") as writer:
            for sample in samples[:count]:
                writer.write(sample)
        with tarfile.open(tmp_path / f"ref-{count}.tar", "w", format=tarfile.USTAR_FORMAT) as tar:
            for sample in samples[:count]:
                for ext, data in encode_sample(sample).items():
                    info = tarfile.TarInfo(f"{sample.key}.{ext}")
                    info.size, info.mtime, info.mode = len(data), TAR_MTIME, 0o644
                    tar.addfile(info, io.BytesIO(data))
        assert (tmp_path / f"ours-{count}.tar").read_bytes() == (tmp_path / f"ref-{count}.tar").read_bytes()
