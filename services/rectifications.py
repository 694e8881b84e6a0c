"""整改 items (DOMAIN.md §8), written: raised by a 审核人 (from a round's review or at any time),
answered by the responsible unit's 填报人 with 整改措施, 整改结果 and evidence, closed by the
审核人 with a 整改结论 or sent back (open again, possibly with a new deadline).

Each is a plain function called inside the caller's write transaction. The state moves only by
a conditional update (`WHERE state IN (…)`), so of two people acting at once the second changes
no row and is told (RectificationConflict); every step is kept in rectification_step with what
was written then. Evidence files are written before the transaction (models/evidence.py
store_upload) and recorded here; the files of removed rows are deleted by the caller after the
commit. Who may act is the caller's check (reads/scope.py).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, field_validator
from sqlalchemy import update
from sqlmodel import Session, select

from domain.monitoring import (ANSWER, CLOSE, OPEN, RAISE, RECTIFICATION_LABELS, RECTIFICATION_REFUSALS,
                               RECTIFICATION_TARGETS, RECTIFICATION_TRANSITIONS, SEND_BACK)
from models.actual import EntryError
from models.bounds import LAST_YEAR
from models.evidence import Evidence, StoredFile, record_evidence
from models.indicator import Indicator
from models.monitoring import Rectification, RectificationStep
from models.project import Project, ProjectYear

MAX_REQUIREMENT = 2000
MAX_ANSWER = 4000
MAX_FILES = 10          # per answer, as for an actual's evidence


def _text(raw):
    """Typed text, stripped; blank reads as missing."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ValueError("应为文字")
    return raw.strip() or None


def required_text(limit: int):
    """Text that must be given, at most `limit` characters (a Chinese message otherwise)."""
    def check(raw):
        text = _text(raw)
        if text is None:
            raise ValueError("必须填写")
        if len(text) > limit:
            raise ValueError(f"不能超过{limit}字")
        return text
    return BeforeValidator(check)


def optional_text(limit: int):
    def check(raw):
        text = _text(raw)
        if text is not None and len(text) > limit:
            raise ValueError(f"不能超过{limit}字")
        return text
    return BeforeValidator(check)


def typed_day(raw):
    """A date as a form or a script writes it (2023-08-20); blank reads as missing."""
    if isinstance(raw, str):
        raw = raw.strip() or None
        if raw is not None:
            try:
                return date.fromisoformat(raw)
            except ValueError:
                raise ValueError("应为有效的日期，例如 2023-08-20") from None
    return raw


def _required_day(raw):
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ValueError("必须填写")
    return raw


RequiredText = Annotated[str, required_text(MAX_REQUIREMENT)]
AnswerText = Annotated[str, required_text(MAX_ANSWER)]


class RectificationInput(BaseModel):
    """A new item: on the project (no indicator) or one of its indicators."""
    indicator_id: int | None = None
    requirement: RequiredText
    due: Annotated[date, BeforeValidator(typed_day), BeforeValidator(_required_day)]

    @field_validator("indicator_id", mode="before")
    @classmethod
    def _indicator(cls, raw):
        if raw in ("", None):
            return None
        return raw


class AnswerInput(BaseModel):
    measures: AnswerText
    result: AnswerText
    version: int | None = None        # the item's version the answer was written on (pages)


class CloseInput(BaseModel):
    conclusion: RequiredText


class SendBackInput(BaseModel):
    comment: RequiredText
    due: Annotated[date | None, BeforeValidator(typed_day)] = None      # a new deadline, if any


class RectificationConflict(Exception):
    """The step does not fit the item's state now (someone acted first): Chinese."""


def raise_rectification(session: Session, py: ProjectYear, project: Project, data: RectificationInput, who: str,
                        role: str, now: datetime, today: date, submission_id: int | None = None) -> Rectification:
    """A new open item for the project's 实施单位."""
    if data.indicator_id is not None:
        ind = session.get(Indicator, data.indicator_id)
        if ind is None or ind.project_year_id != py.id or ind.retired_at is not None:
            raise EntryError("所选指标不属于该项目年度", "indicator_id")
    _check_due(data.due, today)
    item = Rectification(project_year_id=py.id, indicator_id=data.indicator_id, submission_id=submission_id,
                         unit_id=project.unit_id, requirement=data.requirement, due=data.due, state=OPEN,
                         created_by=who, created_at=now, updated_at=now)
    session.add(item)
    session.flush()
    session.add(RectificationStep(rectification_id=item.id, who=who, role=role, action=RAISE, from_state="",
                                  to_state=OPEN, comment=data.requirement, due=data.due, at=now))
    session.flush()
    return item


def _check_due(due: date, today: date) -> None:
    if due < today:
        raise EntryError(f"整改期限不能早于今天（{today.isoformat()}）", "due")
    if due.year > LAST_YEAR:
        raise EntryError(f"整改期限应在 {LAST_YEAR} 年以前", "due")


def answer_rectification(session: Session, item: Rectification, data: AnswerInput, files: list[StoredFile],
                         remove: list[int], who: str, role: str, now: datetime) -> list[Evidence]:
    """The unit's 整改措施 and 整改结果, with new evidence files and the ids of earlier ones to
    remove; revisable until the 审核人 acts. Answers the removed rows (their files go after commit)."""
    if len(files) > MAX_FILES:
        raise EntryError(f"一次最多上传 {MAX_FILES} 个文件", "files")
    before = item.state
    values = dict(measures=data.measures, result=data.result, answered_by=who, answered_at=now)
    _move(session, item, ANSWER, now, values, version=data.version)
    record_evidence(session, item, files, who, now)
    removed = list(session.exec(select(Evidence).where(Evidence.rectification_id == item.id,
                                                       Evidence.id.in_(remove)))) if remove else []
    for row in removed:
        session.delete(row)
    _step(session, item, ANSWER, before, who, role, now, measures=data.measures, result=data.result)
    return removed


def close_rectification(session: Session, item: Rectification, data: CloseInput, who: str, role: str,
                        now: datetime) -> None:
    before = item.state
    _move(session, item, CLOSE, now, dict(conclusion=data.conclusion, closed_by=who, closed_at=now))
    _step(session, item, CLOSE, before, who, role, now, comment=data.conclusion)


def send_back_rectification(session: Session, item: Rectification, data: SendBackInput, who: str, role: str,
                            now: datetime, today: date) -> None:
    """Back to open with the 审核人's comment; a new deadline replaces the old one."""
    before = item.state
    if data.due is not None:
        _check_due(data.due, today)
    _move(session, item, SEND_BACK, now, {"due": data.due} if data.due is not None else {})
    _step(session, item, SEND_BACK, before, who, role, now, comment=data.comment, due=data.due)


def _move(session: Session, item: Rectification, action: str, now: datetime, values: dict,
          version: int | None = None) -> None:
    sources, target = RECTIFICATION_TRANSITIONS[action], RECTIFICATION_TARGETS[action]
    where = [Rectification.id == item.id, Rectification.state.in_(sources)]
    if version is not None:
        where.append(Rectification.version == version)
    result = session.exec(update(Rectification).where(*where)
                          .values(state=target, version=Rectification.version + 1, updated_at=now, **values)
                          .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.refresh(item)
        if item.state in sources:       # the state fits: the answer was written on an older version
            raise RectificationConflict("整改情况已被他人修改，请刷新页面后在最新内容上修改")
        raise RectificationConflict(f"{RECTIFICATION_REFUSALS[action]}；当前状态：{RECTIFICATION_LABELS[item.state]}。"
                                    "请刷新页面查看最新状态。")
    session.refresh(item)


def _step(session: Session, item: Rectification, action: str, before: str, who: str, role: str, now: datetime,
          **texts) -> None:
    session.add(RectificationStep(rectification_id=item.id, who=who, role=role, action=action, from_state=before,
                                  to_state=item.state, at=now, **texts))
    session.flush()
