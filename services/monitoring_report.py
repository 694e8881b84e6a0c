"""A unit's 监控报告 for a monitoring round (DOMAIN.md §8), written: the 填报人 saves the draft's
seven sections and submits it; the 审核人 of the 主管部门 returns it with a comment (the 填报人
edits and submits again).

Each is a plain function called inside the caller's write transaction. The texts are written by a
conditional update on the version the form was loaded with, the state moves by a conditional
update on the states a step starts from: a second editor working from a stale page changes
nothing and is told. Every step is kept (monitoring_report_step). Who may act is the caller's
check (reads/monitoring_report.py `may_edit_report`, `may_return_report`).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from domain.monitoring import Round
from domain.monitoring_report import (DRAFT, NOT_STARTED, REPORT_EDITABLE, REPORT_REFUSALS, REPORT_STATE_LABELS,
                                      REPORT_TRANSITIONS, RETURN, SECTIONS, SUBMIT)
from models.actual import EntryError
from models.monitoring_report import MonitoringReport, MonitoringReportStep
from services.rectifications import optional_text

MAX_SECTION = 8000
SectionText = Annotated[str | None, optional_text(MAX_SECTION)]


class ReportInput(BaseModel):
    overview: SectionText = None
    budget: SectionText = None
    performance: SectionText = None
    deviation: SectionText = None
    over: SectionText = None
    rectification: SectionText = None
    measures: SectionText = None
    version: int | None = None            # of the report the form was loaded with (0: none yet)

    def texts(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name, _heading in SECTIONS}


class ReportConflict(Exception):
    """The step does not fit the report's state now, or its texts changed meanwhile: Chinese."""


def report_of(session: Session, unit_id: int, year: int, month: int) -> MonitoringReport | None:
    return session.exec(select(MonitoringReport).where(MonitoringReport.unit_id == unit_id,
                                                       MonitoringReport.year == year, MonitoringReport.month == month)
                        .execution_options(populate_existing=True)).first()


def save_report(session: Session, unit_id: int, rnd: Round, data: ReportInput, who: str, role: str, now: datetime,
                today: date, *, submit: bool, figures_on: date) -> MonitoringReport:
    """Save the draft (or a returned report being revised) and, with `submit`, submit it: the
    round must be open and every section written. `figures_on` is the date the figures shown
    with it were read at; it is kept with the submission."""
    if submit:
        _check_complete(rnd, data, today)
    row = report_of(session, unit_id, rnd.year, rnd.month)
    state = row.state if row is not None else NOT_STARTED
    if state not in REPORT_EDITABLE:
        raise ReportConflict(f"监控报告{REPORT_STATE_LABELS[state]}，不能再修改。请刷新页面查看最新状态。")
    if row is None:
        if data.version:
            raise ReportConflict("监控报告已被他人删除或重建，请刷新页面")
        row = MonitoringReport(unit_id=unit_id, year=rnd.year, month=rnd.month, state=DRAFT, updated_by=who,
                               updated_at=now, **data.texts())
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:          # another editor created it a moment ago
            raise ReportConflict("监控报告已被他人保存，请刷新页面后在最新内容上修改") from None
    else:
        where = [MonitoringReport.id == row.id, MonitoringReport.state.in_(REPORT_EDITABLE)]
        if data.version is not None:
            where.append(MonitoringReport.version == data.version)
        result = session.exec(update(MonitoringReport).where(*where)
                              .values(version=MonitoringReport.version + 1, updated_by=who, updated_at=now,
                                      **data.texts())
                              .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise ReportConflict("监控报告已被他人修改或提交，请刷新页面后在最新内容上修改")
        session.refresh(row)
    if submit:
        move_report(session, row, SUBMIT, who, role, now, extra={"submitted_by": who, "submitted_at": now,
                                                                  "figures_on": figures_on})
    return row


def _check_complete(rnd: Round, data: ReportInput, today: date) -> None:
    if not rnd.is_open(today):
        raise EntryError(f"本轮监控截至{rnd.as_of.month}月{rnd.as_of.day}日，该日之后才能提交监控报告", "overview")
    for name, heading in SECTIONS:
        if not getattr(data, name):
            raise EntryError(f"提交前请填写“{heading.split('、', 1)[1]}”（没有的请写“无”）", name)


def return_report(session: Session, row: MonitoringReport, comment: str | None, who: str, role: str,
                  now: datetime) -> None:
    """The 审核人 sends a submitted report back with a comment; the 填报人 revises it."""
    comment = (comment or "").strip() or None
    if comment and len(comment) > MAX_SECTION:
        raise EntryError(f"退回意见不能超过{MAX_SECTION}字", "comment")
    move_report(session, row, RETURN, who, role, now, comment, extra={"figures_on": None})


def move_report(session: Session, row: MonitoringReport, action: str, who: str, role: str, now: datetime,
                comment: str | None = None, extra: dict | None = None) -> None:
    """One step, by a conditional update: of two acting at once, the second is told."""
    sources, target, needs_comment = REPORT_TRANSITIONS[action]
    if needs_comment and not comment:
        raise EntryError("退回时请填写退回意见", "comment")
    before = row.state
    result = session.exec(update(MonitoringReport)
                          .where(MonitoringReport.id == row.id, MonitoringReport.state.in_(sources))
                          .values(state=target, updated_at=now, **(extra or {}))
                          .execution_options(synchronize_session=False))
    session.refresh(row)
    if result.rowcount != 1:
        raise ReportConflict(f"{REPORT_REFUSALS[action]}；当前状态：{REPORT_STATE_LABELS[row.state]}。请刷新页面查看最新状态。")
    session.add(MonitoringReportStep(report_id=row.id, who=who, role=role, action=action, from_state=before,
                                     to_state=target, comment=comment, at=now))
    session.flush()
