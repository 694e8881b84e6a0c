"""The import review: what confirming an upload would do, file by file and form by form,
against the database as it is now — new, changed (with what was stored), unchanged, or refused
for this user — and the links to the project pages a confirmed import touched."""
from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from decimal import Decimal
from typing import Callable

from sqlmodel import Session, select

from models.indicator import SCOPES
from models.job import ImportJobFile
from models.org import department_label
from models.project import Project, ProjectYear
from models.user import User
from reads.form_tables import (FUND_LABELS, SCOPE_LABELS, FundRow, IndicatorRow, Side, rows_from_form, shown_sources,
                               side_from_indicator)
from reads.scope import visible_years
from services.import_checks import field_value, input_text
from services.importing import FormDiff, diff_form

TEXT_LABELS = {"overview": "项目概况", "basis": "立项依据", "necessity": "项目设立必要性",
               "measures": "保证项目实施的制度、措施", "plan": "项目实施计划"}
GOAL_LABELS = {"goal_period": "实施期总体目标", "goal_annual": "年度总体目标"}
HEADER_LABELS = {"project_name": "项目名称", "department_code": "主管部门代码", "department_name": "主管部门",
                 "implementing_unit": "实施单位", "project_attribute": "项目属性", "project_term": "项目期",
                 "year": "年度", "owner": "负责人", "clerk": "经办人", "phone": "联系电话", "filled_on": "填报日期",
                 **TEXT_LABELS, **GOAL_LABELS}
INDICATOR_PARTS = {"level1": "一级指标", "level2": "二级指标", "level3": "三级指标", "target.raw": "指标值"}
_INDICATOR_PATH = re.compile(r"^indicators\[(\d+)\]\.(?:(period|annual)\.)?(level1|level2|level3|target\.raw)$")


@dataclass
class FieldCheck:
    """A field OCR read with low confidence, and what a person has done with it."""
    path: str
    label: str
    value: str                  # as the correction box shows it now
    confidence: int             # OCR's confidence, in per cent
    status: str = "pending"     # pending | checked | corrected
    read: str | None = None     # what OCR read, once corrected
    kind: str = "text"          # amount | target | text: what the box takes
    error: str | None = None    # a refused correction, shown again with what was typed
    submitted: str | None = None
    ticked: bool = False        # ticked as right in that refused submission
    anchor: str = ""            # its line's id on the page

    @property
    def shown(self) -> str:
        return self.value if self.submitted is None else self.submitted

    @property
    def pending(self) -> bool:
        return self.status == "pending"


def field_label(form: dict, path: str) -> str:
    """A schema path as a person would name the field: 年度中央财政资金, 第3个指标 年度指标值（参展面积）."""
    if path in HEADER_LABELS:
        return HEADER_LABELS[path]
    if path.startswith("funds."):
        _funds, side, key = path.split(".")
        word = {"total": "资金总额", "fiscal": "财政拨款"}.get(key) or FUND_LABELS.get(key, key)
        return f"{SCOPE_LABELS[side]}{word}（元）"
    m = _INDICATOR_PATH.match(path)
    if not m:
        return path
    number, side, part = int(m.group(1)) + 1, m.group(2), m.group(3)
    label = f"第{number}个指标 {SCOPE_LABELS[side] if side else ''}{INDICATOR_PARTS[part]}"
    name = field_value(form, f"indicators[{number - 1}].{side}.level3") if side else None
    return f"{label}（{name}）" if name and part != "level3" else label


def field_checks(form: dict, submitted: dict | None = None) -> list[FieldCheck]:
    """The form's low-confidence fields, in the form's order, with what was done with each;
    `submitted`: a refused correction ({"values": path → text, "errors": path → message,
    "ticked": paths})."""
    checked = form.get("_checked") or {}
    submitted = submitted or {}
    checks = []
    for path, conf in (form.get("confidence") or {}).items():
        done = checked.get(path) or {}
        kind = "amount" if path.startswith("funds.") else "target" if path.endswith("target.raw") else "text"
        read = done.get("read") if done.get("status") == "corrected" else None
        checks.append(FieldCheck(path, field_label(form, path), input_text(form, path), round(conf * 100),
                                 done.get("status", "pending"), None if read is None else str(read), kind,
                                 (submitted.get("errors") or {}).get(path), (submitted.get("values") or {}).get(path),
                                 path in (submitted.get("ticked") or ())))
    return checks


def check_notes(form: dict) -> list[str]:
    """What a person did with the fields OCR was unsure of, as lines kept with the import batch
    (services.import_jobs): each correction with what OCR had read, and how many were ticked."""
    checked = form.get("_checked") or {}
    prefix = f"{form['project_name'] or '（无名项目）'}：识别核对："
    notes = [f"{prefix}{field_label(form, path)}由“{done['read']}”更正为“{input_text(form, path)}”"
             for path, done in checked.items() if done.get("status") == "corrected"]
    ticked = sum(1 for done in checked.values() if done.get("status") == "checked")
    if ticked:
        notes.append(f"{prefix}{ticked} 项识别置信度低的字段经人工核对无误")
    return notes


def _mark_cells(review: "FormReview") -> None:
    """Hang each check on the cell the tables show it in."""
    for check in review.checks:
        review.marks[check.path] = check
        if check.path.startswith("funds."):
            _funds, side, key = check.path.split(".")
            for row in review.funds:
                if row.label == FUND_LABELS.get(key):
                    row.marks[side] = check
            continue
        m = _INDICATOR_PATH.match(check.path)
        if m and int(m.group(1)) < len(review.rows):
            key = f"{m.group(2)}.{m.group(3)}" if m.group(2) else m.group(3)
            review.rows[int(m.group(1))].marks[key] = check


@dataclass
class TextPart:
    label: str
    value: str | None
    changed: bool = False
    old: str | None = None


@dataclass
class FormReview:
    form: dict
    diff: FormDiff
    funds: list[FundRow]
    texts: list[TextPart]
    goals: list[TextPart]
    rows: list[IndicatorRow]
    warnings: list[str]                # this form's own, without the project-name prefix
    also_in: list[str] = dc_field(default_factory=list)   # other files of the job with the same project year
    refused: str | None = None         # why this user may not store it (outcome "refused")
    checks: list[FieldCheck] = dc_field(default_factory=list)   # fields OCR was unsure of
    marks: dict[str, FieldCheck] = dc_field(default_factory=dict)   # path → its check, for the header cells

    @property
    def pending_checks(self) -> int:
        return 0 if self.refused else sum(1 for c in self.checks if c.pending)

    @property
    def department(self) -> str:
        return department_label(self.form["department_code"], self.form["department_name"])

    @property
    def pages(self) -> list[int]:
        return self.form.get("_pages") or []

    @property
    def annual_indicators(self) -> int:
        return sum(1 for r in self.rows if r.annual is not None)

    @property
    def warning_rows(self) -> int:
        return sum(1 for r in self.rows if r.warnings)


@dataclass
class FileReview:
    file: ImportJobFile
    forms: list[FormReview]
    warnings: list[str]                # not about any one form

    @property
    def counts(self) -> dict[str, int]:
        counts = {"new": 0, "changed": 0, "unchanged": 0, "refused": 0}
        for f in self.forms:
            counts[f.diff.outcome] += 1
        return counts


_ROW_NUMBER = re.compile(r"^第(\d+)个指标")


def _year_key(form: dict) -> tuple:
    return (form["implementing_unit"], form["project_name"], form["year"])


def review_files(session: Session, files: list[ImportJobFile], *, reorganise: bool,
                 refuse: Callable[[dict], str | None] | None = None,
                 submitted: dict | None = None) -> list[FileReview]:
    """What confirming would do, file by file, against the database as it is now.

    Each file is compared with the database alone; where one project year comes in more than
    once, the review says so, because confirming stores the files in order and the last wins.
    A form the user may not store (`refuse`, see `import_refusal`) is shown as read and marked
    refused, and not compared: the comparison would show another unit's stored data.
    `reorganise` as for `diff_form`: who is looking decides what confirming would do.
    `submitted`: a refused correction of the fields OCR was unsure of, shown again with its
    messages ({"position", "number", "values", "errors"}; see services.import_checks)."""
    sources: dict[tuple, list[str]] = {}
    for f in files:
        for form in f.forms:
            sources.setdefault(_year_key(form), []).append(f.name)
    reviews = []
    for f in files:
        forms, claimed = [], set()
        for number, form in enumerate(f.forms, start=1):
            prefix = f"{form['project_name'] or '（无名项目）'}："
            own = [w for w in f.warnings if w.startswith(prefix)]
            claimed.update(own)
            review = review_form(session, form, [w[len(prefix):] for w in own], reorganise=reorganise,
                                 refused=refuse(form) if refuse else None)
            if form.get("confidence"):
                mine = submitted and (submitted["position"], submitted["number"]) == (f.position, number)
                review.checks = field_checks(form, submitted if mine else None)
                for check in review.checks:
                    check.anchor = f"check-{f.position}-{number}-" + re.sub(r"\W+", "-", check.path).strip("-")
                _mark_cells(review)
            names = list(sources[_year_key(form)])
            names.remove(f.name)
            review.also_in = names
            forms.append(review)
        reviews.append(FileReview(f, forms, [w for w in f.warnings if w not in claimed]))
    return reviews


def review_form(session: Session, form: dict, warnings: list[str], *, reorganise: bool,
                refused: str | None = None) -> FormReview:
    if refused:
        rows = rows_from_form(form)
        for row in rows:
            row.status = "refused"
        return FormReview(form, FormDiff(form, "refused"), _review_funds(form, None),
                          _review_texts(form, TEXT_LABELS, None), _review_texts(form, GOAL_LABELS, None),
                          rows, warnings, refused=refused)
    diff = diff_form(session, form, reorganise=reorganise)
    rows = rows_from_form(form)
    for row in rows:
        row.status = diff.outcome
    if diff.outcome == "changed":
        _mark_changed_rows(rows, diff)
    for w in warnings:
        match = _ROW_NUMBER.match(w)
        if match and 0 < int(match.group(1)) <= len(rows):
            rows[int(match.group(1)) - 1].warnings.append(w)
    stored = diff.project_year if diff.outcome == "changed" else None
    return FormReview(form, diff, _review_funds(form, stored), _review_texts(form, TEXT_LABELS, stored),
                      _review_texts(form, GOAL_LABELS, stored), rows, warnings)


def _mark_changed_rows(rows: list[IndicatorRow], diff: FormDiff) -> None:
    for row, (_item, match) in zip(rows, diff.matches):
        if match is None:
            row.status = "new"
            continue
        row.status = "unchanged"
        for scope in SCOPES:
            new, old = row.side(scope), side_from_indicator(match, scope)
            if _side_key(new) == _side_key(old):
                continue
            row.status = "changed"
            if (old.raw if old else None) != (new.raw if new else None):
                row.old_raw[scope] = old.raw if old else None
            if old and new and old.level3 != new.level3:
                row.old_level3[scope] = old.level3
            if old and new and old.level2 != new.level2:
                row.notes.append(f"{SCOPE_LABELS[scope]}二级指标：{old.level2 or '（无）'} → {new.level2 or '（无）'}")


def _side_key(side: Side | None) -> tuple | None:
    return None if side is None else (side.level2, side.level3, side.raw)


def _as_decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _review_funds(form: dict, stored: ProjectYear | None) -> list[FundRow]:
    rows = []
    stored_funds = (stored.funds("period"), stored.funds("annual")) if stored is not None else ()
    for source in shown_sources(form["funds"]["period"], form["funds"]["annual"], *stored_funds):
        row = FundRow(FUND_LABELS[source], form["funds"]["period"].get(source), form["funds"]["annual"].get(source))
        if stored is not None:
            for side in ("period", "annual"):
                old = getattr(stored, f"{side}_{source}_yuan")
                if old != _as_decimal(form["funds"][side].get(source)):
                    setattr(row, f"{side}_old", old)
                    setattr(row, f"{side}_changed", True)
        rows.append(row)
    return rows


def _review_texts(form: dict, labels: dict[str, str], stored: ProjectYear | None) -> list[TextPart]:
    parts = []
    for name, label in labels.items():
        part = TextPart(label, form.get(name))
        if stored is not None and (form.get(name) or None) != (getattr(stored, name) or None):
            part.changed, part.old = True, getattr(stored, name)
        parts.append(part)
    return parts


@dataclass
class StoredYear:
    project_id: int
    name: str
    year: int


def stored_years(session: Session, user: User, project_year_ids: list[int]) -> dict[int, StoredYear]:
    """Links from a confirmed import to the project pages it touched (those the user may see)."""
    if not project_year_ids:
        return {}
    statement = (select(ProjectYear.id, Project.id, Project.name, ProjectYear.year)
                 .join(Project, Project.id == ProjectYear.project_id)
                 .where(ProjectYear.id.in_(project_year_ids), visible_years(user)))
    return {py_id: StoredYear(p_id, name, year) for py_id, p_id, name, year in session.exec(statement)}


@dataclass
class ReviewTotals:
    files: int = 0
    unreadable: int = 0
    forms: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    refused: int = 0
    warnings: int = 0
    unchecked: int = 0                 # fields OCR was unsure of, in forms to store, not yet looked at

    @property
    def to_store(self) -> int:
        """Forms that confirming would write (new or changed)."""
        return self.new + self.changed


def review_totals(reviews: list[FileReview]) -> ReviewTotals:
    totals = ReviewTotals(files=len(reviews))
    for review in reviews:
        if not review.file.importable:
            totals.unreadable += 1
        totals.warnings += len(review.file.warnings)
        for form in review.forms:
            totals.forms += 1
            totals.unchecked += form.pending_checks
            setattr(totals, form.diff.outcome, getattr(totals, form.diff.outcome) + 1)
    return totals
