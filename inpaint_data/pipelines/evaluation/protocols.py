"""`eval --protocol NAME`: a published set-up (inpaint_data.protocols) run as one evaluation:
its masks drawn into the output folder, its image list taken from the user's folder."""

from __future__ import annotations

from dataclasses import replace

from ... import storage
from ...protocols import get_protocol
from ..jobs.job import JobOptions
from ..jobs.masks_synth import FreeFormSpec, run_free_form_masks
from ..options import RunOptions
from .data import named_images
from .evaluate import EvalSpec, check_report_folder
from .run import EvalReport, run_evaluation


def run_protocol(name: str, images: str, out_dir: storage.Location, spec: EvalSpec,
                 options: RunOptions = RunOptions(workers=0), overwrite: bool = False,
                 first: int | None = None) -> EvalReport:
    """Evaluate `spec`'s filler on protocol `name`: the list's images found in the folder
    `images` (all of them, or the `first` N for a quick check; checked before anything is
    written), one mask each drawn into `out_dir`/masks-N (a masks job: a re-run reuses them),
    the protocol's bins."""
    protocol = get_protocol(name)
    check_report_folder(out_dir, overwrite)
    names = protocol.images.names()[:first] if first else protocol.images.names()
    named_images(images, names)
    masks = storage.join(out_dir, f"masks-{len(names)}")
    run_free_form_masks(masks, FreeFormSpec(style=protocol.style, height=protocol.size, width=protocol.size,
                                            seed=protocol.seed), count=len(names),
                        options=JobOptions(workers=0, fmt="webdataset", command=f"eval --protocol {name}"))
    return run_evaluation(images, str(masks), out_dir, replace(spec, bins=protocol.bins, image_names=names),
                          options, overwrite)
