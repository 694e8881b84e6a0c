"""Rows of cells → 项目支出绩效目标申报表 forms.

Every source (PDF tables, xlsx sheets, tab-separated text) is first turned into a flat
sequence of `Row`s; this module finds the forms in it. Cells are `None` where the source
says "covered by a merged cell" and `""` where it says "empty"; sources that cannot tell
the two apart (plain text) use `None` for every blank.

The indicator table is read by content, not by fixed columns: real files shift cells left
or right (a missing 一级 column, a 二级 written in the 一级 column), so each row is aligned
to the logical columns by a small dynamic programme that scores what each cell looks like.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from importers import form_checks, layouts, taxonomy
from importers.values import parse_number, parse_target
from importers.vocabulary import Labels, label_key

TITLE_KEY = "绩效目标申报表"


@dataclass
class Row:
    cells: list[str | None]
    kind: str = "table"          # "table": a table row; "line": free text outside tables
    page: int | None = None      # 1-based page number, where the source has pages
    conf: list[float | None] | None = None   # OCR only: confidence 0..1 of each cell, aligned with cells


def clean(cell) -> str | None:
    """Join text wrapped inside a cell: line breaks inside cells carry no meaning."""
    if cell is None:
        return None
    text = str(cell).replace("\r", "").replace("\n", "").replace("\u3000", " ").strip()
    return text


def compact(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "")


# label → field name. Order matters only for readability; matching is exact on label_key.
HEADER_LABELS = {
    "项目名称": "project_name",
    "主管部门及代码": "department",
    "主管部门": "department",
    "主管部门名称及代码": "department",
    "实施单位": "implementing_unit",
    "项目属性": "project_attribute",
    "项目期": "project_term",
    "项目概况": "overview",
    "立项依据": "basis",
    "项目设立必要性": "necessity",
    "项目设立的必要性": "necessity",
    "保证项目实施的制度、措施": "measures",
    "保证项目实施的制度,措施": "measures",
    "项目实施计划": "plan",
    "负责人": "owner",
    "项目负责人": "owner",
    "经办人": "clerk",
    "联系电话": "phone",
    "填报日期": "filled_on",
    # other layouts (importers/layouts.py)
    "项目性质": "project_attribute",
    "项目类别": "_category",
    "计划开始日期": "_start",
    "计划完成日期": "_end",
    "年度总体目标": "goal_annual",
    "项目总目标": "goal_period",
    "中期目标": "goal_period",
}
FUND_TOTAL_LABELS = {"实施期资金总额", "申报期资金总额", "项目期资金总额", "年度资金总额",
                     "项目资金总额", "年度资金申请总额"}
FUND_SOURCE_LABELS = {
    "中央财政资金": "central",
    "省级财政资金": "provincial",
    "市县(区)财政资金": "local",
    "市县财政资金": "local",
    "市县(区)级财政资金": "local",
    "单位自筹": "self_raised",
    "单位自筹资金": "self_raised",
    "其他资金": "other",
    "财政拨款": "fiscal",
    "财政资金": "fiscal",
    "当年财政拨款": "fiscal",
    "上年结转资金": "carried_over",
}
OTHER_LABELS = {"项目资金(元)", "项目资金(万元)", "项目资金", "实施期目标", "年度目标", "总体目标",
                "绩效指标", "年度绩效目标", "实施期绩效目标", "长期绩效指标", "年度绩效指标"}
FUND_KEYS = ("total", "central", "provincial", "local", "self_raised", "other")
# what OCR reads is snapped to these labels (importers/vocabulary.py)
OCR_LABELS = Labels.of(HEADER_LABELS, FUND_TOTAL_LABELS, FUND_SOURCE_LABELS, OTHER_LABELS)


def _is_label(cell: str | None) -> bool:
    key = label_key(cell)
    return bool(key) and (key in HEADER_LABELS or key in FUND_TOTAL_LABELS
                          or key in FUND_SOURCE_LABELS or key in OTHER_LABELS)


def _split_inline(cell: str) -> tuple[str, str] | None:
    """“经办人：朱照亮” → ("经办人", "朱照亮"): a label and its value in one cell."""
    m = re.match(r"^\s*([^:：]{2,14})[:：]\s*(.+)$", cell)
    if m and label_key(m.group(1)) in HEADER_LABELS:
        return label_key(m.group(1)), m.group(2).strip()
    return None


def _values_after(cells: list[str | None], i: int) -> list[str]:
    """The non-empty cells after position i, up to the next label."""
    out = []
    for cell in cells[i + 1:]:
        if cell is None or cell == "":
            continue
        if _is_label(cell) or _split_inline(cell):
            break
        out.append(cell)
    return out


# ---------------------------------------------------------------------------
# Finding the forms


def _row_keys(row: Row) -> set[str]:
    return {label_key(c) for c in row.cells if c}


def _is_anchor(rows: list[Row], i: int) -> bool:
    """A 项目名称 row starts a form only if 实施单位/主管部门 follow: other tables of a
    预算公开 document have 项目名称 as a column header."""
    if "项目名称" not in _row_keys(rows[i]):
        return False
    if not _values_after(rows[i].cells, _label_index(rows[i], "项目名称")):
        return False
    for row in rows[i:i + 5]:
        keys = _row_keys(row)
        if keys & {"实施单位", "主管部门及代码", "主管部门", "主管部门名称及代码"}:
            return True
    return False


def _label_index(row: Row, key: str) -> int:
    for i, cell in enumerate(row.cells):
        if cell and label_key(cell) == key:
            return i
    return -1


def _is_footer(row: Row) -> bool:
    for cell in row.cells:
        if not cell:
            continue
        key = label_key(cell)
        if key in ("负责人", "项目负责人", "填报日期", "经办人", "联系电话"):
            return True
        inline = _split_inline(cell)
        if inline and inline[0] in ("负责人", "填报日期", "经办人", "联系电话"):
            return True
    return False


def _year_of(rows: list[Row]) -> int | None:
    """（2023年度） under the title, or a year inside the title itself."""
    for row in reversed(rows):
        text = compact("".join(c for c in row.cells if c))
        m = re.search(r"[(（]?(20\d{2})年度?[)）]", text) or (
            re.search(r"(20\d{2})年度?", text) if TITLE_KEY in text else None)
        if m:
            return int(m.group(1))
    return None


def find_forms(rows: list[Row]) -> tuple[list[dict], list[str]]:
    """All forms in the rows, in order, with warnings."""
    rows = [Row([clean(c) for c in r.cells], r.kind, r.page, r.conf) for r in rows]
    ocr = any(r.conf is not None for r in rows)
    if ocr:   # OCR rows only: a text layer or a sheet says exactly what is written
        rows = form_checks.correct_rows(rows, OCR_LABELS)
    anchors = [i for i in range(len(rows)) if _is_anchor(rows, i)]
    forms, warnings = [], []
    prev_end = 0
    for n, start in enumerate(anchors):
        end = anchors[n + 1] if n + 1 < len(anchors) else len(rows)
        # The title and year sit just above the anchor; do not look back past the last form.
        title_rows = rows[max(prev_end, start - 6):start]
        body = rows[start:end]
        form, form_warnings = _parse_form(body, title_rows)
        # a footer ends the form; what follows it belongs to the rest of the document
        prev_end = start + form.pop("_length")
        if ocr:
            form_checks.check_form(form, title_rows + rows[start:prev_end], form_warnings, OCR_LABELS)
        pages = sorted({r.page for r in rows[start:prev_end] if r.page is not None})
        if pages:
            form["_pages"] = pages
        forms.append(form)
        warnings.extend(f"{form['project_name'] or '（无名项目）'}：{w}" for w in form_warnings)
    if not forms:
        warnings.append("未在文件中找到项目支出绩效目标申报表")
    return forms, warnings


# ---------------------------------------------------------------------------
# One form


def _empty_funds() -> dict:
    return {k: None for k in FUND_KEYS}


def _parse_amount(text: str | None, scale: Decimal, warnings: list[str], label: str):
    if text is None or compact(text) in ("", "-", "—", "/", "*"):
        return None
    try:
        value = parse_number(text) * scale
    except ValueError:
        warnings.append(f"{label}“{text}”不是金额，已按空值处理")
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _parse_department(text: str | None) -> tuple[str | None, str]:
    """“216-山西省商务厅” → ("216", "山西省商务厅"); also “[216]山西省商务厅” and “山西省商务厅(216)”."""
    text = (text or "").strip()
    for pattern in (r"^\[?(\d{2,})\]?\s*[-－—_\s]?\s*(.+)$", r"^(.+?)\s*[(（](\d{2,})[)）]$"):
        m = re.match(pattern, text)
        if m:
            a, b = m.group(1), m.group(2)
            return (a, b.strip()) if a.isdigit() else (b, a.strip())
    return None, text


def _parse_date(text: str | None) -> str | None:
    digits = re.sub(r"\D", "", text or "")
    if len(digits) >= 8:
        try:
            return datetime.strptime(digits[:8], "%Y%m%d").strftime("%Y-%m-%d")
        except ValueError:
            pass
    m = re.search(r"(\d{4})\D+(\d{1,2})\D+(\d{1,2})", text or "")
    if m:
        try:
            return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3))).strftime("%Y-%m-%d")
        except ValueError:
            return None
    return None


def _parse_form(body: list[Row], title_rows: list[Row]) -> tuple[dict, list[str]]:
    warnings: list[str] = []
    form = {
        "year": _year_of(title_rows) or _year_of(body[:3]),
        "project_name": None, "department_code": None, "department_name": None,
        "implementing_unit": None, "project_attribute": None, "project_term": None,
        "funds": {"period": _empty_funds(), "annual": _empty_funds()},
        "overview": None, "basis": None, "necessity": None, "measures": None, "plan": None,
        "goal_period": None, "goal_annual": None, "indicators": [],
        "owner": None, "clerk": None, "phone": None, "filled_on": None,
    }
    declared = layouts.declared_scale(body) or layouts.declared_scale(title_rows[::-1])
    scale = declared or Decimal(1)
    in_blocks = {} if layouts.funds_in_blocks(body, FUND_TOTAL_LABELS) else None
    goal_columns: tuple[int, int] | None = None
    i = 0
    length = len(body)
    while i < len(body):
        row = body[i]
        keys = _row_keys(row)
        one_sided = i > 0 and layouts.is_indicator_header(row)
        if one_sided or (i > 0 and _is_indicator_header(row)):
            read = _parse_one_sided_table if one_sided else _parse_indicator_table
            consumed, indicators, ind_warnings = read(body, i)
            form["indicators"].extend(indicators)
            warnings.extend(ind_warnings)
            i += consumed
            continue
        if "实施期目标" in keys or "年度目标" in keys:
            goal_columns = (_label_index(row, "实施期目标"), _label_index(row, "年度目标"))
        if "总体目标" in keys:
            _read_goals(row, goal_columns, form)
        _read_funds(row, form["funds"], scale, warnings, in_blocks)
        _read_labels(row, form)
        if _is_footer(row):
            length = i + 1
            break
        i += 1
    form["_length"] = length
    layouts.finish(form, warnings, declared)
    _finish_form(form, warnings)
    return form, warnings


def _read_labels(row: Row, form: dict) -> None:
    cells = row.cells
    for i, cell in enumerate(cells):
        if not cell:
            continue
        inline = _split_inline(cell)
        if inline:
            key, value = inline
        else:
            key = label_key(cell)
            if key not in HEADER_LABELS:
                continue
            values = _values_after(cells, i)
            value = values[0] if values else None
        field_name = HEADER_LABELS.get(key)
        if field_name is None or value is None:
            continue
        if field_name == "department":
            if form["department_name"] is None:
                form["department_code"], form["department_name"] = _parse_department(value)
        elif field_name == "filled_on":
            form["filled_on"] = form["filled_on"] or _parse_date(value)
        elif form.get(field_name) is None:
            form[field_name] = value


def _read_funds(row: Row, funds: dict, scale: Decimal, warnings: list[str], in_blocks: dict | None = None) -> None:
    """Label occurrences in reading order: the first is 实施期, the second 年度. A label
    followed by two amounts (a column layout) gives both at once. Funds written in blocks
    (`in_blocks`, layouts.funds_in_blocks) give each source the side of the total above it."""
    cells = row.cells
    seen: dict[str, int] = {}
    for i, cell in enumerate(cells):
        key = label_key(cell)
        if key in FUND_TOTAL_LABELS:
            name = "total"
            side_hint = "annual" if key.startswith("年度") else "period"
        elif key in FUND_SOURCE_LABELS:
            name = FUND_SOURCE_LABELS[key]
            side_hint = None
        else:
            continue
        values = _values_after(cells, i)
        if in_blocks is not None:
            if side_hint is not None:        # a total starts its block
                in_blocks["side"] = side_hint
            side = in_blocks.get("side", "annual")
            funds[side][name] = _parse_amount(values[0] if values else None, scale, warnings, cell)
            continue
        if side_hint is None:
            side_hint = "period" if seen.get(name, 0) == 0 else "annual"
        seen[name] = seen.get(name, 0) + 1
        if len(values) >= 2 and side_hint == "period" and _count_labels(cells, key) == 1:
            funds["period"][name] = _parse_amount(values[0], scale, warnings, cell)
            funds["annual"][name] = _parse_amount(values[1], scale, warnings, cell)
        else:
            funds[side_hint][name] = _parse_amount(values[0] if values else None, scale, warnings, cell)


def _count_labels(cells: list[str | None], key: str) -> int:
    return sum(1 for c in cells if label_key(c) == key)


def _read_goals(row: Row, goal_columns, form: dict) -> None:
    start = _label_index(row, "总体目标")
    texts = [(j, c) for j, c in enumerate(row.cells) if j > start and c]
    if not texts:
        return
    if len(texts) >= 2:
        form["goal_period"], form["goal_annual"] = texts[0][1], texts[-1][1]
        return
    j, text = texts[0]
    annual_col = goal_columns[1] if goal_columns else -1
    if annual_col > 0 and j >= annual_col:
        form["goal_annual"] = text
        return
    form["goal_period"] = text
    # One text spanning both columns (a merged cell) is the goal of both.
    covered = annual_col < 0 or annual_col >= len(row.cells) or row.cells[annual_col] is None
    if covered:
        form["goal_annual"] = text


def _finish_form(form: dict, warnings: list[str]) -> None:
    if form["year"] is None:
        warnings.append("未找到申报表的年度（如“（2023年度）”）")
    for field_name, label in (("project_name", "项目名称"), ("implementing_unit", "实施单位"),
                              ("department_name", "主管部门")):
        if not form[field_name]:
            warnings.append(f"缺少{label}")
    if form["department_name"] is None:
        form["department_name"] = ""
    if form["implementing_unit"] is None:
        form["implementing_unit"] = ""
    if form["project_name"] is None:
        form["project_name"] = ""
    if not form["indicators"]:
        warnings.append("申报表中没有绩效指标")


# ---------------------------------------------------------------------------
# The indicator table

SLOTS = ("L1", "P2", "P3", "PV", "A2", "A3", "AV")


def _is_indicator_header(row: Row) -> bool:
    keys = _row_keys(row)
    return "三级指标" in keys and ("指标值" in keys or "二级指标" in keys)


def _header_positions(row: Row) -> list[int]:
    """Column of each slot in the header row: 一级 二级 三级 指标值 二级 三级 指标值."""
    wanted = ["一级指标", "二级指标", "三级指标", "指标值", "二级指标", "三级指标", "指标值"]
    positions, j = [], 0
    for name in wanted:
        while j < len(row.cells) and label_key(row.cells[j]) != name:
            j += 1
        positions.append(j if j < len(row.cells) else (positions[-1] + 1 if positions else 1))
        j += 1
    if positions[0] >= len(row.cells):  # no 一级指标 column in this header
        positions[0] = max(0, positions[1] - 1)
    return positions


def _classify(text: str) -> str:
    if taxonomy.standard_level1(text):
        return "L1"
    if taxonomy.standard_level2(text):
        return "L2"
    target = parse_target(text)
    if target.kind == "quantitative":
        return "NUM"
    if target.no_target or target.is_date or len(compact(text)) <= 6:
        return "WORD"   # 保障, 按时, 积极, 2024年8月底前: a value, though a short 三级 can be too
    return "TEXT"


_SCORES = {
    "L1": {"L1": 4, "L2": -3, "NUM": -4, "WORD": -2, "TEXT": -2},
    "2": {"L1": -3, "L2": 3, "NUM": -3, "WORD": -1.5, "TEXT": -1},
    "3": {"L1": -2, "L2": 0.5, "NUM": -3, "WORD": 0.5, "TEXT": 1},
    "V": {"L1": -3, "L2": -3, "NUM": 3, "WORD": 1, "TEXT": -0.5},
}


def _slot_family(slot: str) -> str:
    return "L1" if slot == "L1" else slot[1] if slot[1] in "23" else "V"


def _align(cells: list[str | None], header: list[int]) -> dict[str, str | None]:
    """Assign the row's cells to the seven slots, in order, maximising the score."""
    width = max(len(cells), header[-1] + 1) + 1
    cells = list(cells) + [None] * (width - len(cells))
    kinds = [_classify(c) if c else None for c in cells]
    neg = float("-inf")
    # best[s][j]: best score with slot s placed at column j
    best = [[neg] * width for _ in SLOTS]
    back = [[-1] * width for _ in SLOTS]
    skipped = [0.0] * (width + 1)   # prefix sums of the penalty for leaving a cell unused
    for j, k in enumerate(kinds):
        skipped[j + 1] = skipped[j] + (6.0 if k else 0.0)
    for s, slot in enumerate(SLOTS):
        family = _slot_family(slot)
        for j in range(width):
            score = -0.4 * abs(j - header[s])
            if kinds[j]:
                score += _SCORES[family][kinds[j]]
            if s == 0:
                best[s][j] = score - skipped[j]
                continue
            for jp in range(j):
                if best[s - 1][jp] == neg:
                    continue
                total = best[s - 1][jp] - (skipped[j] - skipped[jp + 1]) + score
                if total > best[s][j]:
                    best[s][j], back[s][j] = total, jp
    last = len(SLOTS) - 1
    j = max(range(width), key=lambda jj: best[last][jj] - (skipped[width] - skipped[jj + 1]))
    placed = {}
    for s in range(last, -1, -1):
        placed[SLOTS[s]] = cells[j]
        j = back[s][j]
    return placed


@dataclass
class _Carry:
    level1: str | None = None
    p2: str | None = None
    a2: str | None = None
    rows: list = field(default_factory=list)


def _parse_indicator_table(body: list[Row], start: int) -> tuple[int, list[dict], list[str]]:
    header = _header_positions(body[start])
    carry = _Carry()
    indicators: list[dict] = []
    warnings: list[str] = []
    last_was_indicator = False
    i = start + 1
    while i < len(body):
        row = body[i]
        if _is_footer(row):
            break
        if _is_indicator_header(row):      # a header repeated on the next page
            header = _header_positions(row)
            i += 1
            continue
        if row.kind == "line" or not any(row.cells):
            i += 1                          # page numbers, running heads, blank lines
            continue
        # the 绩效指标 label of a merged first column may be printed on any of its pages
        cells = [None if label_key(c) == "绩效指标" else c for c in row.cells]
        slots = _align(cells, header)
        if _is_continuation(slots) and last_was_indicator:
            _append_continuation(indicators[-1], slots)
            i += 1
            continue
        indicator = _apply_row(slots, carry, warnings, len(indicators) + 1)
        if indicator:
            indicators.append(indicator)
        last_was_indicator = indicator is not None
        i += 1
    return i - start, indicators, warnings


def _parse_one_sided_table(body: list[Row], start: int) -> tuple[int, list[dict], list[str]]:
    """A 年度-only or stacked 长期/年度 table (importers/layouts.py reads its rows), with the
    paired table's "same as above" and taxonomy rules; stacked rows paired by name."""
    consumed, rows = layouts.indicator_rows(body, start, _is_footer)
    read: dict[str, list[dict]] = {"period": [], "annual": []}
    carries = {"period": _Carry(), "annual": _Carry()}
    warnings: list[str] = []
    for block, cells, qualitative in rows:
        p = "P" if block == "period" else "A"
        slots = dict.fromkeys(SLOTS) | {"L1": cells["L1"], f"{p}2": cells["L2"], f"{p}3": cells["L3"],
                                        f"{p}V": cells["V"]}
        indicator = _apply_row(slots, carries[block], warnings, len(read["period"]) + len(read["annual"]) + 1)
        if indicator:
            if qualitative:
                indicator[block]["target"] = layouts.qualitative(indicator[block]["target"])
            read[block].append(indicator)
    return consumed, layouts.paired(read["period"], read["annual"]), warnings


def _is_continuation(slots: dict) -> bool:
    """The lower half of a row cut by a page break: wrapped 三级 text, no values, no levels."""
    return (not slots["L1"] and not slots["P2"] and not slots["A2"] and not slots["PV"]
            and not slots["AV"] and bool(slots["P3"] or slots["A3"]))


def _append_continuation(indicator: dict, slots: dict) -> None:
    for side, slot in (("period", "P3"), ("annual", "A3")):
        if indicator[side] and slots[slot]:
            indicator[side]["level3"] += slots[slot]


def _apply_row(slots: dict, carry: _Carry, warnings: list[str], number: int) -> dict | None:
    level1 = taxonomy.standard_level1(slots["L1"]) if slots["L1"] else None
    if slots["L1"] and not level1:
        warnings.append(f"第{number}个指标的一级指标“{slots['L1']}”不在标准指标体系中，已保留原文")
        level1 = slots["L1"]
    if not level1:
        inferred = taxonomy.level1_for(slots["P2"] or slots["A2"])
        if inferred and inferred != carry.level1:
            level1 = inferred
    if level1 and level1 != carry.level1:
        # a new 一级 group: “same as above” never reaches across groups
        carry.level1, carry.p2, carry.a2 = level1, None, None
    p2_new = slots["P2"]
    if p2_new:
        carry.p2 = p2_new
        carry.a2 = slots["A2"] or p2_new
    elif slots["A2"]:
        carry.a2 = slots["A2"]
    has_period = bool(slots["P3"] or slots["PV"])
    has_annual = bool(slots["A3"] or slots["AV"])
    if not has_period and not has_annual:
        return None                       # a placeholder row: 生态效益指标 with nothing else
    if carry.level1 is None:
        warnings.append(f"第{number}个指标缺少一级指标，无法从二级指标推断")
    return {
        "level1": carry.level1 or "",
        "period": _side(carry.p2, slots["P3"], slots["PV"], warnings, number, "实施期")
        if has_period else None,
        "annual": _side(carry.a2 or carry.p2, slots["A3"], slots["AV"], warnings, number, "年度")
        if has_annual else None,
    }


def _side(level2, level3, raw, warnings, number, label) -> dict:
    target = parse_target(raw or "")
    if target.no_target:
        warnings.append(f"第{number}个指标（{level3 or '无名'}）的{label}指标值为空或无目标（“{raw or ''}”）")
    if not level3:
        warnings.append(f"第{number}个指标缺少{label}三级指标名称")
    if not level2:
        warnings.append(f"第{number}个指标缺少{label}二级指标")
    return {"level2": level2 or "", "level3": level3 or "", "target": target.as_dict()}
