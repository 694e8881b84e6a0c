"""Checking the fields OCR read with low confidence, on a pending import, before it is confirmed.

A form read by OCR lists its doubtful fields in form["confidence"] (importers/confidence.py).
On the review page a person looks at each: ticks it as right, or types the right value. The
correction is validated as the importer would read the cell (指标值 by the grammar, amounts as
numbers), all the fields of one form at once — all or nothing — and written into the pending
job's parsed form, which is what 确认导入 stores. What OCR read stays beside it in
form["_checked"] (path → {"status": "checked" | "corrected", "read": what OCR read}).

确认导入 waits until every doubtful field of the forms it would store has been looked at
(`unchecked`): a number OCR was unsure of is never stored unseen.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import update
from sqlmodel import Session, select

from importers.form_checks import looks_numeric
from importers.values import parse_number, parse_target
from models.db import transaction
from models.job import ImportJob, ImportJobFile

REQUIRED = {"project_name", "implementing_unit", "department_name"}
LONG_TEXTS = {"overview", "basis", "necessity", "measures", "plan", "goal_period", "goal_annual"}
_PATH = re.compile(r"^indicators\[(\d+)\]\.(?:(period|annual)\.)?(level1|level2|level3|target\.raw)$")


class NotPending(Exception):
    """The job is no longer waiting for confirmation: nothing may be changed."""


def unchecked(form: dict) -> list[str]:
    """The doubtful fields of a form nobody has looked at yet."""
    checked = form.get("_checked") or {}
    return [path for path in form.get("confidence") or {} if path not in checked]


# --------------------------------------------------------------------------- paths

def _steps(path: str) -> list:
    m = _PATH.match(path)
    if m:
        index, side, name = int(m.group(1)), m.group(2), m.group(3)
        return ["indicators", index] + ([side] if side else []) + name.split(".")
    return path.split(".")


def field_value(form: dict, path: str):
    """The value at a schema path (None where the form has no such field)."""
    node = form
    for step in _steps(path):
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _set(form: dict, path: str, value) -> None:
    steps = _steps(path)
    if steps[-2:] == ["target", "raw"]:           # a 指标值: the whole target, read by the grammar
        steps, value = steps[:-1], parse_target(value).as_dict()
    node = form
    for step in steps[:-1]:
        node = node[step]
    node[steps[-1]] = value


def input_text(form: dict, path: str) -> str:
    """The value as the correction field shows it."""
    value = field_value(form, path)
    if value is None:
        return ""
    if isinstance(value, float) and value == int(value):
        value = int(value)
    return str(value)


# --------------------------------------------------------------------------- validation

def validate(path: str, text: str):
    """(value to store, None) or (None, a Chinese message) — as the importer reads such a cell."""
    text = (text or "").strip()
    if path.startswith("funds."):
        if not text:
            return None, None                     # an empty cell: unknown, not 0
        try:
            value = parse_number(text)
        except ValueError as exc:
            return None, f"{exc}：金额请填写数字（元），如 37000000 或 37,000,000"
        if value < 0:
            return None, "金额不能为负数"
        return (int(value) if value == value.to_integral_value() else float(value)), None
    if path.endswith("target.raw"):
        if not text:
            return None, "指标值不能为空；没有目标请填写“/”"
        if looks_numeric(text):
            return None, f"“{text}”不是有效的指标值：数字或单位中有无法识别的字符，请按“≥95%”“≤3700万元”“按时完成”这样填写"
        return text, None
    if path == "year":
        if not re.fullmatch(r"20\d{2}", text):
            return None, "年度请填写四位年份，如 2023"
        return int(text), None
    if path == "filled_on":
        if not text:
            return None, None
        try:
            return date.fromisoformat(text).isoformat(), None
        except ValueError:
            return None, "填报日期请按 2023-07-30 的格式填写"
    if path == "department_code":
        if text and not re.fullmatch(r"\d{2,}", text):
            return None, "主管部门代码应为数字，如 216"
        return text or None, None
    if not text and (path in REQUIRED or path.startswith("indicators")):
        return None, "不能为空"
    limit = 5000 if path in LONG_TEXTS else 200
    if len(text) > limit:
        return None, f"不能超过 {limit} 个字"
    return text or None, None


# --------------------------------------------------------------------------- the write

@dataclass
class Entry:
    """What the person did with one doubtful field: the value in the box, and the tick."""
    text: str
    ticked: bool


def check_form(session: Session, job_id: str, position: int, number: int, entries: dict[str, Entry],
               now: datetime) -> dict[str, str]:
    """Record the checks of form `number` (1-based) of file `position` of a pending job.

    A changed value is a correction (it counts as looked at); an unchanged one counts only when
    ticked. Returns the messages of refused values by path: then nothing is stored.
    Raises NotPending when the job is not waiting for confirmation (or has no such form)."""
    with transaction(session):
        # the conditional update every job change goes through (services/import_jobs.py): a
        # confirm that has claimed the job meanwhile leaves its forms alone
        claimed = session.exec(update(ImportJob).where(ImportJob.id == job_id, ImportJob.state == "ready")
                               .values(heartbeat_at=now))
        if claimed.rowcount != 1:
            raise NotPending("这批文件已不在待确认状态，不能再修改")
        f = _file(session, job_id, position)
        if f is None or not 0 < number <= len(f.forms):
            raise NotPending("找不到这张申报表")
        forms = copy.deepcopy(f.forms)
        form = forms[number - 1]
        errors, changes = {}, {}
        for path in form.get("confidence") or {}:
            entry = entries.get(path)
            if entry is None:
                continue
            unchanged = entry.text.strip() == input_text(form, path).strip()
            if unchanged and not entry.ticked:
                continue
            value, error = validate(path, entry.text)   # a value ticked as right must be valid too
            if error:
                errors[path] = error
                continue
            # `37,000,000` typed over 37000000 is the same amount: looked at, not corrected
            same = unchanged or (not path.endswith("target.raw") and value == field_value(form, path))
            changes[path] = None if same else (value,)
        if errors:
            session.rollback()
            return errors
        _apply(f, form, changes)
        f.forms = forms
        session.add(f)
    return {}


def _file(session: Session, job_id: str, position: int) -> ImportJobFile | None:
    return session.exec(select(ImportJobFile).where(ImportJobFile.job_id == job_id,
                                                    ImportJobFile.position == position)).first()


def _apply(f: ImportJobFile, form: dict, changes: dict) -> None:
    checked = dict(form.get("_checked") or {})
    old_name = form.get("project_name")
    for path, change in changes.items():
        read = checked.get(path, {}).get("read", field_value(form, path))
        if change is None:
            checked[path] = {"status": checked.get(path, {}).get("status", "checked"), "read": read}
            continue
        _set(form, path, change[0])
        checked[path] = {"status": "corrected", "read": read}
    form["_checked"] = checked
    if form.get("project_name") != old_name:   # the form's warnings are filed under its name
        old, new = f"{old_name or '（无名项目）'}：", f"{form['project_name'] or '（无名项目）'}："
        f.warnings = [new + w[len(old):] if w.startswith(old) else w for w in f.warnings]
