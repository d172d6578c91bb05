"""Results tables as the papers print them (`eval --table markdown|latex`): hole-ratio bins as
rows, then all bins; the metrics present as columns; every image of a bin (the "all" group, not
split by border holes)."""

from __future__ import annotations

#: Column title and number format of each metric, in the papers' order of columns.
COLUMNS = {
    "l1": ("L1 (%)", ".2f"), "l1_hole": ("L1 hole (x100)", ".2f"), "l2": ("L2 (%)", ".2f"),
    "psnr": ("PSNR", ".2f"), "ssim": ("SSIM", ".4f"), "lpips_alex": ("LPIPS (Alex)", ".4f"),
    "lpips_vgg": ("LPIPS (VGG)", ".4f"), "fid": ("FID", ".2f"), "p_ids": ("P-IDS (%)", ".2f"),
    "u_ids": ("U-IDS (%)", ".2f"), "lpips_fid100_f1": ("LPIPS-FID100 F1", ".4f"),
}
#: Metrics the papers print as percentages of what we store as fractions.
PERCENT = ("p_ids", "u_ids")
TABLE_FORMATS = ("markdown", "latex")


def _cells(row: dict, names: list[str]) -> list[str]:
    cells = []
    for name in names:
        value = row.get(name)
        if value is None:
            cells.append("-")
        else:
            cells.append(format(100 * value if name in PERCENT else value, COLUMNS[name][1]))
    return cells


def results_table(rows: list[dict], fmt: str = "markdown") -> str:
    """The "all" rows of `summarise` as a Markdown or LaTeX (booktabs) table."""
    if fmt not in TABLE_FORMATS:
        raise ValueError(f"unknown table format {fmt!r}; expected one of {TABLE_FORMATS}")
    chosen = [r for r in rows if r["group"] == "all"]
    names = [n for n in COLUMNS if any(r.get(n) is not None for r in chosen)]
    header = ["Hole ratio", "Images", *(COLUMNS[n][0] for n in names)]
    body = [[r["bin"], str(r["count"]), *_cells(r, names)] for r in chosen]
    if fmt == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
        return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in body])

    def tex(text: str) -> str:
        return text.replace("%", r"\%").replace("_", r"\_")

    lines = [r"\begin{tabular}{l" + "r" * (len(header) - 1) + "}", r"\toprule",
             " & ".join(tex(h) for h in header) + r" \\", r"\midrule"]
    for cells in body[:-1]:
        lines.append(" & ".join(tex(c) for c in cells) + r" \\")
    if body:
        lines += [r"\midrule", " & ".join(tex(c) for c in body[-1]) + r" \\"]
    return "\n".join(lines + [r"\bottomrule", r"\end{tabular}"])
