"""Every benchmark README's figures come from, at the settings README quotes, in one run.

Each script runs in a fresh process and prints JSON; runs that time one side against another
(or anything load can move) are repeated (3 by default) and each figure is reported as the
median with the runs' range. One JSON holds it all with the machine (cores, CPU model, load
average before and after each script), and `--readme` rewrites README's block between
`<!-- benchmarks:begin -->` and `<!-- benchmarks:end -->` from it. Default settings take about
20 minutes on 2 cores; `--quick` runs every script at toy sizes (under a minute) to check that
they still work, not their figures (CI does).

    python benchmarks/run_all.py [--out benchmarks/results.json] [--readme README.md] [--quick] [--only a,b]
    python benchmarks/run_all.py --render benchmarks/results.json --readme README.md   # the block only

Not here: learning.py (hours of training), listing_scale.py (10 million files), node_loss.py
(a 3-node Ray cluster), hed_edges.py (needs a TensorFlow venv), highres.py (a picture);
README states their figures with the run that made them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
BEGIN, END = "<!-- benchmarks:begin -->", "<!-- benchmarks:end -->"


@dataclass(frozen=True)
class Bench:
    """A script, its README settings and toy settings, how often to run it, what it compares,
    and the figures README quotes from its JSON (label -> value)."""

    script: str
    args: list[str]
    quick: list[str]
    figures: Callable[[dict], dict[str, float]]
    sides: str
    repeats: int = 3
    units: dict[str, str] = field(default_factory=dict)


def _masks_write(d: dict) -> dict[str, float]:
    out = {}
    for r in d["by_style"]:
        if r["style"] in ("deepfill", "deepfill-train", "pconv-keras"):
            out[f"{r['style']} {r['size']}: masks/s"] = r["webdataset_per_s"]
            out[f"{r['style']} {r['size']}: x PIL baseline"] = r["vs_baseline"]
    for r in d["by_format"]:
        for fmt in ("webdataset", "parquet", "files"):
            out[f"box {r['size']}, {fmt}: masks/s"] = r[f"{fmt}_per_s"]
    return out


def _masks_end_to_end(d: dict) -> dict[str, float]:
    r = d["end_to_end"][0]
    return {f"{r['count']:,} masks: ours masks/s": r["ours_per_s"],
            f"{r['count']:,} masks: released generator masks/s": r["released_per_s"],
            f"{r['count']:,} masks: ours / released": r["speedup"],
            "inpaint-data --help, s": d["help_s"], "one-shard job, s": d["one_shard_job_s"]}


def _video_masks(d: dict) -> dict[str, float]:
    out = {}
    for r in d["results"]:
        name = f"{r['size']} {r['flow']}"
        out[f"{name}: decode frames/s"] = r["decode_frames_per_s"]
        out[f"{name}: flow-only pairs/s"] = r["flow_pairs_per_s"]
        out[f"{name}: end-to-end pairs/s"] = r["end_to_end_pairs_per_s"]
        out[f"{name}: end to end / flow only"] = r["end_to_end_vs_flow"]
        out[f"{name}: check ms/pair"] = r["check_ms_per_pair"]
    return out


def _video_mask_fidelity(d: dict) -> dict[str, float]:
    out = {}
    for r in d["results"]:
        if r["rule"].startswith("job"):
            out[f"{r['flow']}: recall mean / min"] = (r["recall_mean"], r["recall_min"])
            out[f"{r['flow']}: precision mean / min"] = (r["precision_mean"], r["precision_min"])
            out[f"{r['flow']}: flow ms/pair 320x240"] = r["flow_ms_per_pair"]
    return out


def _training_data(d: dict) -> dict[str, float]:
    return {f"{r['size']} {r['format']}, {r['masks']}{', sketch' if r['sketch'] else ''}: samples/s": r["samples_per_s"]
            for r in d["results"]}


def _models_step(d: dict) -> dict[str, float]:
    out = {}
    for r in d["results"]:
        if "error" in r:
            raise RuntimeError(f"models_step {r['config']}: {r['error']}")
        out[f"{r['model']} {r['size']}: s/image"] = r["seconds_per_image"]
        out[f"{r['model']} {r['size']}: peak MiB"] = r["peak_rss_mib"]
    return out


def _eval_scale(d: dict) -> dict[str, float]:
    r = d["this_code"]
    return {f"{d['count']:,} pairs at {d['size']}: pairs/s": r["pairs_per_s"], "peak RSS MiB": r["peak_rss_mib"]}


def _baselines(d: dict) -> dict[str, float]:
    out = {}
    for name, r in d["baselines"].items():
        out[f"{name}: PSNR all bins"] = r["bins"]["all bins"]["psnr"]
        out[f"{name}: hole L1 x100 all bins"] = r["bins"]["all bins"]["l1_hole"]
        out[f"{name}: ms/pair"] = r["ms_per_pair"]
    return out


def _tf_bundle_crc(d: dict) -> dict[str, float]:
    return {f"{r['megabytes']} MB: vectorised / byte loop": r["speedup"] for r in d["runs"]}


BENCHES: dict[str, Bench] = {
    "masks_write": Bench(
        "masks_write.py", ["--count", "1000"], ["--count", "20"], _masks_write,
        "one core, one process: our writer (webdataset shards) against DeepFill v2's strokes drawn with PIL and "
        "saved one PNG file per mask, in the same process one after the other"),
    "masks_end_to_end": Bench(
        "masks_end_to_end.py", ["--counts", "30000"], ["--counts", "200", "--size", "64"], _masks_end_to_end,
        "the whole `inpaint-data masks` command (a fresh process, Ray's start, 30 webdataset tars) against the "
        "released generator saving 30,000 PNG files from a pool of as many processes; files against tars, so "
        "part of the ratio is the file system's"),
    "video_masks": Bench(
        "video_masks.py", ["--frames", "60", "--flows", "dis:medium,dis:fast"],
        ["--frames", "4", "--flows", "dis:medium"], _video_masks,
        "one core, bigbuckbunny.mp4: the job end to end (decode, flow both ways, the check, augment, write) "
        "against the forward and backward flow alone on the same frames"),
    "video_mask_fidelity": Bench(
        "video_mask_fidelity.py", [], ["--flows", "dis:fast"], _video_mask_fidelity,
        "synthetic motion with exact ground truth (deterministic: the same figures every run)", repeats=1),
    "training_data": Bench(
        "training_data.py", ["--images", "2000"], ["--images", "16"], _training_data,
        "one core: decode, crop, flip, mask and sketch of each training sample", repeats=1),
    "models_step": Bench(
        "models_step.py", ["--model", "pconv,deepfill,attention", "--sizes", "256"],
        ["--model", "attention", "--sizes", "64"], _models_step,
        "forward and backward with the loss on CPU (2 threads), each configuration in a fresh process",
        repeats=1),
    "eval_scale": Bench(
        "eval_scale.py", ["--count", "3000"], ["--count", "24"], _eval_scale,
        "`inpaint-data eval` in a child process on 3,000 PNGs at 256 with the mean fill (the pipeline's own "
        "cost), peak RSS from the child", repeats=1),
    "baselines": Bench(
        "baselines.py", [], ["--masks", "6", "--baselines", "telea,patchmatch"], _baselines,
        "five scikit-image photos x 120 NVIDIA-balanced deepfill masks at 256, one process", repeats=1),
    "tf_bundle_crc": Bench(
        "tf_bundle_crc.py", [], [], _tf_bundle_crc,
        "crc32c of random bytes: the numpy pass against the byte-at-a-time loop, in one process", repeats=1),
}


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() \
        else platform.processor()
    return {"cores": os.cpu_count(), "cpu": model, "python": platform.python_version(), "system": platform.system()}


def run_one(bench: Bench, quick: bool) -> dict:
    args = bench.quick if quick else bench.args
    runs, loads = [], []
    for _ in range(1 if quick else bench.repeats):
        before = os.getloadavg()
        started = time.perf_counter()
        done = subprocess.run([sys.executable, str(HERE / bench.script), *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{bench.script} failed:\n{done.stderr[-2000:]}")
        runs.append({"seconds": round(time.perf_counter() - started, 1), "json": json.loads(done.stdout)})
        loads.append({"before": [round(x, 2) for x in before], "after": [round(x, 2) for x in os.getloadavg()]})
    figures = {}
    for label in bench.figures(runs[0]["json"]):
        values = [bench.figures(r["json"])[label] for r in runs]
        if isinstance(values[0], tuple):
            figures[label] = {"median": list(values[0]), "runs": values}
        else:
            figures[label] = {"median": statistics.median(values), "min": min(values), "max": max(values),
                              "runs": values}
    return {"script": bench.script, "args": args, "sides": bench.sides, "repeats": len(runs), "load": loads,
            "seconds": [r["seconds"] for r in runs], "figures": figures, "raw": [r["json"] for r in runs]}


def _number(x: float) -> str:
    if isinstance(x, (list, tuple)):
        return " / ".join(_number(v) for v in x)
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}" if abs(x) < 10 else f"{x:.1f}"


def render(results: dict) -> str:
    """README's block: one table per benchmark (median, and the range when it ran more than once)."""
    m = results["machine"]
    lines = [BEGIN, "", f"Generated by `python benchmarks/run_all.py --readme README.md` ({results['date']}, "
             f"{m['cores']} cores, {m['cpu']}, Python {m['python']}; {results['minutes']} minutes). Each figure is the "
             "median of the script's runs, with their range where it ran more than once.", ""]
    for r in results["benchmarks"].values():
        lines += [f"**`{r['script']}`** {' '.join(r['args'])}: {r['sides']}.", "",
                  "| figure | median | range |" if r["repeats"] > 1 else "| figure | value |",
                  "| --- | --- | --- |" if r["repeats"] > 1 else "| --- | --- |"]
        for label, f in r["figures"].items():
            if r["repeats"] > 1 and "min" in f:
                lines.append(f"| {label} | {_number(f['median'])} | {_number(f['min'])} - {_number(f['max'])} |")
            else:
                lines.append(f"| {label} | {_number(f['median'])} |" + (" |" if r["repeats"] > 1 else ""))
        lines.append("")
    return "\n".join(lines + [END])


def write_readme(readme: Path, block: str) -> None:
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{readme} has no {BEGIN} ... {END} block")
    head, rest = text.split(BEGIN, 1)
    readme.write_text(head + block + rest.split(END, 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    parser.add_argument("--readme", type=Path, help="rewrite this README's benchmarks block")
    parser.add_argument("--quick", action="store_true", help="toy sizes, one run each: do the scripts work?")
    parser.add_argument("--only", help=f"comma-separated, from {', '.join(BENCHES)}")
    parser.add_argument("--render", type=Path, help="render this JSON into --readme instead of running")
    args = parser.parse_args()
    if args.render:
        results = json.loads(args.render.read_text())
    else:
        chosen = args.only.split(",") if args.only else list(BENCHES)
        started = time.perf_counter()
        results = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "quick": args.quick,
                   "load_before": [round(x, 2) for x in os.getloadavg()], "benchmarks": {}}
        for name in chosen:
            print(f"{name} ...", file=sys.stderr, flush=True)
            results["benchmarks"][name] = run_one(BENCHES[name], args.quick)
        results["load_after"] = [round(x, 2) for x in os.getloadavg()]
        results["minutes"] = round((time.perf_counter() - started) / 60, 1)
        args.out.write_text(json.dumps(results, indent=1) + "\n")
    if args.readme:
        write_readme(args.readme, render(results))
    print(json.dumps({name: r["figures"] for name, r in results["benchmarks"].items()}, indent=1))


if __name__ == "__main__":
    main()
