"""Shape statistics of a mask, to tell whether grown masks keep their style (a stroke mask
dilated into a high hole-ratio bin turns into blobs; one cut at a margin gets straight edges)."""

from __future__ import annotations

import cv2
import numpy as np


def shape_stats(mask: np.ndarray) -> dict[str, float]:
    """straight: the share of hole-boundary pixels on axis-aligned straight runs of at least 1/16
    of the canvas height (a box's edges, a cut at a margin; the image border is no boundary);
    components: 8-connected hole components; perimeter_per_area: hole-boundary pixels over hole
    pixels (thin strokes high, blobs low)."""
    holes = (mask > 0).astype(np.uint8)
    run = max(4, mask.shape[0] // 16)
    edges = []  # hole pixels whose neighbour above / below / left / right is known
    for forward in (True, False):
        for axis in (0, 1):
            edge = np.zeros_like(holes)
            here = [slice(None)] * 2
            there = [slice(None)] * 2
            here[axis], there[axis] = (slice(1, None), slice(None, -1))[:: 1 if forward else -1]
            edge[tuple(here)] = holes[tuple(here)] & (1 - holes[tuple(there)])
            edges.append((edge, np.ones((1, run) if axis == 0 else (run, 1), np.uint8)))  # runs along the edge
    straight = sum(int(cv2.morphologyEx(edge, cv2.MORPH_OPEN, line).sum()) for edge, line in edges)
    boundary = sum(int(edge.sum()) for edge, _ in edges)
    n, _ = cv2.connectedComponents(holes, connectivity=8)
    area = int(holes.sum())
    return {"straight": straight / max(boundary, 1), "components": n - 1, "perimeter_per_area": boundary / max(area, 1)}
