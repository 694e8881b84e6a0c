"""The reminder cycle, given `now`: (1) plan what is due from the stored data, (2) queue it
once, (3) deliver what is due in the outbox. No Flask: the scheduler process, the
`flask reminders send` command and the tests call `run_cycle` with an engine and a clock.

What is due (dates in Asia/Shanghai; a period is a reporting period, keyed by its end month;
its entry deadline is `YearCalendar(year, deadline_day=ENTRY_DEADLINE_DAY).deadline(month)`):

- 填报人, for the projects of their 实施单位:
  - due-soon (`manager-due-soon`), from `due_soon_days` days before a deadline up to the
    deadline day itself, while entries of that period are missing;
  - overdue (`manager-overdue`), after the deadline, while entries are missing.
  "Missing" is what the rows lack at `now`: an annual indicator (not retired, with a target)
  without an actual of that period, or a project year without that period's spending.
- 审核人, within their 主管部门 (all of them without one):
  - the weekly digest (`supervisor-digest`) on the configured weekday: every indicator and
    budget of the current year whose light is red, or grey (its latest due entry overdue),
    as `indicator_states`/`budget_state` judge them; nothing to report, no digest. A digest
    also lists, for information, the indicators marked 超额 (DOMAIN.md §8, the over alerts;
    light OVER_MARK): they ride along with a digest but do not make one on their own;
  - escalation (`supervisor-escalation`) once a period is more than `escalation_days` days
    past its deadline with entries still missing: each unit's projects and how many entries
    each lacks.
- Monitoring rounds and 整改 items, before and after their deadlines: reminders/monitoring.py.
- Admins, and users who are disabled or have no email address, get nothing.

Each notice is (kind, user, period) and is queued once, ever (table sent_notice). A user's new
notices of one cycle go out as one message. After downtime a cycle simply finds what fell due:
overdue and escalation notices for every period still missing (periods whose deadline falls
in the current calendar year; older ones belong to last year's self-evaluation) and the digest
of the current week, if its weekday has come; a due-soon notice whose window closed (the
deadline passed) is skipped, since the overdue notice replaces it.
"""
from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Callable, Iterable, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from domain import rules
from domain.calendar import DEFAULT_DEADLINE_DAY, YearCalendar
from domain.monitoring import DEFAULT_ROUNDS, RoundRule, parse_rounds
from models.actual import Actual, Spending
from models.db import transaction
from models.indicator import Indicator
from models.org import Unit
from models.outbox import (OutboxMessage, SchedulerRun, SentNotice, claim, claimant, due_message_ids,
                           record_result)
from models.project import Project, ProjectYear
from reads.scope import visible_years
from reads.project_year import year_state
from models.user import User
from reminders import mailer
from reminders.messages import compose
from reminders.monitoring import MonitoringData, monitoring_notices
from reminders.notices import BUDGET, DIGEST, DUE_SOON, ESCALATION, MISSING, OVER_MARK, OVERDUE, Item, Notice
from reminders.settings import ReminderSettings, load as load_settings

log = logging.getLogger("reminders")

TIMEZONE = "Asia/Shanghai"
DEFAULT_BASE_URL = "http://127.0.0.1:5000"



def base_url_warning(base_url: str) -> str | None:
    """A warning when the links in mails point at this machine (127.0.0.1 / localhost): BASE_URL
    was left unset, and no recipient elsewhere can open them."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host in ("127.0.0.1", "localhost", "::1", "0.0.0.0"):
        return (f"未设置 BASE_URL：邮件中的链接指向 {base_url}，收件人无法打开。"
                "请将 BASE_URL 设为本系统的访问地址（如 https://jixiao.example.gov.cn）后重启应用和调度进程。")
    return None


@dataclass(frozen=True)
class CycleConfig:
    """What the cycle takes from the app's settings."""
    deadline_day: int = DEFAULT_DEADLINE_DAY
    base_url: str = DEFAULT_BASE_URL
    smtp: mailer.SmtpSettings | None = None
    timezone: str = TIMEZONE
    rounds: tuple[RoundRule, ...] = ()     # monitoring rounds: none unless read from the settings (from_mapping)
    # The settings the domain core judges with (bands, deadline day …), carried rather than read
    # from the running app: the scheduler runs a cycle on a worker thread, outside any app
    # context, where the core would fall back to the default bands.
    settings: Mapping = field(default_factory=dict, compare=False)

    @property
    def core_settings(self) -> dict:
        return dict(self.settings) | {"ENTRY_DEADLINE_DAY": self.deadline_day}

    @classmethod
    def from_mapping(cls, config: Mapping) -> CycleConfig:
        return cls(deadline_day=int(config.get("ENTRY_DEADLINE_DAY") or DEFAULT_DEADLINE_DAY),
                   base_url=str(config.get("BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
                   smtp=mailer.SmtpSettings.from_mapping(config),
                   timezone=config.get("TIMEZONE") or TIMEZONE,
                   rounds=parse_rounds(config.get("MONITORING_ROUNDS", DEFAULT_ROUNDS)),
                   settings=dict(config))

    @property
    def base_url_warning(self) -> str | None:
        """What to say when mails would link to this machine (BASE_URL unset or local)."""
        return base_url_warning(self.base_url)

    @property
    def mail_domain(self) -> str:
        """The right-hand side of Message-IDs: the site's host name."""
        host = urlsplit(self.base_url).hostname or ""
        return host if host and host.isascii() else "localhost"

    def today(self, now: datetime) -> date:
        return now.astimezone(ZoneInfo(self.timezone)).date()


@dataclass(frozen=True)
class Period:
    year: int
    month: int
    deadline: date

    @property
    def key(self) -> str:
        return f"{self.year}-{self.month:02d}"


@dataclass(frozen=True)
class YearRow:
    """A project year with the names a reminder shows."""
    id: int
    project_id: int
    project: str
    unit: str
    year: int
    periods: str


QUARTERS = {3: "第一季度", 6: "第二季度", 9: "第三季度", 12: "第四季度"}


def period_label(year: int, month: int, quarterly: bool, today: date, with_year: bool = False) -> str:
    name = QUARTERS[month] if quarterly else f"{month}月"
    return f"{year}年{name}" if with_year or year != today.year else name


def open_periods(today: date, deadline_day: int, horizon_days: int) -> list[Period]:
    """Periods a cycle may remind of: deadline in the current calendar year (last year's
    December included) and no later than `horizon_days` ahead."""
    periods = []
    for year in (today.year - 1, today.year):
        cal = YearCalendar(year, deadline_day=deadline_day)
        for month in range(1, 13):
            deadline = cal.deadline(month)
            if date(today.year, 1, 1) <= deadline <= today + timedelta(days=horizon_days):
                periods.append(Period(year, month, deadline))
    return periods


def digest_week(today: date, weekday: int) -> tuple[date, str]:
    """The latest digest day on or before today, and its ISO week (the notice's period): a
    missed digest day is caught up within its week, and at most one digest goes out per week
    even when an admin moves the weekday."""
    day = today - timedelta(days=(today.weekday() - weekday) % 7)
    iso = day.isocalendar()
    return day, f"{iso.year}-W{iso.week:02d}"


def digest_years(today: date) -> set[int]:
    """The years a digest covers: the current one, and in January also last year's, whose
    December is due now (loaded even while no period of last year is being reminded of)."""
    return {today.year, today.year - 1} if today.month == 1 else {today.year}


class _Data:
    """The stored data a cycle reads, loaded once and shared by every recipient."""

    def __init__(self, session: Session, today: date, periods: list[Period], settings: Mapping):
        self.session, self.today, self.settings = session, today, settings
        self.years = sorted({p.year for p in periods} | digest_years(today))
        rows = session.exec(
            select(ProjectYear.id, Project.id, Project.name, Unit.name, ProjectYear.year, ProjectYear.periods)
            .join(Project, Project.id == ProjectYear.project_id).join(Unit, Unit.id == Project.unit_id)
            .where(ProjectYear.year.in_(self.years)))
        self.year_rows = {r[0]: YearRow(*r) for r in rows}
        self.indicators: dict[int, list[tuple[int, str, int]]] = defaultdict(list)
        for ind_id, py_id, annual_name, period_name, position in session.exec(
                select(Indicator.id, Indicator.project_year_id, Indicator.annual_level3, Indicator.period_level3,
                       Indicator.position)
                .join(ProjectYear, ProjectYear.id == Indicator.project_year_id)
                .where(ProjectYear.year.in_(self.years), Indicator.retired_at.is_(None),
                       Indicator.annual_raw.is_not(None))
                .order_by(Indicator.project_year_id, Indicator.position)):
            self.indicators[py_id].append((ind_id, annual_name or period_name or "", position))   # Indicator.name
        self.actuals = set(session.exec(
            select(Actual.indicator_id, Actual.month).join(Indicator, Indicator.id == Actual.indicator_id)
            .join(ProjectYear, ProjectYear.id == Indicator.project_year_id)
            .where(ProjectYear.year.in_(self.years))))
        self.spending = set(session.exec(
            select(Spending.project_year_id, Spending.month)
            .join(ProjectYear, ProjectYear.id == Spending.project_year_id)
            .where(ProjectYear.year.in_(self.years))))
        self._states: dict[int, list[Item]] = {}

    def in_scope(self, user: User) -> list[YearRow]:
        ids = self.session.exec(select(ProjectYear.id).join(Project, Project.id == ProjectYear.project_id)
                                .where(visible_years(user), ProjectYear.year.in_(self.years)))
        return sorted((self.year_rows[i] for i in ids if i in self.year_rows),
                      key=lambda r: (r.unit, r.project, r.year))

    def missing(self, row: YearRow, period: Period, light: str) -> list[Item]:
        """The entries of `period` the project year lacks (none when the period is not one of
        its reporting periods)."""
        if row.year != period.year or not YearCalendar(row.year, row.periods).is_period(period.month):
            return []
        label = period_label(row.year, period.month, row.periods == rules.QUARTERLY, self.today, with_year=True)
        items = [Item(row.unit, row.project, row.project_id, row.year, name, label, light, position)
                 for ind_id, name, position in self.indicators.get(row.id, [])
                 if (ind_id, period.month) not in self.actuals]
        if (row.id, period.month) not in self.spending:
            items.append(Item(row.unit, row.project, row.project_id, row.year, BUDGET, label, light, 10**6))
        return items

    def alarming(self, row: YearRow) -> list[Item]:
        """Red and grey lights of a project year today (the digest), as the domain judges them,
        and its indicators marked 超额 (light OVER_MARK)."""
        if row.id not in self._states:
            py = self.session.get(ProjectYear, row.id)
            quarterly = row.periods == rules.QUARTERLY
            items = []
            year = year_state(self.session, py, self.today, config=self.settings)
            for state in year.indicators:
                if state.light in (rules.RED, rules.GREY):
                    month = state.status.period
                    items.append(Item(row.unit, row.project, row.project_id, row.year, state.indicator.name,
                                      period_label(row.year, month, quarterly, self.today, with_year=True),
                                      state.light, state.indicator.position))
            budget = year.budget
            if budget.light in (rules.RED, rules.GREY):
                month = budget.status.period
                items.append(Item(row.unit, row.project, row.project_id, row.year, BUDGET,
                                  period_label(row.year, month, quarterly, self.today, with_year=True),
                                  budget.light, 10**6))
            items += [Item(row.unit, row.project, row.project_id, row.year, state.indicator.name,
                           period_label(row.year, state.status.shown, quarterly, self.today, with_year=True),
                           OVER_MARK, state.indicator.position)
                      for state in year.indicators if state.over]
            self._states[row.id] = items
        return self._states[row.id]


def _notice_label(rows: Iterable[YearRow], period: Period, today: date) -> str:
    quarterly = all(r.periods == rules.QUARTERLY for r in rows)
    return period_label(period.year, period.month, quarterly and period.month in QUARTERS, today)


def plan(session: Session, now: datetime, settings: ReminderSettings,
         config: CycleConfig) -> list[tuple[User, list[Notice]]]:
    """Every notice due at `now` for every recipient, sent before or not (queueing filters)."""
    today = config.today(now)
    periods = open_periods(today, config.deadline_day, settings.due_soon_days)
    data = _Data(session, today, periods, config.core_settings)
    monitoring = MonitoringData(session, today, config.rounds)
    users = session.exec(select(User).where(User.is_active.is_(True), User.email.is_not(None),
                                            User.role.in_(("manager", "supervisor"))).order_by(User.id)).all()
    planned = []
    for user in users:
        if not (user.email or "").strip():
            continue
        rows = data.in_scope(user)
        if user.role == "manager":
            notices = _manager_notices(user, rows, periods, data, settings, today)
        else:
            notices = _supervisor_notices(user, rows, periods, data, settings, today)
        notices += monitoring_notices(monitoring, user, settings)
        if notices:
            planned.append((user, notices))
    return planned


def _manager_notices(user, rows, periods, data: _Data, settings: ReminderSettings, today: date) -> list[Notice]:
    notices = []
    for period in periods:
        days_left = (period.deadline - today).days
        if 0 <= days_left <= settings.due_soon_days and settings.due_soon_enabled:
            kind, light = DUE_SOON, MISSING
        elif days_left < 0 and settings.overdue_enabled:
            kind, light = OVERDUE, rules.GREY
        else:
            continue
        involved = [r for r in rows if r.year == period.year and YearCalendar(r.year, r.periods).is_period(period.month)]
        items = [item for r in involved for item in data.missing(r, period, light)]
        if items:
            notices.append(Notice(kind, user.id, period.key, _notice_label(involved, period, today), items,
                                  period.deadline, abs(days_left)))
    return notices


def _supervisor_notices(user, rows, periods, data: _Data, settings: ReminderSettings, today: date) -> list[Notice]:
    notices = []
    if settings.escalation_enabled:
        for period in periods:
            late = (today - period.deadline).days
            if late <= settings.escalation_days:
                continue
            involved = [r for r in rows if r.year == period.year and YearCalendar(r.year, r.periods).is_period(period.month)]
            items = []
            for r in involved:
                missing = data.missing(r, period, rules.GREY)
                if missing:
                    items.append(Item(r.unit, r.project, r.project_id, r.year, f"{len(missing)}项未填报",
                                      missing[0].period, rules.GREY))
            if items:
                notices.append(Notice(ESCALATION, user.id, period.key, _notice_label(involved, period, today),
                                      items, period.deadline, late, settings.escalation_days))
    if settings.digest_enabled:
        day, week = digest_week(today, settings.digest_weekday)
        years = digest_years(today)
        items = [item for r in rows if r.year in years for item in data.alarming(r)]
        if any(item.light != OVER_MARK for item in items):
            notices.append(Notice(DIGEST, user.id, week, f"{day.month}月{day.day}日", items, None, None))
    return notices


# --------------------------------------------------------------------------- queueing

@dataclass
class Queued:
    message_id: int
    key: str
    to: str
    subject: str
    notices: list[str]


def message_key(user_id: int, notices: list[Notice]) -> str:
    """Derived from the notices, so two cycles that plan the same message collide on it."""
    joined = "+".join(sorted(n.key for n in notices))
    if len(joined) <= 255:
        return joined
    return f"user-{user_id}:" + hashlib.sha256(joined.encode()).hexdigest()[:40]


def recipient(user: User) -> str:
    from email.headerregistry import Address
    try:
        return str(Address(display_name=user.label, addr_spec=user.email.strip()))
    except (ValueError, IndexError, TypeError):
        return user.email.strip()      # delivery will refuse it and mark the message failed


def enqueue(engine: Engine, user: User, notices: list[Notice], now: datetime, config: CycleConfig) -> Queued | None:
    """Queue one message with the user's notices not queued before, and record those notices,
    in one transaction. Losing a race against another cycle (a unique key) rolls back this
    user's insert, and the next try plans without what the other cycle queued."""
    for _ in range(3):
        with Session(engine, expire_on_commit=False) as session:
            try:
                with transaction(session):
                    done = set(session.exec(select(SentNotice.kind, SentNotice.period)
                                            .where(SentNotice.user_id == user.id)))
                    fresh = [n for n in notices if (n.kind, n.period) not in done]
                    if not fresh:
                        return None
                    mail = compose(user, fresh, config.today(now), config.base_url)
                    message = OutboxMessage(
                        key=message_key(user.id, fresh), kind="+".join(sorted({n.kind for n in fresh}))[:60],
                        user_id=user.id, to_address=recipient(user)[:300], subject=mail.subject[:500],
                        text_body=mail.text, html_body=mail.html, next_attempt_at=now, created_at=now)
                    session.add(message)
                    session.flush()
                    for n in fresh:
                        session.add(SentNotice(kind=n.kind, user_id=user.id, period=n.period,
                                               message_id=message.id, created_at=now))
                return Queued(message.id, message.key, message.to_address, message.subject, [n.key for n in fresh])
            except IntegrityError:
                log.info("用户 %s 的提醒已由另一个进程加入发件箱，重新核对", user.username)
    return None


# --------------------------------------------------------------------------- delivery

@dataclass
class Delivered:
    message_id: int
    to: str
    subject: str
    status: str
    detail: str


@dataclass
class DeliveryReport:
    configured: bool = True
    results: list[Delivered] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


def deliver_due(engine: Engine, now: datetime, config: CycleConfig) -> DeliveryReport:
    """Send every pending message due at `now`. Each is claimed by a conditional update and
    committed before the network is touched; the result is recorded afterwards against that
    claim. Without SMTP settings nothing is sent: the mail stays in the outbox."""
    if config.smtp is None:
        return DeliveryReport(configured=False)
    report = DeliveryReport()
    with Session(engine) as session:
        ids = due_message_ids(session, now)
    for message_id in ids:
        result = deliver_one(engine, message_id, now, config)
        if result is not None:
            report.results.append(result)
    return report


def deliver_one(engine: Engine, message_id: int, now: datetime, config: CycleConfig,
                send: Callable = mailer.send) -> Delivered | None:
    by = claimant()
    with Session(engine, expire_on_commit=False) as session:
        with transaction(session):
            if not claim(session, message_id, now, by):
                return None            # another process has it, or it is no longer due
        message = session.get(OutboxMessage, message_id)
        session.commit()               # no transaction stays open while the network is used
    try:
        email = mailer.build_message(to=message.to_address, subject=message.subject, text=message.text_body,
                                     html=message.html_body, key=message.key, mail_from=config.smtp.mail_from,
                                     domain=config.mail_domain, now=now)
    except ValueError as exc:
        result = mailer.SendResult("failed", f"邮件无法生成（收件地址或标题有误）：{exc}"[:300])
    else:
        result = send(email, config.smtp)
    result = mailer.apply_attempt_limit(result, message.attempts)
    retry_at = now + mailer.next_attempt_delay(message.attempts) if result.status == "retry" else None
    with Session(engine) as session, transaction(session):
        recorded = record_result(session, message_id, by, result.status, result.detail, now, retry_at)
    if not recorded:
        log.warning("发件箱 #%s 的发送结果未记录：该邮件已被管理员重置", message_id)
    log.info("发件箱 #%s → %s：%s %s", message_id, message.to_address, result.status, result.detail)
    return Delivered(message_id, message.to_address, message.subject, result.status, result.detail)


# --------------------------------------------------------------------------- the cycle

@dataclass
class CycleReport:
    as_of: datetime
    enabled: bool
    queued: list[Queued] = field(default_factory=list)
    delivery: DeliveryReport | None = None

    @property
    def note(self) -> str | None:
        if not self.enabled:
            return "提醒已停用：未生成也未发送邮件"
        if self.delivery is not None and not self.delivery.configured:
            return "未配置 SMTP_HOST：邮件保留在发件箱"
        return None


def raise_alerts(session: Session, now: datetime, config: CycleConfig) -> int:
    """Every unit's alerts as of today, from the domain core: overdue ones are raised here,
    whoever has signed in (pages only read)."""
    from services import alerts
    today = config.today(now)
    with transaction(session):
        return alerts.sync(session, alerts.current_project_years(session, today), today, now, config.core_settings)


def run_cycle(engine: Engine, now: datetime, config: CycleConfig, settings: ReminderSettings | None = None,
              deliver: bool = True) -> CycleReport:
    """One cycle as if it were `now` (aware). Running it again for the same moment queues
    nothing new; delivery picks up whatever is pending and due, from this cycle or before."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    with Session(engine, expire_on_commit=False) as session:
        raise_alerts(session, now, config)
        settings = settings or load_settings(session)
        if not settings.enabled:
            return CycleReport(now, enabled=False)
        planned = plan(session, now, settings, config)
    report = CycleReport(now, enabled=True)
    for user, notices in planned:
        queued = enqueue(engine, user, notices, now, config)
        if queued is not None:
            log.info("已加入发件箱 #%s → %s：%s", queued.message_id, queued.to, queued.subject)
            report.queued.append(queued)
    if deliver:
        report.delivery = deliver_due(engine, now, config)
    return report


def run_recorded(engine: Engine, config: CycleConfig, trigger: str, as_of: datetime,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 ) -> tuple[SchedulerRun, CycleReport | None]:
    """`run_cycle`, with a scheduler_run row for the admin page and /healthz; an error is
    recorded (and logged), not raised."""
    with Session(engine, expire_on_commit=False) as session:
        with transaction(session):
            run = SchedulerRun(trigger=trigger, as_of=as_of, started_at=clock())
            session.add(run)
    report, error = None, None
    try:
        report = run_cycle(engine, as_of, config)
    except Exception as exc:      # the run is recorded as failed; the scheduler keeps going
        log.exception("提醒周期出错")
        error = f"{type(exc).__name__}: {exc}"[:2000]
    with Session(engine, expire_on_commit=False) as session:
        with transaction(session):
            run = session.get(SchedulerRun, run.id)
            run.finished_at, run.error = clock(), error
            if report is not None:
                run.messages_created = len(report.queued)
                if report.delivery is not None:
                    run.messages_sent = report.delivery.count("sent")
                    run.messages_retry = report.delivery.count("retry")
                    run.messages_failed = report.delivery.count("failed")
                run.note = report.note
            session.add(run)
    return run, report
