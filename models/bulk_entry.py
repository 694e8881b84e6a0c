"""Bulk entry, the write: the rows of an uploaded 批量填报表 (plain values, read from the file in a
sandbox child by importers.bulk) stored all-or-nothing.

Every filled row goes through the same rules as the page (ActualInput, record_actual,
record_spending) inside ONE transaction; any error rolls everything back and the caller lists
all of them as "第 N 行（项目 / 指标）：消息". Rows whose input cells are all empty are skipped. A
row naming an indicator outside the user's scope is an error, never silently skipped. The sheet
carries each row's hidden id and the version it was downloaded at, so a value someone changed
in between is reported instead of overwritten — unless the row holds exactly what its uploader
last stored there (the same sheet uploaded again): that row is unchanged, not a conflict.

The sheet's layout lives here, shared with the download that builds it (views/bulk.py).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError

from domain.indicators import effective_measure
from models.actual import (ActualInput, EntryError, StaleEdit, actual_of, check_period, parse_period,
                           spending_amount_yuan, spending_of, validation_message)
from services.entry import Context, holds_already, record_actual, record_spending, spending_held_already
from models.bounds import whole_number
from models.db import transaction
from reads.scope import indicator_in_scope, may_edit_actuals, project_year_visible
from reads.wording import user_label

ACTUALS_SHEET, SPENDING_SHEET, README_SHEET = "实际值", "预算支出", "说明"
UPLOADED_SHEETS = (ACTUALS_SHEET, SPENDING_SHEET)
ACTUAL_COLUMNS = ("指标ID", "期间", "版本", "项目", "一级指标", "二级指标", "三级指标", "指标值", "计量方式", "目标单位",
                  "当前值", "实际值", "单位", "完成情况", "全年预计", "偏差原因", "偏差说明", "完成可能性", "备注", "超额原因")
ACTUAL_INPUTS = ("实际值", "单位", "完成情况", "全年预计", "偏差原因", "偏差说明", "完成可能性", "备注", "超额原因")
SPENDING_COLUMNS = ("项目年度ID", "期间", "版本", "项目", "年度资金（元）", "当前累计支出（元）", "累计支出", "单位", "说明")
SPENDING_INPUTS = ("累计支出", "单位", "说明")
OPTIONAL_COLUMNS = ("超额原因", "说明")      # added later: a sheet downloaded before has none (read as empty)
_REASON_SPLIT = re.compile(r"[,，、;；\s]+")


@dataclass
class Outcome:
    actuals: int = 0
    spending: int = 0
    errors: list[str] = field(default_factory=list)
    unchanged: int = 0          # rows that held already what the sheet says (uploaded again)
    periods: set[tuple[int, int]] = field(default_factory=set)     # (year, month) of the rows stored


class _Unchanged(Exception):
    """The row holds already what the uploader last stored: nothing to write."""


class RowError(Exception):
    """This row is wrong; the message says what, the loop adds where."""


class SheetError(Exception):
    """A whole sheet cannot be read (its header was changed)."""


class _Rejected(Exception):
    """Some rows were wrong: roll everything back."""


def store_bulk_entry(session, user, sheets: dict[str, list[tuple]], ctx: Context) -> Outcome:
    """Store the filled rows of `sheets` (sheet name → rows, row 1 the header) for `user`,
    all or nothing: when `errors` is not empty, nothing was stored."""
    outcome = Outcome()
    try:
        with transaction(session):
            for name, store in ((ACTUALS_SHEET, _store_actuals), (SPENDING_SHEET, _store_spending)):
                if name in sheets:
                    try:
                        store(session, user, sheets[name], ctx, outcome)
                    except SheetError as exc:
                        outcome.errors.append(str(exc))
            if outcome.errors:
                raise _Rejected
    except _Rejected:
        pass
    return outcome


# --------------------------------------------------------------------------- rows

def _filled_rows(title: str, rows: list[tuple], columns, inputs) -> list[tuple[int, dict]]:
    """(row number, {header: value}) for each row with any input filled in."""
    header = [str(c).strip() if c is not None else "" for c in (rows[0] if rows else ())]
    missing = [c for c in columns if c not in header and c not in OPTIONAL_COLUMNS]
    if missing:
        raise SheetError(f"“{title}”表缺少列：{'、'.join(missing)}（请勿删除或改名表头）")
    index = {name: header.index(name) if name in header else None for name in columns}
    filled = []
    for n, values in enumerate(rows[1:], start=2):
        cells = {name: (values[i] if i is not None and i < len(values) else None) for name, i in index.items()}
        cells = {k: (v.strip() if isinstance(v, str) else v) for k, v in cells.items()}
        if not all(cells[name] in (None, "") for name in inputs):
            filled.append((n, cells))
    return filled


def _each_row(session, rows, where: Callable[[int, dict], str], store_row, changed: str,
              outcome: Outcome) -> int:
    """store_row(n, cells) for each row; what a row is refused for becomes "where：message".
    Returns how many rows were stored."""
    stored, errors = 0, outcome.errors
    for n, cells in rows:
        try:
            store_row(n, cells)
        except _Unchanged:
            outcome.unchanged += 1
        except (RowError, EntryError) as exc:
            errors.append(f"{where(n, cells)}：{exc}")
        except StaleEdit as exc:
            errors.append(f"{where(n, cells)}：该{changed}在您下载填报表之后已被{user_label(session, exc.updated_by)}修改，"
                          "请重新下载填报表后再填")
        else:
            stored += 1
    return stored


def _target(session, user, lookup, raw_id, what: str, column: str) -> tuple:
    """What the row's hidden id names, found by `lookup` in the user's scope, when the user may
    record for its project; otherwise the row is refused."""
    target_id = _int(raw_id)
    found = lookup(session, user, target_id) if target_id else None
    if found is None or not may_edit_actuals(user, found[0]):
        raise RowError(f"该{what}不存在或不在您的填报范围内（请勿修改隐藏的{column}列）")
    return found


def _once(seen: dict, key, n: int, what: str) -> None:
    """One row per indicator (or project) and period: a second one is an error, not an overwrite."""
    if key in seen:
        raise RowError(f"与第 {seen[key]} 行是同一{what}的同一期间，只能填一次")
    seen[key] = n


def _period(cells: dict, py) -> tuple[int, int]:
    year, month = parse_period(_text(cells["期间"]))
    check_period(py, year, month)
    return year, month


def _text(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _int(value) -> int | None:
    """An id or version cell: a number (Excel's are floats) or digits; None for anything else."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return whole_number(value)


# --------------------------------------------------------------------------- the two sheets

def _store_actuals(session, user, rows: list[tuple], ctx: Context, outcome: Outcome) -> None:
    seen: dict[tuple[int, int], int] = {}

    def store_row(n: int, cells: dict) -> None:
        _project, py, ind = _target(session, user, indicator_in_scope, cells["指标ID"], "指标", "指标ID")
        year, month = _period(cells, py)
        _once(seen, (ind.id, month), n, "指标")
        data = _actual_input(cells, effective_measure(ind))
        stored = actual_of(session, ind.id, month)
        if stored is not None and stored.version != data.version and holds_already(session, ind, month, data, ctx.who):
            raise _Unchanged
        record_actual(session, ind, py, year, month, data, ctx)
        outcome.periods.add((year, month))

    def where(n: int, cells: dict) -> str:
        return f"第 {n} 行（{cells['项目'] or '?'} / {cells['三级指标'] or '?'}）"

    filled = _filled_rows(ACTUALS_SHEET, rows, ACTUAL_COLUMNS, ACTUAL_INPUTS)
    outcome.actuals = _each_row(session, filled, where, store_row, "数值", outcome)


def _actual_input(cells: dict, measure: str) -> ActualInput:
    reasons = [r for r in _REASON_SPLIT.split(_text(cells["偏差原因"]) or "") if r]
    try:
        return ActualInput.model_validate({
            "value": cells["实际值"], "unit": _text(cells["单位"]), "assessment": _text(cells["完成情况"]),
            "forecast": cells["全年预计"], "deviation_reasons": reasons,
            "deviation_note": _text(cells["偏差说明"]), "likelihood": _text(cells["完成可能性"]),
            "note": _text(cells["备注"]), "over_reason": _text(cells["超额原因"]),
            "version": _int(cells["版本"]) or 0}, context={"measure": measure})
    except ValidationError as exc:
        raise RowError(validation_message(exc)) from exc


def _store_spending(session, user, rows: list[tuple], ctx: Context, outcome: Outcome) -> None:
    seen: dict[tuple[int, int], int] = {}

    def store_row(n: int, cells: dict) -> None:
        _project, py = _target(session, user, project_year_visible, cells["项目年度ID"], "项目", "项目年度ID")
        year, month = _period(cells, py)
        amount = spending_amount_yuan(cells["累计支出"], _text(cells["单位"]) or "元")
        _once(seen, (py.id, month), n, "项目")
        version = _int(cells["版本"]) or 0
        stored = spending_of(session, py.id, month)
        if (stored is not None and stored.version != version
                and spending_held_already(session, py, month, amount, _text(cells["说明"]), ctx.who)):
            raise _Unchanged
        if not version:
            _no_spending_since(session, py, month)
        record_spending(session, py, year, month, amount, ctx, version or None, note=_text(cells["说明"]))
        outcome.periods.add((year, month))

    def where(n: int, cells: dict) -> str:
        return f"“{SPENDING_SHEET}”表第 {n} 行（{cells['项目'] or '?'}）"

    filled = _filled_rows(SPENDING_SHEET, rows, SPENDING_COLUMNS, ("累计支出",))   # the unit comes filled in (元)
    outcome.spending = _each_row(session, filled, where, store_row, "支出", outcome)


def _no_spending_since(session, py, month: int) -> None:
    """A sheet downloaded before any spending was stored (version 0): if some exists now, it was
    entered since, and is reported instead of overwritten."""
    existing = spending_of(session, py.id, month)
    if existing is not None:
        raise StaleEdit(existing.version, existing.updated_by)
