"""A scanned table's ruling lines → its cell grid, merged cells included (issue #15.1).

The horizontal rulings come from a morphological opening with a long horizontal kernel. The
column boundaries are then found band by band: between two horizontal rulings, an x is a
boundary where ink covers (nearly) the whole band's height — text never does, since a cell
has padding above and below its text. All boundaries of all bands make the table's columns
(as pdfplumber makes them from the union of a table's edges); where a boundary is missing for
a cell, that cell spans it. Cells covered by a merged cell are None, as in the text layer.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from importers.ocr_image import horizontal_lines

COVER = 0.75            # share of a boundary that must be ink for it to exist


@dataclass
class Table:
    box: tuple[int, int, int, int]                  # x0, y0, x1, y1
    ys: list[int]                                   # horizontal rulings, top to bottom
    xs: list[int]                                   # column boundaries, left to right
    # one entry per cell: (row, col) → (x0, y0, x1, y1) of the whole (merged) cell, at the
    # cell's top-left grid position; covered positions are absent
    cells: dict[tuple[int, int], tuple[int, int, int, int]] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.ys) - 1, len(self.xs) - 1


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of the runs of True."""
    padded = np.concatenate(([False], flags, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _cluster(values: list[float], gap: float) -> list[int]:
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= gap:
            out[-1].append(v)
        else:
            out.append([v])
    return [int(round(sum(c) / len(c))) for c in out]


def line_masks(binary: np.ndarray, dpi: float) -> np.ndarray:
    """Pixels of long horizontal rulings."""
    return horizontal_lines(binary, int(dpi * 0.6))


def find_tables(binary: np.ndarray, dpi: float) -> tuple[list[Table], np.ndarray]:
    """The ruled tables of a (deskewed) page, and the mask of their ruling pixels."""
    import cv2

    hmask = line_masks(binary, dpi)
    # Join each table's rulings: close vertically over at most a tall row's height.
    vkernel = cv2.getStructuringElement(cv2.MORPH_RECT, (1, int(dpi * 0.2)))
    vmask = cv2.morphologyEx(binary, cv2.MORPH_OPEN, vkernel)
    joined = cv2.dilate(hmask | vmask, np.ones((5, 5), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    tables = []
    min_w = max(binary.shape[1] * 0.25, dpi)
    for i in range(1, count):
        x, y, w, h, _area = stats[i]
        if w < min_w or h < dpi * 0.15:
            continue
        table = _grid(binary, hmask, (int(x), int(y), int(x + w), int(y + h)), dpi)
        if table is not None:
            tables.append(table)
    tables.sort(key=lambda t: t.box[1])
    return tables, hmask | vmask


def _grid(binary, hmask, box, dpi) -> Table | None:
    x0, y0, x1, y1 = box
    tol = max(2, int(dpi * 0.012))
    sub = hmask[y0:y1, x0:x1]
    rows = np.count_nonzero(sub, axis=1)
    ys = [y0 + (a + b - 1) // 2 for a, b in _runs(rows >= dpi * 0.6)]
    ys = _cluster(ys, tol * 2)
    if len(ys) < 2:
        return None
    thick = cv2_dilate_x(binary[y0:y1, x0:x1], tol)
    candidates = []
    for top, bottom in zip(ys, ys[1:]):
        a, b = top - y0 + tol + 1, bottom - y0 - tol
        if b - a < 3:
            continue
        cover = np.count_nonzero(thick[a:b], axis=0) / (b - a)
        for s, e in _runs(cover >= 0.95):
            candidates.append(x0 + (s + e - 1) / 2)
    xs = _cluster(candidates, tol * 2)
    if len(xs) < 2:
        return None
    table = Table((xs[0], ys[0], xs[-1], ys[-1]), ys, xs)
    _merge(table, binary, tol)
    return table


def cv2_dilate_x(binary: np.ndarray, tol: int) -> np.ndarray:
    import cv2

    return cv2.dilate(binary, np.ones((1, 2 * tol + 1), np.uint8))


def _covered(segment: np.ndarray) -> bool:
    return segment.size > 0 and np.count_nonzero(segment) / segment.size >= COVER


def _merge(table: Table, binary: np.ndarray, tol: int) -> None:
    """Fill table.cells: union the grid positions whose separating ruling is absent."""
    ys, xs = table.ys, table.xs
    n_rows, n_cols = table.shape
    parent = list(range(n_rows * n_cols))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for r in range(n_rows):
        a, b = ys[r] + tol + 1, ys[r + 1] - tol
        for c in range(n_cols - 1):
            x = xs[c + 1]
            # any column within the tolerance that is (nearly) fully inked counts
            strip = binary[a:b, x - tol:x + tol + 1]
            present = strip.size and np.max(np.count_nonzero(strip, axis=0)) >= COVER * (b - a)
            if not present:
                union(r * n_cols + c, r * n_cols + c + 1)
    for r in range(n_rows - 1):
        y = ys[r + 1]
        for c in range(n_cols):
            a, b = xs[c] + tol + 1, xs[c + 1] - tol
            strip = binary[y - tol:y + tol + 1, a:b]
            present = strip.size and np.max(np.count_nonzero(strip, axis=1)) >= COVER * (b - a)
            if not present:
                union(r * n_cols + c, (r + 1) * n_cols + c)
    groups: dict[int, list[tuple[int, int]]] = {}
    for r in range(n_rows):
        for c in range(n_cols):
            groups.setdefault(find(r * n_cols + c), []).append((r, c))
    for members in groups.values():
        r0 = min(r for r, _ in members)
        c0 = min(c for r, c in members if r == r0)
        r1 = max(r for r, _ in members)
        c1 = max(c for _, c in members)
        table.cells[(r0, c0)] = (xs[c0], ys[r0], xs[c1 + 1], ys[r1 + 1])


def text_bands(binary: np.ndarray, min_height: int, join_gap: int) -> list[tuple[int, int]]:
    """[top, bottom) of the rows of text in a binary crop (horizontal projection)."""
    rows = np.count_nonzero(binary, axis=1) >= 2
    bands = []
    for s, e in _runs(rows):
        if bands and s - bands[-1][1] <= join_gap:
            bands[-1] = (bands[-1][0], e)
        else:
            bands.append((s, e))
    return [(s, e) for s, e in bands if e - s >= min_height]


def split_lines(bands: list[tuple[int, int]], line_height: float) -> list[tuple[int, int]]:
    """Glue a character's separate strokes back together (二, 三 leave gaps in the projection)
    without gluing two wrapped lines: a band joins the line above while the line stays no
    taller than about one line of text."""
    lines: list[list[int]] = []
    for s, e in bands:
        if lines and e - lines[-1][0] <= line_height * 1.3:
            lines[-1][1] = e
        else:
            lines.append([s, e])
    return [(s, e) for s, e in lines]


def ink_extent(binary: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """[left, right) of the runs of ink across a line crop, runs closer than `gap` joined;
    runs with hardly any ink (a speck, a dot of a dirty scan) are left out."""
    counts = np.count_nonzero(binary, axis=0)
    spans = []
    for s, e in _runs(counts > 0):
        if counts[s:e].sum() < max(6, gap // 6):
            continue
        if spans and s - spans[-1][1] <= gap:
            spans[-1] = (spans[-1][0], e)
        else:
            spans.append((s, e))
    return spans
