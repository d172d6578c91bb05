"""Published evaluation set-ups as presets (`eval --protocol NAME`): the image list, the mask
style and size, the number of masks (one per image), the seed and the bins of each, so that a
user with the data set runs the set-up with one flag. Sources in docs/evaluation.md.

None of the papers' mask draws can be rebuilt: MAT's, CoModGAN's and LaMa's evaluation masks are
drawn by unseeded generators (MAT's `RandomMask` per `__getitem__`, CoModGAN's per minibatch,
LaMa's `gen_mask_dataset.py`), so a preset draws the same distributions with our generators
(maskgen, compared with the released ones in tests/maskgen) at a fixed seed. LaMa's 30,000
Places images are an unseeded sample (`fetch_data/eval_sampler.py`, `random.shuffle`), so its
presets take the whole validation set, as MAT and CoModGAN do.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InputError


@dataclass(frozen=True)
class ImageList:
    """The file names of an evaluation set, in the papers' order, and where they come from."""

    about: str
    pattern: str  # file name with {i}
    first: int
    count: int
    source: str

    def names(self) -> tuple[str, ...]:
        return tuple(self.pattern.format(i=i) for i in range(self.first, self.first + self.count))


PLACES365_VAL = ImageList(
    about="Places365-Standard validation set: 36,500 images (val_large.tar at full size, or val_256.tar)",
    pattern="Places365_val_{i:08d}.jpg", first=1, count=36_500,
    source="http://places2.csail.mit.edu/download.html; MAT metrics/metric_main.py (max_real=36500), "
           "CoModGAN README (validation set of 36500 images) and metrics/metric_defaults.py (ids36k5)")


@dataclass(frozen=True)
class Protocol:
    about: str
    images: ImageList
    style: str  # maskgen style drawn, one mask per image
    size: int  # images resized (short side) and centre-cropped to size x size
    bins: str
    source: str
    seed: int = 0


PROTOCOLS: dict[str, Protocol] = {
    **{f"lama-places-{width}-{size}": Protocol(
        f"LaMa (Suvorov et al. 2022), Places: {width} masks at {size}", PLACES365_VAL, f"lama-{width}-{size}", size,
        "lama", f"LaMa configs/data_gen/random_{width}_{size}.yaml, "
                "fetch_data/places_standard_evaluation_prepare_data.sh")
        for width in ("thin", "medium", "thick") for size in (256, 512)},
    "mat-places-512-large": Protocol("MAT (Li et al. 2022), Places 512, large masks", PLACES365_VAL, "mat-large", 512,
                                     "comodgan", "MAT datasets/mask_generator_512.py, metrics/metric_main.py"),
    "mat-places-512-small": Protocol("MAT (Li et al. 2022), Places 512, small masks", PLACES365_VAL, "mat-small", 512,
                                     "comodgan", "MAT datasets/mask_generator_512_small.py, metrics/metric_main.py"),
    "comodgan-places-512": Protocol("CoModGAN (Zhao et al. 2021), Places2 512, ids36k5 (any hole ratio)",
                                    PLACES365_VAL, "comodgan", 512, "comodgan",
                                    "CoModGAN training/mask_generator.py, metrics/metric_defaults.py ids36k5"),
}


def get_protocol(name: str) -> Protocol:
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise InputError(f"unknown protocol {name!r}; expected one of {', '.join(PROTOCOLS)}") from None
