"""A monitoring round's submission (DOMAIN.md §8), written: the unit's 填报人 saves and submits a
project's 总体目标执行情况, 偏差原因 and 改进（纠偏）措施; the 审核人 reviews it — 通过, 退回 with a
comment (the 填报人 edits and submits again), or 需要整改 with one or more 整改 items
(services/rectifications.py), raised in the same transaction.

Each is a plain function called inside the caller's write transaction. Texts are written by a
conditional update on the version the form was loaded with, and the state moves only by a
conditional update on the states a step starts from: a second editor or reviewer working from a
stale page changes nothing and is told. Every step is kept in monitoring_step (who, role, when,
comment). Who may act is the caller's check (reads/scope.py).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from domain.monitoring import (DRAFT, NOT_STARTED, REQUIRE_RECTIFICATION, RETURN, ROUND_EDITABLE, ROUND_REFUSALS,
                               ROUND_STATE_LABELS, ROUND_TRANSITIONS, SUBMIT, Round)
from models.actual import EntryError
from models.monitoring import MonitoringStep, MonitoringSubmission
from models.project import Project, ProjectYear
from services.rectifications import MAX_ANSWER, RectificationInput, optional_text, raise_rectification

RoundText = Annotated[str | None, optional_text(MAX_ANSWER)]


class RoundInput(BaseModel):
    goal_progress: RoundText = None       # 总体目标执行情况
    deviation: RoundText = None           # 偏差原因
    correction: RoundText = None          # 改进（纠偏）措施
    version: int | None = None            # of the submission the form was loaded with (0: none yet)


class RoundConflict(Exception):
    """The step does not fit the submission's state now, or its texts were changed meanwhile: Chinese."""


def submission_of(session: Session, project_year_id: int, month: int) -> MonitoringSubmission | None:
    return session.exec(select(MonitoringSubmission).where(MonitoringSubmission.project_year_id == project_year_id,
                                                           MonitoringSubmission.month == month)
                        .execution_options(populate_existing=True)).first()


def save_round(session: Session, py: ProjectYear, rnd: Round, data: RoundInput, who: str, role: str, now: datetime,
               today: date, *, submit: bool, off_track: bool) -> MonitoringSubmission:
    """Save the texts (a draft, or a returned submission being revised) and, with `submit`, submit
    them for review. Submitting needs the round to be open and 总体目标执行情况; with an indicator
    or the budget off track (`off_track`) also 偏差原因 and 改进（纠偏）措施."""
    if submit:
        _check_complete(rnd, data, today, off_track)
    row = submission_of(session, py.id, rnd.month)
    state = row.state if row is not None else NOT_STARTED
    if state not in ROUND_EDITABLE:
        raise RoundConflict(f"本轮监控{ROUND_STATE_LABELS[state]}，不能再修改。请刷新页面查看最新状态。")
    texts = dict(goal_progress=data.goal_progress, deviation=data.deviation, correction=data.correction)
    if row is None:
        if data.version:
            raise RoundConflict("本轮监控已被他人删除或重建，请刷新页面")
        row = MonitoringSubmission(project_year_id=py.id, month=rnd.month, state=DRAFT, updated_by=who,
                                   updated_at=now, **texts)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:          # another editor created it a moment ago
            raise RoundConflict("本轮监控已被他人保存，请刷新页面后在最新内容上修改") from None
    else:
        where = [MonitoringSubmission.id == row.id, MonitoringSubmission.state.in_(ROUND_EDITABLE)]
        if data.version is not None:
            where.append(MonitoringSubmission.version == data.version)
        result = session.exec(update(MonitoringSubmission).where(*where)
                              .values(version=MonitoringSubmission.version + 1, updated_by=who, updated_at=now, **texts)
                              .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise RoundConflict("本轮监控已被他人修改或提交，请刷新页面后在最新内容上修改")
        session.refresh(row)
    if submit:
        move_round(session, row, SUBMIT, who, role, now)
    return row


def _check_complete(rnd: Round, data: RoundInput, today: date, off_track: bool) -> None:
    if not rnd.is_open(today):
        raise EntryError(f"本轮监控截至{rnd.as_of.month}月{rnd.as_of.day}日，该日之后才能提交", "goal_progress")
    if not data.goal_progress:
        raise EntryError("提交前请填写总体目标执行情况", "goal_progress")
    if off_track:
        for name, label in (("deviation", "偏差原因"), ("correction", "改进（纠偏）措施")):
            if not getattr(data, name):
                raise EntryError(f"有指标或预算执行偏离目标（黄灯、红灯或逾期未填报），提交前请填写{label}", name)


def review_round(session: Session, row: MonitoringSubmission, py: ProjectYear, project: Project, action: str,
                 comment: str | None, items: list[RectificationInput], who: str, role: str, now: datetime,
                 today: date) -> list:
    """The 审核人's decision on a submitted round: 通过, 退回 (a comment required) or 需要整改 (at
    least one 整改 item, raised here). Answers the items raised."""
    comment = (comment or "").strip() or None
    if comment and len(comment) > MAX_ANSWER:
        raise EntryError(f"审核意见不能超过{MAX_ANSWER}字", "comment")
    if action == REQUIRE_RECTIFICATION and not items:
        raise EntryError("需要整改时请至少填写一项整改要求和建议及整改期限", "requirement")
    step = move_round(session, row, action, who, role, now, comment)
    raised = [] if action != REQUIRE_RECTIFICATION else [
        raise_rectification(session, py, project, item, who, role, now, today, submission_id=row.id) for item in items]
    _tell_submitter(session, row, py, project, step, len(raised))
    return raised


def _tell_submitter(session: Session, row: MonitoringSubmission, py: ProjectYear, project: Project,
                    step: MonitoringStep, raised: int) -> None:
    """The 填报人 who submitted the round is told of the decision by mail (services/notify.py);
    their 工作台 lists it too."""
    from services.inputs import current_config
    from services.notify import tell_review
    submitted = session.exec(select(MonitoringStep).where(MonitoringStep.submission_id == row.id,
                                                          MonitoringStep.action == SUBMIT)
                             .order_by(MonitoringStep.at.desc(), MonitoringStep.id.desc())).first()
    next_step = {RETURN: "请按审核意见修改后重新提交。",
                 REQUIRE_RECTIFICATION: f"审核人提出了{raised}项整改事项：请在期限内填报整改措施、整改结果和佐证材料。"}
    tell_review(session, submitter=submitted.who if submitted else row.updated_by, key=f"monitoring:{step.id}",
                kind="monitoring-review", what=f"{project.name}{Round(py.year, row.month, None).title}", decision=step.action,
                decider=step.who, comment=step.comment, path=f"/projects/{project.id}/monitoring/{py.year}-{row.month:02d}",
                next_step=next_step.get(step.action, "本轮监控已完成。"), config=current_config(), now=step.at)


def move_round(session: Session, row: MonitoringSubmission, action: str, who: str, role: str, now: datetime,
               comment: str | None = None) -> MonitoringStep:
    """One step, by a conditional update: of two acting at once, the second is told."""
    sources, target, needs_comment = ROUND_TRANSITIONS[action]
    if needs_comment and not comment:
        raise EntryError("退回时请填写退回意见" if action == RETURN else "请填写意见", "comment")
    before = row.state
    values = {"state": target, "updated_at": now} | ({"submitted_at": now} if action == SUBMIT else {})
    result = session.exec(update(MonitoringSubmission)
                          .where(MonitoringSubmission.id == row.id, MonitoringSubmission.state.in_(sources))
                          .values(**values).execution_options(synchronize_session=False))
    session.refresh(row)
    if result.rowcount != 1:
        raise RoundConflict(f"{ROUND_REFUSALS[action]}；当前状态：{ROUND_STATE_LABELS[row.state]}。请刷新页面查看最新状态。")
    step = MonitoringStep(submission_id=row.id, who=who, role=role, action=action, from_state=before,
                          to_state=target, comment=comment, at=now)
    session.add(step)
    session.flush()
    return step
