"""The other layouts real disclosures use (DOMAIN.md §1), read into the same forms as grid.py.

grid.py reads the 山西-style form: funds for 实施期 and 年度 side by side, and one indicator
table with both sides in a row. This module adds what other provinces and years print:

- one-sided indicator tables: 年度-only forms (项目支出绩效目标表, 中央部门), with 一级 | 二级 |
  三级 | 指标值, or the 指标值 split into 指标性质 | 指标值 | 度量单位;
- stacked blocks: 长期绩效指标, then 年度绩效指标, each 一级 | 二级 | 指标内容 | 指标值 | 备注;
- funds written as blocks (a total, then its sources on the rows below: 年度资金总额 /
  其中：财政拨款 / 其他资金, or 上海's 项目资金总额 … 年度资金申请总额 …), where each source
  belongs to the total above it rather than to a column;
- the unit the amounts are written in: （万元） on the 项目资金 label or a 单位：万元 line.

备注 has no place in the forms schema and is not kept. 上年结转资金 (上海) has none either: it is
part of 年度资金总额 and is reported in a warning, never added to another source.
"""
from __future__ import annotations

import re
from decimal import Decimal

from importers.values import parse_target
from importers.vocabulary import label_key

# block label → the side its rows fill
BLOCK_LABELS = {"长期绩效指标": "period", "实施期绩效指标": "period", "年度绩效指标": "annual"}
COLUMN_LABELS = {"一级指标": "L1", "二级指标": "L2", "三级指标": "L3", "指标内容": "L3",
                 "指标性质": "NATURE", "指标值": "V", "度量单位": "UNIT", "计量单位": "UNIT", "备注": "NOTE"}
QUALITATIVE_NATURES = ("定性",)
UNIT_SCALES = {"元": Decimal(1), "万元": Decimal(10000)}
_UNIT_RE = re.compile(r"(?:金额)?单位[:：]\s*(万?元)")


# ---------------------------------------------------------------------------
# The unit of the amounts


def declared_scale(rows: list) -> Decimal | None:
    """The scale of the form's amounts (1 for 元, 10000 for 万元), or None if it declares none.

    Looked for until the indicator table: 项目资金（万元）, 项目资金 (元), or 单位：万元. The form's
    own rows are searched before the lines above it, which may end another table."""
    for row in rows:
        keys = [label_key(c) for c in row.cells]
        if "三级指标" in keys or "指标内容" in keys:
            break
        for key in keys:
            unit = re.search(r"\((万?元)\)", key) if key.startswith("项目资金") else _UNIT_RE.search(key)
            if unit:
                return UNIT_SCALES[unit.group(1)]
    return None


def funds_in_blocks(body: list, total_labels) -> bool:
    """True when no row holds both a 实施期 and a 年度 total: the funds are written as blocks
    (a total and its sources below it), not as two columns."""
    for row in body:
        sides = {("annual" if k.startswith("年度") else "period")
                 for k in (label_key(c) for c in row.cells) if k in total_labels}
        if len(sides) == 2:
            return False
    return True


# ---------------------------------------------------------------------------
# One-sided and stacked indicator tables


def is_indicator_header(row) -> bool:
    """A header of a one-sided table: one 指标值 column, with 三级指标 or 指标内容."""
    keys = [label_key(c) for c in row.cells if c]
    return ("一级指标" in keys or "二级指标" in keys) and ("三级指标" in keys or "指标内容" in keys) \
        and keys.count("指标值") == 1 and keys.count("二级指标") <= 1


def _columns(row) -> dict[str, int]:
    columns = {}
    for j, cell in enumerate(row.cells):
        slot = COLUMN_LABELS.get(label_key(cell))
        if slot and slot not in columns:
            columns[slot] = j
    return columns


def _block_of(row) -> str | None:
    for cell in row.cells:
        side = BLOCK_LABELS.get(label_key(cell))
        if side:
            return side
    return None


def _at(cells, j):
    return cells[j] if j is not None and j < len(cells) else None


def split_value(nature: str | None, value: str | None, unit: str | None) -> tuple[str, bool]:
    """指标性质 | 指标值 | 度量单位 → the 指标值 as written (`≥` `95` `%` → `≥95%`), and whether
    the 指标性质 says it is qualitative (定性)."""
    nature = label_key(nature)
    qualitative = nature in QUALITATIVE_NATURES
    if qualitative or nature in ("定量",):
        nature = ""
    return f"{nature}{(value or '').strip()}{(unit or '').strip()}", qualitative


def indicator_rows(body: list, start: int, is_footer) -> tuple[int, list[tuple[str, dict, bool]]]:
    """The rows of a one-sided or stacked table, from its header at `start` to the footer:
    (rows consumed, [(block "period"|"annual", cells {L1, L2, L3, V}, 定性)]). grid.py applies
    "same as above" and the taxonomy to them, as to the paired table's rows."""
    columns = _columns(body[start])
    block = _block_of(body[start]) or "annual"
    out = []
    i = start + 1
    while i < len(body):
        row = body[i]
        if is_footer(row):
            break
        block = _block_of(row) or block
        if is_indicator_header(row):               # a block's own header, or repeated on a new page
            columns = _columns(row)
        elif row.kind != "line" and any(row.cells):
            cells = [None if label_key(c) in BLOCK_LABELS or label_key(c) == "绩效指标" else c for c in row.cells]
            raw, qualitative = split_value(_at(cells, columns.get("NATURE")), _at(cells, columns.get("V")),
                                           _at(cells, columns.get("UNIT")))
            out.append((block, {"L1": _at(cells, columns.get("L1")), "L2": _at(cells, columns.get("L2")),
                                "L3": _at(cells, columns.get("L3")), "V": raw or None}, qualitative))
        i += 1
    return i - start, out


def qualitative(target: dict) -> dict:
    """A target whose 指标性质 is 定性: qualitative whatever its value looks like."""
    return {**parse_target(target["raw"]).as_dict(), "kind": "qualitative", "op": None, "value": None, "unit": None}


def _pair_key(indicator: dict, side: str) -> tuple:
    s = indicator[side]
    return tuple(re.sub(r"\s+", "", t or "") for t in (indicator["level1"], s["level2"], s["level3"]))


def paired(long_rows: list[dict], annual_rows: list[dict]) -> list[dict]:
    """年度 rows in their order, each with the 长期 row of the same 一级/二级/三级; then the
    长期 rows that found no partner, in theirs."""
    unused = list(long_rows)
    out = []
    for ann in annual_rows:
        match = next((p for p in unused if _pair_key(p, "period") == _pair_key(ann, "annual")), None)
        if match is not None:
            unused.remove(match)
        out.append({"level1": ann["level1"], "period": match["period"] if match else None,
                    "annual": ann["annual"]})
    return out + unused


# ---------------------------------------------------------------------------
# Finishing a form


def finish(form: dict, warnings: list[str], scale: Decimal | None) -> None:
    """Fields of the other layouts that need the whole form: the 上海 plan dates as the 项目期,
    上年结转资金, and an amount read without a declared unit."""
    start, end = form.pop("_start", None), form.pop("_end", None)
    if form["project_term"] is None and (start or end):
        form["project_term"] = f"{start or ''}至{end or ''}"
    form.pop("_category", None)
    for side in ("period", "annual"):
        carried = form["funds"][side].pop("carried_over", None)
        if carried:
            warnings.append(f"上年结转资金{carried}元已含在年度资金总额中，未单独保存")
    amounts = [v for side in form["funds"].values() for v in side.values() if v is not None]
    if scale is None and amounts:
        warnings.append("申报表未注明金额单位（元或万元），金额已按元读取，请核对")
