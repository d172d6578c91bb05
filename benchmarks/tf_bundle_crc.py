"""crc32c of a TensorFlow checkpoint's bytes (models/released/tf_bundle.py): the vectorised
pass against the byte-at-a-time loop, in the same process, on random bytes the size of DeepFill
v2's generator (16 MB) and of a snapshot with its discriminator and Adam slots (64 MB).
Prints JSON. Usage: python benchmarks/tf_bundle_crc.py"""

from __future__ import annotations

import json
import os
import platform
import time

from inpaint_data.models.released.tf_bundle import _crc_register, crc32c_value


def _seconds(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def main() -> None:
    rows = []
    for megabytes in (16, 64):
        data = os.urandom(megabytes << 20)
        fast = _seconds(crc32c_value, data)
        loop = _seconds(_crc_register, 0xFFFFFFFF, data)
        rows.append({"megabytes": megabytes, "vectorised_s": round(fast, 2), "byte_loop_s": round(loop, 2),
                     "speedup": round(loop / fast, 1)})
    print(json.dumps({"benchmark": "tf_bundle_crc", "machine": platform.machine(), "runs": rows}, indent=1))


if __name__ == "__main__":
    main()
