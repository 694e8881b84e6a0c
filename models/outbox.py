"""The reminder outbox, what each message covered, the admins' reminder settings, and the
scheduler's runs.

- `OutboxMessage`: one email to one user, rendered when it is queued and never re-rendered,
  so what an admin reads on the outbox page is what was (or will be) sent. `key` is unique
  and derives from the notices the message combines; the Message-ID derives from `key`.
  States: pending → sending (claimed) → sent | pending (retry later) | failed.
- `SentNotice`: one row per (kind, user, period) ever queued, pointing at its message. The
  unique constraint is what makes "each notice once" hold while one message combines
  several notices: a message and its notices are inserted in one transaction, and a second
  cycle that tries the same notice loses on this constraint and rolls back.
- "未知" (unknown) is derived, not stored: a row still 'sending' more than
  `SENDING_TIMEOUT` after its claim. Only a crash between claim and the recorded result leaves
  one there, and the mail may or may not have gone out, so nothing re-sends it by itself; an
  admin decides (`resend`). Deriving it needs no extra writer and cannot race the sender.
- `ReminderSetting`: key → JSON value, one row per setting an admin changed (or the
  migration wrote). `updated_at` of "enabled" is when reminders were last switched on, which
  is when /healthz starts to expect scheduler runs.
- `SchedulerRun`: one row per cycle run (by the scheduler, or by `flask reminders send`).
"""
from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint, and_, func, or_, update
from sqlmodel import Field, Session, SQLModel, select

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
UNKNOWN = "unknown"          # derived: SENDING for longer than SENDING_TIMEOUT
STATE_LABELS = {PENDING: "待发送", SENDING: "发送中", SENT: "已发送", FAILED: "失败", UNKNOWN: "未知"}
# A send is bounded by the SMTP timeout on each wait (about ten waits at 10 s by default);
# a claim this old belongs to a process that died before it could record the result.
SENDING_TIMEOUT = timedelta(minutes=10)

SCHEDULED_TRIGGERS = ("daily", "catch-up")      # runs of the scheduler process (what /healthz watches)
TRIGGER_LABELS = {"daily": "定时", "catch-up": "补跑", "manual": "命令行"}


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255, unique=True, index=True)
    kind: str = Field(max_length=60)                  # the notice kinds it combines, "+"-joined
    user_id: int = Field(foreign_key="app_user.id", index=True)
    to_address: str = Field(max_length=300)
    subject: str = Field(max_length=500)
    text_body: str = Field(sa_column=Column(Text, nullable=False))
    html_body: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(default=PENDING, max_length=10, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(index=True)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime
    claimed_at: datetime | None = None
    claimed_by: str | None = Field(default=None, max_length=120)   # host:pid:nonce of the claim
    sent_at: datetime | None = None
    resent_at: datetime | None = None
    resent_by: str | None = Field(default=None, max_length=80)

    def display_state(self, now: datetime) -> str:
        if self.state == SENDING and self.claimed_at is not None and self.claimed_at < now - SENDING_TIMEOUT:
            return UNKNOWN
        return self.state

    def resendable(self, now: datetime) -> bool:
        return self.display_state(now) in (FAILED, UNKNOWN)


class SentNotice(SQLModel, table=True):
    __tablename__ = "sent_notice"
    __table_args__ = (UniqueConstraint("kind", "user_id", "period", name="uq_sent_notice"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    period: str = Field(max_length=20)                # 2023-07 (a reporting period) or 2023-W32 (a week)
    message_id: int = Field(foreign_key="outbox_message.id", index=True)
    created_at: datetime


class ReminderSetting(SQLModel, table=True):
    __tablename__ = "reminder_setting"
    key: str = Field(max_length=40, primary_key=True)
    value: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    updated_at: datetime
    updated_by: str = Field(max_length=80)


class SchedulerRun(SQLModel, table=True):
    __tablename__ = "scheduler_run"
    id: int | None = Field(default=None, primary_key=True)
    trigger: str = Field(max_length=20)               # daily | catch-up | manual
    as_of: datetime                                   # the cycle's `now`
    started_at: datetime = Field(index=True)          # the wall clock
    finished_at: datetime | None = None
    messages_created: int = 0
    messages_sent: int = 0
    messages_retry: int = 0
    messages_failed: int = 0
    note: str | None = Field(default=None, max_length=300)
    error: str | None = Field(default=None, sa_column=Column(Text))

    @property
    def succeeded(self) -> bool:
        return self.finished_at is not None and self.error is None

    @property
    def trigger_label(self) -> str:
        return TRIGGER_LABELS.get(self.trigger, self.trigger)


# --------------------------------------------------------------------------- claiming and recording

def claimant() -> str:
    """Who claims: host and process, plus a nonce so that two claims never look alike."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim(session: Session, message_id: int, now: datetime, by: str) -> bool:
    """Take a due pending message for sending. True only for the one caller whose update
    changed the row: another process, or a retry rescheduled meanwhile, makes it False."""
    result = session.exec(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.state == PENDING,
               OutboxMessage.next_attempt_at <= now)
        .values(state=SENDING, claimed_at=now, claimed_by=by, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def record_result(session: Session, message_id: int, by: str, status: str, detail: str, now: datetime,
                  next_attempt_at: datetime | None = None) -> bool:
    """Store the outcome of our claim; False when the row is no longer ours (an admin reset it)."""
    values: dict = {"last_error": None if status == "sent" else detail, "claimed_by": None}
    if status == "sent":
        values.update(state=SENT, sent_at=now)
    elif status == "retry":
        values.update(state=PENDING, next_attempt_at=next_attempt_at)
    else:
        values.update(state=FAILED)
    result = session.exec(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.state == SENDING, OutboxMessage.claimed_by == by)
        .values(**values).execution_options(synchronize_session=False))
    return result.rowcount == 1


def resend(session: Session, message_id: int, now: datetime, by: str) -> bool:
    """An admin's 重新发送: a failed or unknown message goes back to pending, due now, with its
    attempts counted afresh. Conditional, like a claim: False if it is not resendable (any
    more)."""
    result = session.exec(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id,
               or_(OutboxMessage.state == FAILED,
                   and_(OutboxMessage.state == SENDING, OutboxMessage.claimed_at < now - SENDING_TIMEOUT)))
        .values(state=PENDING, attempts=0, next_attempt_at=now, claimed_at=None, claimed_by=None,
                resent_at=now, resent_by=by[:80])
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def due_message_ids(session: Session, now: datetime) -> list[int]:
    return list(session.exec(select(OutboxMessage.id)
                             .where(OutboxMessage.state == PENDING, OutboxMessage.next_attempt_at <= now)
                             .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)))


# --------------------------------------------------------------------------- the outbox page

FILTERS = (PENDING, SENDING, SENT, FAILED, UNKNOWN)


def _state_condition(state: str, now: datetime):
    stale = now - SENDING_TIMEOUT
    if state == UNKNOWN:
        return and_(OutboxMessage.state == SENDING, OutboxMessage.claimed_at < stale)
    if state == SENDING:
        return and_(OutboxMessage.state == SENDING, or_(OutboxMessage.claimed_at.is_(None),
                                                        OutboxMessage.claimed_at >= stale))
    return OutboxMessage.state == state


def outbox_counts(session: Session, now: datetime) -> dict[str, int]:
    return {state: session.exec(select(func.count()).select_from(OutboxMessage)
                                .where(_state_condition(state, now))).one()
            for state in FILTERS}


@dataclass
class OutboxRow:
    message: OutboxMessage
    username: str
    state: str            # as displayed (unknown derived)


@dataclass
class OutboxPage:
    rows: list[OutboxRow]
    total: int
    page: int
    pages: int


def outbox_page(session: Session, now: datetime, state: str | None, page: int = 1,
                page_size: int = 50) -> OutboxPage:
    from models.user import User
    statement = select(OutboxMessage, User.username).join(User, User.id == OutboxMessage.user_id)
    if state in FILTERS:
        statement = statement.where(_state_condition(state, now))
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    statement = (statement.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
                 .offset((page - 1) * page_size).limit(page_size))
    rows = [OutboxRow(m, username, m.display_state(now)) for m, username in session.exec(statement)]
    return OutboxPage(rows, total, page, pages)


def notices_of(session: Session, message_id: int) -> list[SentNotice]:
    return list(session.exec(select(SentNotice).where(SentNotice.message_id == message_id)
                             .order_by(SentNotice.kind, SentNotice.period)))


# --------------------------------------------------------------------------- runs

def last_runs(session: Session, limit: int = 10) -> list[SchedulerRun]:
    return list(session.exec(select(SchedulerRun).order_by(SchedulerRun.started_at.desc(), SchedulerRun.id.desc())
                             .limit(limit)))


def last_scheduled_run(session: Session, succeeded: bool = False) -> SchedulerRun | None:
    """The latest run of the scheduler process (not `flask reminders send`), or the latest
    successful one."""
    statement = select(SchedulerRun).where(SchedulerRun.trigger.in_(SCHEDULED_TRIGGERS))
    if succeeded:
        statement = statement.where(SchedulerRun.finished_at.is_not(None), SchedulerRun.error.is_(None))
    return session.exec(statement.order_by(SchedulerRun.started_at.desc(), SchedulerRun.id.desc())).first()
