"""Telling a user of a decision on something of theirs, by mail through the outbox: a 目标调整
decided (services/target_adjustment.py), a 自评 returned or approved (services/self_evaluation.py),
a monitoring round returned, approved or sent to 整改 (services/rounds.py). The message is queued
in the caller's transaction, so it exists exactly when the decision does; the scheduler sends it
(without SMTP it stays in the outbox, where an admin reads it). `key` names the decision, so a
decision is told once. Nobody is told who is disabled, unknown or without an address; the
填报人's 工作台 lists the decision whatever happens to the mail (reads/workbench.py)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Callable, Mapping

from sqlmodel import Session, select

from models.outbox import OutboxMessage
from models.user import User


def queue_mail(session: Session, username: str | None, key: str, kind: str, compose: Callable[[User], object],
               now: datetime) -> OutboxMessage | None:
    """Queue `compose(user)` (a reminders.messages.Mail) for the user named `username`."""
    from reminders.cycle import recipient
    user = session.exec(select(User).where(User.username == username)).first() if username else None
    if user is None or not user.is_active or not (user.email or "").strip():
        return None
    mail = compose(user)
    message = OutboxMessage(key=key[:255], kind=kind, user_id=user.id, to_address=recipient(user)[:300],
                            subject=mail.subject[:500], text_body=mail.text, html_body=mail.html,
                            next_attempt_at=now, created_at=now)
    session.add(message)
    session.flush()
    return message


def decider_label(session: Session, username: str) -> str:
    """How a mail names the 审核人 who decided: their display name, else the username."""
    user = session.exec(select(User).where(User.username == username)).first()
    return user.label if user else username


def local_day(config: Mapping, moment: datetime) -> date:
    """The day of `moment` where the users are (TIMEZONE); a naive moment is UTC (SQLite)."""
    from reminders.cycle import CycleConfig
    aware = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
    return CycleConfig.from_mapping(config).today(aware)


def link(config: Mapping, path: str) -> str:
    """`path` under BASE_URL, as every mail links."""
    from reminders.cycle import CycleConfig
    return f"{CycleConfig.from_mapping(config).base_url}{path}"


def tell_review(session: Session, *, submitter: str | None, key: str, kind: str, what: str, decision: str,
                decider: str, comment: str | None, path: str, next_step: str, config: Mapping,
                now: datetime) -> OutboxMessage | None:
    """The 填报人 who submitted `what` (e.g. 招商引资业务经费（2023年度）绩效自评) told of the
    `decision` (通过 / 退回 / 需要整改) with the comment and where to act."""
    from reminders.messages import review_mail
    today = local_day(config, now)
    return queue_mail(session, submitter, key, kind, lambda user: review_mail(
        user, what, decision, decider_label(session, decider), today, comment, next_step, link(config, path)), now)
