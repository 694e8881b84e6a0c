"""One scanned page image → Rows with per-cell confidence (issue #15.1).

Seal removed, page turned upright (0/90/180/270°, judged by the recogniser's confidence on a
sample of cells), deskewed, ruled tables found (importers/ocr_grid.py), then every cell's
text lines and every line of text outside the tables recognised as crops — never the whole
page — and laid out as the text layer lays them out: "table" rows with a cell per grid
column (None where a merged cell covers it, "" where empty) and "line" rows in between.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from importers import ocr_grid, ocr_image
from importers.ocr_read import recognise

PROBE_CROPS = 10        # cells recognised to judge a page's orientation
UPRIGHT_CONF = 0.85     # a sample this confident needs no other orientation tried
MAX_RATIO = 14          # a line crop wider than this many times its height is cut in pieces
PAD = 0.3               # white margin around a line crop, in line heights


@dataclass
class _Crop:
    key: tuple            # ("cell", table, row, col) or ("line", top)
    part: int             # the line of a cell, or the run of words of a line
    image: np.ndarray


@dataclass
class PageRead:
    rows: list[tuple[list[str | None], str, list[float | None]]]   # (cells, kind, conf)
    turned: int           # quarter turns applied to make it upright
    skew: float           # degrees of tilt undone
    tables: int


def _line_height(binary: np.ndarray, dpi: float, boxes) -> float:
    """The typical height of a line of text in the page's cells (median of the projection's
    bands), for telling a character's separate strokes from two wrapped lines."""
    heights = []
    for x0, y0, x1, y1 in boxes:
        for s, e in ocr_grid.text_bands(binary[y0:y1, x0:x1], 2, 1):
            if e - s >= dpi * 0.05:
                heights.append(e - s)
    return float(np.median(heights)) if heights else dpi * 0.13


def _piece(grey, top, bottom, left, right, pad) -> np.ndarray:
    """A tight crop with a border of plain paper around it (neighbouring rulings stay out)."""
    import cv2

    crop = grey[top:bottom, left:right]
    paper = int(np.percentile(crop, 90)) if crop.size else 255
    return cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=paper)


def _chunks(sub: np.ndarray, left: int, right: int, height: int) -> list[tuple[int, int]]:
    """Cut a long line at gaps between characters into pieces at most MAX_RATIO times as wide
    as high: the recogniser's cost grows faster than its input's width."""
    limit = max(height * MAX_RATIO, 32)
    if right - left <= limit:
        return [(left, right)]
    counts = np.count_nonzero(sub, axis=0)
    pieces, start = [], left
    while right - start > limit:
        # pieces of about equal width (a short last piece, a character or two, is read
        # without the context the recogniser needs): cut at the emptiest column near the
        # even split (the latest of equals), a gap between two characters or their lightest touch
        step = (right - start) / math.ceil((right - start) / limit)
        lo, hi = int(start + step * 0.8), int(min(start + step * 1.2, start + limit))
        window = counts[lo:hi + 1][::-1]
        cut = hi - int(np.argmin(window))
        pieces.append((start, cut))
        start = cut
        while start < right and counts[start] == 0:
            start += 1
    if right > start:
        pieces.append((start, right))
    return pieces


def _line_crops(grey, binary, box, line_height: float, pad: int) -> list[list[np.ndarray]]:
    """The text lines inside `box` (x0, y0, x1, y1), top to bottom, each as the grey crops
    of its pieces, left to right."""
    x0, y0, x1, y1 = box
    sub = binary[y0:y1, x0:x1]
    bands = ocr_grid.split_lines(ocr_grid.text_bands(sub, 1, 1), line_height)
    lines = []
    for s, e in bands:
        spans = ocr_grid.ink_extent(sub[s:e], int(line_height * 3))
        if not spans:
            continue
        left, right = spans[0][0], spans[-1][1]
        if e - s < line_height * 0.3 and right - left < line_height * 0.6:
            continue                                    # a speck, not text
        if e - s < line_height * 0.5 and (s <= 2 or e >= sub.shape[0] - 2):
            continue                                    # the cut-off edge of a neighbour's text
        lines.append([_piece(grey, y0 + s, y0 + e, x0 + a, x0 + b, pad)
                      for a, b in _chunks(sub[s:e], left, right, e - s)])
    return lines


def _cell_boxes(table: ocr_grid.Table, inset: int):
    for (r, c), (x0, y0, x1, y1) in sorted(table.cells.items()):
        yield (r, c), (x0 + inset, y0 + inset, x1 - inset, y1 - inset)


def _layout(grey: np.ndarray, dpi: float):
    """Tables, the binary image with rulings removed, and the line height of a page."""
    import cv2

    binary = ocr_image.ink(grey, dpi)
    tables, rulings = ocr_grid.find_tables(binary, dpi)
    # without the rulings, and without the specks of noisy paper (which would otherwise chain
    # a line's extent across a cell and be read as characters)
    # (the rulings' mask grown a little: the blurred edge of a ruling is no text either)
    rulings = cv2.dilate(rulings, np.ones((3, 3), np.uint8))
    text = cv2.morphologyEx(binary & ~rulings, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    inset = max(3, int(dpi * 0.02))
    boxes = [box for t in tables for _, box in _cell_boxes(t, inset)]
    return tables, text, inset, _line_height(text, dpi, boxes)


@dataclass
class _Page:
    """A page at one orientation: its tables, the lines outside them, and every crop to read."""
    tables: list
    lines: list
    crops: list[_Crop]
    sample: list[int]     # the crops that judge the orientation


def _page(grey: np.ndarray, dpi: float) -> _Page:
    tables, text, inset, lh = _layout(grey, dpi)
    pad = max(4, int(lh * PAD))
    crops: list[_Crop] = []
    firsts: list[int] = []          # the first piece of a cell's first line
    for n, t in enumerate(tables):
        for (r, c), box in _cell_boxes(t, inset):
            if box[2] - box[0] > 4 and box[3] - box[1] > 4:
                for k, pieces in enumerate(_line_crops(grey, text, box, lh, pad)):
                    if k == 0:
                        firsts.append(len(crops))
                    crops.extend(_Crop(("cell", n, r, c), k, image) for image in pieces)
    outside = text.copy()
    for t in tables:
        x0, y0, x1, y1 = t.box
        outside[max(0, y0 - inset):y1 + inset, max(0, x0 - inset):x1 + inset] = 0
    lines = _outside_lines(grey, outside, lh, pad)
    for top, runs in lines:
        for k, pieces in enumerate(runs):
            if not tables:
                firsts.append(len(crops))
            crops.extend(_Crop(("line", top), k, image) for image in pieces)
    # the widest few, short of the pieces cut from long lines: several characters each
    sample = sorted(firsts, key=lambda i: -crops[i].image.shape[1] / crops[i].image.shape[0])
    return _Page(tables, lines, crops, sample[:PROBE_CROPS])


def _upright(grey: np.ndarray, dpi: float) -> tuple[_Page, int, dict[int, tuple[str, float]]]:
    """The page turned upright (judged by the recogniser's mean confidence on its sample of
    cells), the quarter turns that took, and the sample's reads, kept for the page's read."""
    best = None
    for k in (0, 1, 3, 2):
        page = _page(ocr_image.turn(grey, k) if k else grey, dpi)
        reads = dict(zip(page.sample, recognise([page.crops[i].image for i in page.sample])))
        score = float(np.mean([conf for _, conf in reads.values()])) if reads else 0.0
        if best is None or score > best[0]:
            best = (score, page, k, reads)
        if score >= UPRIGHT_CONF:
            break
    return best[1], best[2], best[3]


def read_image(bgr: np.ndarray, dpi: float) -> PageRead:
    """A page image (BGR, at `dpi`) → its rows."""
    grey = ocr_image.remove_seal(bgr)
    skew = ocr_image.skew_angle(ocr_image.ink(grey, dpi), dpi)
    grey = ocr_image.rotate(grey, skew)
    page, turned, sampled = _upright(grey, dpi)
    tables, lines, crops = page.tables, page.lines, page.crops

    rest = [i for i in range(len(crops)) if i not in sampled]
    reads = sampled | dict(zip(rest, recognise([crops[i].image for i in rest])))
    results = [reads[i] for i in range(len(crops))]
    # per key, per part: the pieces' texts and confidences (pieces read as empty are specks)
    texts: dict[tuple, dict[int, list[tuple[str, float]]]] = {}
    for crop, (text, conf) in zip(crops, results):
        parts = texts.setdefault(crop.key, {})
        if _readable(crop.key, text, conf):
            parts.setdefault(crop.part, []).append((text.strip(), conf))

    items: list[tuple[int, int, tuple]] = []
    for n, t in enumerate(tables):
        n_rows, n_cols = t.shape
        for r in range(n_rows):
            cells: list[str | None] = [None] * n_cols
            conf: list[float | None] = [None] * n_cols
            for c in range(n_cols):
                if (r, c) not in t.cells:
                    continue
                cells[c], conf[c] = _joined(texts.get(("cell", n, r, c), {}), "\n")
            items.append((t.ys[r], 1, (cells, "table", conf)))
    for top, images in lines:
        line, line_conf = _joined(texts.get(("line", top), {}), " ")
        if line:
            items.append((top, 0, ([line], "line", [line_conf])))
    items.sort(key=lambda item: (item[0], item[1]))
    return PageRead([row for _, _, row in items], turned, skew, len(tables))


_CJK = r"[\u4e00-\u9fff]"
# 晋政办发〔2017〕39号: the recogniser reads 〔〕 as [], 【】, （） or a mix
_DOC_NUMBER = re.compile(r"(发|字|函)\s*[\[［【〔（(]\s*(\d{4})\s*[\]］】〕）)]\s*(\d+)\s*号")


def tidy(text: str) -> str:
    """What the recogniser gets wrong the same way every time, put right:
    - Chinese has no spaces between words: drop those beside a non-ASCII character
      (项目 (长期开展) → 项目(长期开展)); keep those between ASCII words;
    - a full stop or a bar between two Chinese characters is a speck or a cut (Chinese
      writes 。 and no bars);
    - brackets beside Chinese characters are the full-width ones the recogniser often reads
      as ASCII: （长期开展）;
    - the brackets of a document number (文号) are 〔〕."""
    text = re.sub(r"\s+(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])\s+", "", text.strip())
    text = re.sub(rf"(?<={_CJK})[.·|](?={_CJK})", "", text)
    text = re.sub(rf"\((?={_CJK})|(?<={_CJK})\(", "（", text)
    text = re.sub(rf"\)(?={_CJK})|(?<={_CJK})\)", "）", text)
    return _DOC_NUMBER.sub(r"\1〔\2〕\3号", text)


def _readable(key: tuple, text: str, conf: float) -> bool:
    """Not a speck: something was read, and more than doubtful punctuation (dots left by the
    ends of rulings, the rim of a seal). Outside the tables doubtful readings are dropped
    (stray marks); inside, a doubtful value is kept for a person to check."""
    text = text.strip()
    if not text:
        return False
    if re.fullmatch(r"[\W_]+", text):
        return conf >= 0.8
    return key[0] == "cell" or conf >= 0.5


def _joined(parts: dict[int, list[tuple[str, float]]], sep: str) -> tuple[str, float | None]:
    """A cell's (or line's) text: pieces joined, parts joined by `sep`; its confidence is
    its least confident piece's; None when nothing was read."""
    text = tidy(sep.join("".join(t for t, _ in parts[k]) for k in sorted(parts) if parts[k]))
    confs = [cf for pieces in parts.values() for _, cf in pieces]
    return text, (min(confs) if confs else None)


def _outside_lines(grey, binary, line_height: float, pad: int):
    """Lines of text outside the tables: [(top, [crop per run of words])]."""
    clean = binary
    bands = ocr_grid.split_lines(ocr_grid.text_bands(clean, 1, 1), line_height)
    out = []
    for s, e in bands:
        if e - s < line_height * 0.4:
            continue
        images = []
        for left, right in ocr_grid.ink_extent(clean[s:e], int(line_height * 2)):
            if right - left < line_height * 0.5:
                continue                               # a speck or a stray mark
            images.append([_piece(grey, s, e, a, b, pad)
                           for a, b in _chunks(clean[s:e], left, right, e - s)])
        if images:
            out.append((s, images))
    return out
