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
from services.importing import FormDiff, diff_form

TEXT_LABELS = {"overview": "项目概况", "basis": "立项依据", "necessity": "项目设立必要性",
               "measures": "保证项目实施的制度、措施", "plan": "项目实施计划"}
GOAL_LABELS = {"goal_period": "实施期总体目标", "goal_annual": "年度总体目标"}


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
                 refuse: Callable[[dict], str | None] | None = None) -> list[FileReview]:
    """What confirming would do, file by file, against the database as it is now.

    Each file is compared with the database alone; where one project year comes in more than
    once, the review says so, because confirming stores the files in order and the last wins.
    A form the user may not store (`refuse`, see `import_refusal`) is shown as read and marked
    refused, and not compared: the comparison would show another unit's stored data.
    `reorganise` as for `diff_form`: who is looking decides what confirming would do."""
    sources: dict[tuple, list[str]] = {}
    for f in files:
        for form in f.forms:
            sources.setdefault(_year_key(form), []).append(f.name)
    reviews = []
    for f in files:
        forms, claimed = [], set()
        for form in f.forms:
            prefix = f"{form['project_name'] or '（无名项目）'}："
            own = [w for w in f.warnings if w.startswith(prefix)]
            claimed.update(own)
            review = review_form(session, form, [w[len(prefix):] for w in own], reorganise=reorganise,
                                 refused=refuse(form) if refuse else None)
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
            setattr(totals, form.diff.outcome, getattr(totals, form.diff.outcome) + 1)
    return totals
