"""Storing parsed forms: the importer hands over plain dicts (forms.schema.json); this is where
they meet the database. Review and confirm both go through `diff_form`, so the review page
shows exactly what confirming will do; `apply_import` stores the forms of one file inside the
caller's transaction and rebuilds what is derived from the targets it changes.

`reorganise` says who imports: an admin (or the operator's command line) follows each form's
主管部门 — moving the 实施单位, creating a 主管部门, re-coding one; anyone else stores the form
under the department it belongs to now, since the form's header alone must not change whose
审核人 sees a project."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, select

from importers import taxonomy
from models.importing import ImportBatch, ProjectYearImport
from models.indicator import SCOPES, Indicator, TargetChange, active_indicators
from models.org import Department, Unit, department_label
from models.project import FUND_SOURCES, Project, ProjectYear
from services import alerts, derived, inputs, summaries

NO_DEPARTMENT, NO_UNIT = "（未填写主管部门）", "（未填写实施单位）"


def form_sha256(form: dict) -> str:
    """What was read, not how: the file, its pages and OCR's confidence (and what a person
    checked of it) leave the hash alone."""
    clean = {k: v for k, v in form.items() if k not in ("source", "ocr", "confidence") and not k.startswith("_")}
    return hashlib.sha256(json.dumps(clean, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _key(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "")


def indicator_key(level1: str | None, name: str | None) -> tuple[str, str]:
    return (taxonomy.standard_level1(level1) or _key(level1), _key(name))


@dataclass
class TargetDiff:
    name: str
    scope: str
    old: str | None
    new: str | None


@dataclass
class Placement:
    """The 主管部门 a form is stored under, and what storing it changes about departments."""
    department: Department | None    # None: the form's department, created on storing
    name: str                        # the form's 主管部门 and code (for a new one or a new code)
    code: str | None
    new_code: bool = False           # the department takes the form's code
    move_unit: bool = False          # the 实施单位 moves into the department
    move_year: bool = False          # the project year moves into the department
    line: str | None = None          # the one line the review shows about it

    @property
    def changes(self) -> bool:
        return self.department is None or self.new_code or self.move_unit or self.move_year


@dataclass
class FormDiff:
    """What storing one parsed form would do."""
    form: dict
    outcome: str                     # "new" | "changed" | "unchanged"
    project_year: ProjectYear | None = None
    placement: Placement | None = None
    target_changes: list[TargetDiff] = dc_field(default_factory=list)
    added: list[str] = dc_field(default_factory=list)
    retired: list[str] = dc_field(default_factory=list)
    other_changes: list[str] = dc_field(default_factory=list)
    matches: list[tuple[dict, Indicator | None]] = dc_field(default_factory=list)
    unmatched: list[Indicator] = dc_field(default_factory=list)


def _find_unit(session: Session, form: dict) -> Unit | None:
    name = form["implementing_unit"] or NO_UNIT
    return session.exec(select(Unit).where(Unit.name == name)).first()


def _find_project_year(session: Session, form: dict) -> ProjectYear | None:
    statement = (
        select(ProjectYear)
        .join(Project, Project.id == ProjectYear.project_id)
        .join(Unit, Unit.id == Project.unit_id)
        .where(Unit.name == form["implementing_unit"], Project.name == form["project_name"],
               ProjectYear.year == form["year"])
    )
    return session.exec(statement).first()


def _side_raw(side: dict | None) -> str | None:
    return None if side is None else side["target"]["raw"]


def _side_text(side: dict | None) -> tuple | None:
    return None if side is None else (side["level2"], side["level3"], side["target"]["raw"])


def _stored_text(ind: Indicator, scope: str) -> tuple | None:
    if getattr(ind, f"{scope}_level3") is None and getattr(ind, f"{scope}_raw") is None:
        return None
    return (getattr(ind, f"{scope}_level2"), getattr(ind, f"{scope}_level3"), getattr(ind, f"{scope}_raw"))


def _indicator_name(item: dict) -> str:
    side = item["annual"] or item["period"] or {}
    return side.get("level3", "")


def diff_form(session: Session, form: dict, *, reorganise: bool) -> FormDiff:
    year = _find_project_year(session, form)
    placement = place_form(session, form, year, reorganise=reorganise)
    if year is None:
        diff = FormDiff(form, "new", placement=placement)
        diff.matches = [(item, None) for item in form["indicators"]]
        diff.added = [_indicator_name(item) for item in form["indicators"]]
        return diff
    diff = FormDiff(form, "unchanged", project_year=year, placement=placement)
    # the same form stored by a 填报人 under their unit's department is not the same for an
    # admin, who would move it
    if year.form_sha256 == form_sha256(form) and not placement.changes:
        return diff
    existing = active_indicators(session, year.id)
    by_key: dict[tuple, list[Indicator]] = {}
    for ind in existing:
        by_key.setdefault(indicator_key(ind.level1, ind.name), []).append(ind)
    used: set[int] = set()
    for item in form["indicators"]:
        candidates = [i for i in by_key.get(indicator_key(item["level1"], _indicator_name(item)), [])
                      if i.id not in used]
        match = candidates[0] if candidates else None
        diff.matches.append((item, match))
        if match is None:
            diff.added.append(_indicator_name(item))
            continue
        used.add(match.id)
        for scope in SCOPES:
            if _stored_text(match, scope) != _side_text(item[scope]):
                diff.target_changes.append(TargetDiff(match.name, scope, getattr(match, f"{scope}_raw"),
                                                      _side_raw(item[scope])))
    diff.unmatched = [i for i in existing if i.id not in used]
    diff.retired = [i.name for i in diff.unmatched]
    diff.other_changes = _header_changes(year, form)
    diff.outcome = "changed"
    return diff


def place_form(session: Session, form: dict, year: ProjectYear | None, *, reorganise: bool) -> Placement:
    """Where the form goes (see `reorganise` above); `year` is its project year if stored."""
    name, code = form["department_name"] or NO_DEPARTMENT, form["department_code"] or None
    unit = _find_unit(session, form)
    if not reorganise:
        return _kept(_held(session, unit, year), name, code)
    claimed = session.exec(select(Department).where(Department.name == name)).first()
    placement = Placement(claimed, name, code)
    placement.new_code = claimed is not None and code is not None and claimed.code != code
    target_id = claimed.id if claimed else None
    placement.move_unit = unit is not None and unit.department_id != target_id
    placement.move_year = year is not None and year.department_id != target_id
    placement.line = _reorganisation_line(session, placement, unit, year)
    return placement


def _held(session: Session, unit: Unit | None, year: ProjectYear | None) -> Department:
    """The department the project year (a new one: its unit) belongs to now."""
    if year is not None:
        return session.get(Department, year.department_id)
    if unit is None:   # import_refusal keeps a 填报人 to their own, existing unit
        raise PermissionError("只有管理员可以通过导入新建实施单位")
    return session.get(Department, unit.department_id)


def _kept(held: Department, name: str, code: str | None) -> Placement:
    placement = Placement(held, held.name, held.code)
    if name != held.name or (code is not None and code != held.code):
        placement.line = (f"表中主管部门为“{department_label(code, name)}”，与本单位所属主管部门"
                          f"“{department_label(held.code, held.name)}”不一致：将按本单位现属主管部门保存，不会更改")
    return placement


def _reorganisation_line(session: Session, placement: Placement, unit: Unit | None,
                         year: ProjectYear | None) -> str | None:
    claimed = placement.department
    target = department_label(placement.code or (claimed.code if claimed else None), placement.name)
    parts = []
    if claimed is None:
        parts.append(f"将新建主管部门“{target}”")
    elif placement.new_code:
        parts.append(f"主管部门“{claimed.name}”的代码将由{claimed.code or '（空）'}改为{placement.code}")
    if placement.move_unit:
        parts.append(f"实施单位“{unit.name}”将从主管部门“{_label_of(session, unit.department_id)}”移至“{target}”")
    elif placement.move_year:
        parts.append(f"本项目{year.year}年度将从主管部门“{_label_of(session, year.department_id)}”移至“{target}”")
    return "；".join(parts) or None


def _label_of(session: Session, department_id: int) -> str:
    department = session.get(Department, department_id)
    return department_label(department.code, department.name)


def _header_changes(year: ProjectYear, form: dict) -> list[str]:
    changes = []
    for side, label in (("period", "实施期资金"), ("annual", "年度资金")):
        if {k: _money(form["funds"][side].get(k)) for k in FUND_SOURCES} != year.funds(side):
            changes.append(label)
    for name, label in (("overview", "项目概况"), ("goal_period", "实施期目标"), ("goal_annual", "年度目标"),
                        ("basis", "立项依据"), ("plan", "项目实施计划"), ("measures", "制度措施"),
                        ("necessity", "必要性")):
        if (form.get(name) or None) != (getattr(year, name) or None):
            changes.append(label)
    return changes


def _money(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


@dataclass
class ImportSummary:
    batch: ImportBatch | None
    forms: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    warnings: list[str] = dc_field(default_factory=list)
    project_year_ids: list[int] = dc_field(default_factory=list)


def apply_import(session: Session, forms: list[dict], *, file_name: str, file_sha256: str,
                 who: str, now: datetime, reorganise: bool, warnings: list[str] | None = None) -> ImportSummary:
    """Store the forms of one file. The caller holds the transaction: all or nothing.

    A file whose forms are all unchanged writes nothing, not even a batch. Every form is compared
    with the database as it was before the file, as the review compared it, and stored as that says."""
    diffs = [diff_form(session, form, reorganise=reorganise) for form in forms]
    summary = ImportSummary(None, forms=len(forms), warnings=list(warnings or []))
    for d in diffs:
        setattr(summary, d.outcome, getattr(summary, d.outcome) + 1)
        if d.project_year is not None:
            summary.project_year_ids.append(d.project_year.id)
    if summary.new == 0 and summary.changed == 0:
        return summary
    batch = ImportBatch(file_name=file_name, file_sha256=file_sha256, imported_by=who, imported_at=now,
                        warnings=summary.warnings, forms_count=len(forms), new_count=summary.new,
                        changed_count=summary.changed, unchanged_count=summary.unchanged)
    session.add(batch)
    session.flush()
    summary.batch = batch
    stored = []
    for d in diffs:
        if d.outcome == "unchanged":
            continue
        year = _store_form(session, d, batch, now)
        stored.append(year.id)
        session.add(ProjectYearImport(batch_id=batch.id, project_year_id=year.id, outcome=d.outcome))
        if d.outcome == "new":
            summary.project_year_ids.append(year.id)
    session.flush()
    # A changed form may change targets that stored actuals were judged against, and which
    # indicators count; a new one needs its summary rows, and its alerts (periods already past
    # their deadline are overdue).
    config = inputs.current_config()
    derived.rejudge(session, [d.project_year.id for d in diffs if d.outcome == "changed"], config)
    summaries.refresh(session, stored)
    alerts.after_write(session, stored, now, config)
    return summary


def _department(session: Session, placement: Placement) -> Department:
    dept = placement.department
    if dept is None:   # an earlier form of the same file may have created it already
        dept = session.exec(select(Department).where(Department.name == placement.name)).first()
    if dept is None:
        dept = Department(name=placement.name, code=placement.code)
        session.add(dept)
        session.flush()
    elif placement.new_code:
        dept.code = placement.code
    return dept


def _unit(session: Session, form: dict, dept: Department, placement: Placement) -> Unit:
    unit = _find_unit(session, form)
    if unit is None:
        unit = Unit(name=form["implementing_unit"] or NO_UNIT, department_id=dept.id)
        session.add(unit)
        session.flush()
    elif placement.move_unit:
        unit.department_id = dept.id
    return unit


def _store_form(session: Session, d: FormDiff, batch: ImportBatch, now: datetime) -> ProjectYear:
    form = d.form
    dept = _department(session, d.placement)
    unit = _unit(session, form, dept, d.placement)
    year = d.project_year
    if year is None:
        project = session.exec(select(Project).where(Project.unit_id == unit.id,
                                                     Project.name == form["project_name"])).first()
        if project is None:
            project = Project(unit_id=unit.id, name=form["project_name"], created_at=now)
            session.add(project)
            session.flush()
        year = ProjectYear(project_id=project.id, year=form["year"], department_id=dept.id,
                           form_sha256="", updated_at=now)
    _copy_header(year, form, dept)
    year.form_sha256 = form_sha256(form)
    year.updated_at = now
    session.add(year)
    session.flush()
    for position, (item, match) in enumerate(d.matches, start=1):
        ind = match or Indicator(project_year_id=year.id, position=position, level1="")
        if match is not None:
            for scope in SCOPES:
                if _stored_text(match, scope) != _side_text(item[scope]):
                    session.add(TargetChange(
                        indicator_id=match.id, batch_id=batch.id, scope=scope,
                        old_level2=getattr(match, f"{scope}_level2"), old_level3=getattr(match, f"{scope}_level3"),
                        old_raw=getattr(match, f"{scope}_raw"), new_raw=_side_raw(item[scope]), changed_at=now))
        _copy_indicator(ind, item, position)
        session.add(ind)
    for ind in d.unmatched:
        ind.retired_at = now
        session.add(ind)
    return year


def _copy_header(year: ProjectYear, form: dict, dept: Department) -> None:
    year.department_id = dept.id
    year.attribute = form["project_attribute"]
    year.term = form["project_term"]
    for side in ("period", "annual"):
        for source in FUND_SOURCES:
            setattr(year, f"{side}_{source}_yuan", _money(form["funds"][side].get(source)))  # fiscal: only some layouts
    for name in ("overview", "basis", "necessity", "measures", "plan", "goal_period", "goal_annual",
                 "owner", "clerk", "phone"):
        setattr(year, name, form[name])
    year.filled_on = date.fromisoformat(form["filled_on"]) if form["filled_on"] else None


def _copy_indicator(ind: Indicator, item: dict, position: int) -> None:
    ind.position = position
    ind.level1 = item["level1"]
    ind.level1_std = taxonomy.standard_level1(item["level1"])
    for scope in SCOPES:
        side = item[scope]
        target = side["target"] if side else {}
        setattr(ind, f"{scope}_level2", side["level2"] if side else None)
        setattr(ind, f"{scope}_level2_std", taxonomy.standard_level2(side["level2"]) if side else None)
        setattr(ind, f"{scope}_level3", side["level3"] if side else None)
        setattr(ind, f"{scope}_raw", target.get("raw"))
        setattr(ind, f"{scope}_kind", target.get("kind"))
        setattr(ind, f"{scope}_op", target.get("op"))
        value = target.get("value")
        setattr(ind, f"{scope}_value", None if value is None else Decimal(str(value)))
        setattr(ind, f"{scope}_unit", target.get("unit"))
