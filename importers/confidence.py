"""Per-field OCR confidence: from the cells a form was read from (Row.conf) to its fields.

The grid reader copies cell text into fields without keeping where it came from, so the
fields are traced back to their cells here, by content: a field is as confident as the least
confident cell it was read from. A field found in no cell keeps no confidence (the grid
reader only copies what the cells hold, so this is rare: a value split over three cells, read
back as the cells inside it).

Paths follow forms.schema.json: `project_name`, `funds.annual.total`,
`indicators[3].annual.target.raw` (0-based, as in JSON).
"""
from __future__ import annotations

import re
from decimal import Decimal

from importers.values import parse_number, parse_target
from importers.vocabulary import label_key

# Below this a field is listed in form["confidence"] and shown for a person to check. 0.9: a
# recognition score (PP-OCR's is per text line, 0..1) under it means at least one character was
# a close call; above it, a field is shown like any other. The OCR benchmark (bench/ocr.py) is
# where to tune it: too low lets misreads through unseen, too high asks people to check
# everything.
CONFIDENCE_THRESHOLD = 0.9

TEXT_FIELDS = ("project_name", "implementing_unit", "project_attribute", "project_term", "overview", "basis",
               "necessity", "measures", "plan", "goal_period", "goal_annual", "owner", "clerk", "phone")
FUND_SCALES = (Decimal(1), Decimal(10000))


def compact(text) -> str:
    return re.sub(r"\s+", "", str(text or ""))


def low_confidence(field_conf: dict[str, float], threshold: float = CONFIDENCE_THRESHOLD) -> dict[str, float]:
    """The form's `confidence` key: the fields below the threshold, rounded to two places."""
    return {path: round(conf, 2) for path, conf in field_conf.items() if conf < threshold}


def _cells(rows) -> list[tuple[int, int, str, float | None]]:
    out = []
    for r, row in enumerate(rows):
        conf = row.conf or []
        for j, cell in enumerate(row.cells):
            if cell:
                out.append((r, j, compact(cell), conf[j] if j < len(conf) else None))
    return out


def _least(confs) -> float | None:
    known = [c for c in confs if c is not None]
    return min(known) if known else None


def _inline_value(text: str) -> str | None:
    m = re.match(r"^[^:：]{2,14}[:：](.+)$", text)
    return m.group(1) if m else None


def trace(form: dict, rows, labels) -> dict[str, float]:
    """Field path → confidence (0..1) for every field of `form` found in `rows`."""
    cells = _cells(rows)
    found: dict[str, float] = {}

    def put(path: str, conf: float | None) -> None:
        if conf is not None:
            found[path] = min(conf, found.get(path, 1.0))

    for name in TEXT_FIELDS:
        value = compact(form.get(name))
        if value:
            put(name, _least(c for _, _, text, c in cells if text == value or _inline_value(text) == value))
    if form.get("project_term") and "project_term" not in found and "至" in form["project_term"]:
        # 上海: 计划开始日期 … 至 计划完成日期 (importers/layouts.py)
        ends = {compact(part) for part in form["project_term"].split("至") if part}
        put("project_term", _least(c for _, _, text, c in cells if text in ends))
    if form.get("department_name"):
        name = compact(form["department_name"])
        conf = _least(c for _, _, text, c in cells if name in text)
        put("department_name", conf)
        if form.get("department_code"):
            put("department_code", conf)
    if form.get("year"):
        put("year", _least(c for _, _, text, c in cells if f"{form['year']}年" in text))
    if form.get("filled_on"):
        digits = form["filled_on"].replace("-", "")
        put("filled_on", _least(c for _, _, text, c in cells if digits in re.sub(r"\D", "", text)
                                and len(re.sub(r"\D", "", text)) >= 8))
    _trace_funds(form, rows, cells, put, labels)
    _trace_indicators(form, rows, put)
    return found


def _amount(text: str) -> Decimal | None:
    try:
        return parse_number(text)
    except ValueError:
        return None


def _fund_labels(labels) -> dict[str, set[str]]:
    """Fund key → the labels of its row (vocabulary.Labels)."""
    out: dict[str, set[str]] = {}
    for label, key in labels.fund_sources.items():
        out.setdefault(key, set()).add(label)
    out["total"] = set(labels.fund_totals)
    return out


def _trace_funds(form: dict, rows, cells, put, labels) -> None:
    labels = _fund_labels(labels)
    row_keys = [{label_key(c) for c in row.cells if c} for row in rows]
    for side, funds in form["funds"].items():
        for key, value in funds.items():
            if value is None:
                continue
            wanted = Decimal(str(value))
            matches = [(r, c) for r, _, text, c in cells
                       if (amount := _amount(text)) is not None and any(amount * s == wanted for s in FUND_SCALES)]
            names = labels.get(key, set())
            if key == "total":
                names = {n for n in names if n.startswith("年度") == (side == "annual")}
            labelled = [c for r, c in matches if row_keys[r] & names]
            put(f"funds.{side}.{key}", _least(labelled) if labelled else _least(c for _, c in matches))


def _trace_indicators(form: dict, rows, put) -> None:
    """Each side of indicator k was read from a row holding its 三级 name (or the start of it,
    when wrapped over a page) and its 指标值: the first such row after the one the same side of
    indicator k-1 came from, else the first not yet taken. Stacked 长期/年度 blocks put the two
    sides in different rows and order the indicators by the 年度 block, hence per side."""
    after = {"period": 0, "annual": 0}
    taken: dict[str, set[int]] = {"period": set(), "annual": set()}
    for i, item in enumerate(form.get("indicators") or []):
        for s, side in enumerate(("period", "annual")):
            part = item.get(side)
            if not part:
                continue
            name, raw = compact(part["level3"]), compact(part["target"]["raw"])
            r = _find_row(rows, after[side], taken[side], name, raw)
            if r is None:
                continue
            after[side], path = r + 1, f"indicators[{i}].{side}"
            taken[side].add(r)
            row = rows[r]
            conf = row.conf or []
            texts = [compact(c) for c in row.cells]
            confs = [conf[j] if j < len(conf) else None for j in range(len(texts))]
            put(f"{path}.level3", _side_cell(texts, confs, name, s, prefix=True))
            conf_raw = _side_cell(texts, confs, raw, s)
            if conf_raw is None and raw:   # a value split over cells (指标性质 | 指标值 | 度量单位)
                conf_raw = _least(c for t, c in zip(texts, confs)
                                  if t and t in raw and t != name and not parse_target(t).no_target)
            put(f"{path}.target.raw", conf_raw)
            put(f"{path}.level2", _above(rows, r, compact(part["level2"]), s))
            put(f"indicators[{i}].level1", _above(rows, r, compact(item["level1"]), 0))


def _find_row(rows, start: int, taken: set[int], name: str, raw: str) -> int | None:
    """The row of one side: its name and its value in it; failing that, its name alone."""
    def holds_name(texts) -> bool:
        return name in texts or any(t and len(t) >= 2 and name.startswith(t) for t in texts)

    def holds_value(texts) -> bool:
        return not raw or raw in texts or any(t and t in raw for t in texts if t != name)

    order = list(range(start, len(rows))) + list(range(0, start))
    candidates = [r for r in order if r not in taken and holds_name({compact(c) for c in rows[r].cells if c})]
    for r in candidates:
        if holds_value({compact(c) for c in rows[r].cells if c}):
            return r
    return candidates[0] if candidates else None


def _side_cell(texts, confs, value: str, side: int, prefix: bool = False) -> float | None:
    """The cell holding `value` in the row: the first for 实施期, the last for 年度 (the same
    value often stands on both sides)."""
    hits = [c for t, c in zip(texts, confs) if t and (t == value or prefix and len(t) >= 2 and value.startswith(t))]
    if not hits:
        return None
    return hits[0] if side == 0 else hits[-1]


def _above(rows, r: int, value: str, side: int) -> float | None:
    """一级/二级: in the row itself, or the nearest row above (a merged or "same as above" cell)."""
    if not value:
        return None
    for k in range(r, -1, -1):
        row = rows[k]
        texts = [compact(c) for c in row.cells]
        conf = row.conf or []
        confs = [conf[j] if j < len(conf) else None for j in range(len(texts))]
        hit = _side_cell(texts, confs, value, side)
        if hit is not None:
            return hit
    return None
