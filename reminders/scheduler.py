"""The scheduler process, `flask reminders run`: never part of a web worker.

One APScheduler 3 `BlockingScheduler` (Asia/Shanghai) with three jobs, all `coalesce=True`,
`max_instances=1` and a misfire grace time of six hours (a process suspended over 09:00
still runs the cycle once when it wakes):

- "daily-cycle", a cron job at the admins' daily time (提醒设置, default 09:00): the cycle of
  reminders/cycle.py — plan, queue, deliver.
- "tick", every minute: applies a changed daily time (reschedules the cron job), runs a cycle
  that fell due without running (see below), and delivers pending mail whose retry time has
  come — the mailer's backoff (1, 2, 4 … minutes) is meaningless if delivery ran once a day.
- "housekeeping", every hour: deletes uploads never confirmed, old export files and old login
  attempts (models/housekeeping.py). Not part of a web worker either: one process does it.

A cycle is *due* when the latest daily moment (today's or yesterday's HH:MM) has passed and
no scheduled run started at or after it; a failed run is retried after RETRY_FAILED_RUN_AFTER.
On start, a due cycle runs at once (the catch-up after downtime); the tick catches one up that
the cron job missed for longer than two minutes (the time was moved to a moment already past,
the process was stopped over it). One lock serialises cycles inside the process; the
outbox's unique keys and claims make a cycle of another process (`flask reminders send`)
harmless too.

Only one scheduler per instance directory: an exclusive `fcntl` lock on instance/scheduler.lock
(`SCHEDULER_LOCK` names another file), held while the process lives and released by the
kernel when it dies, so a crash never leaves a stale lock behind.
"""
from __future__ import annotations

import fcntl
import logging
import os
import signal
import socket
import threading
from contextlib import contextmanager
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.housekeeping import Housekeeping, clean_up
from models.outbox import SchedulerRun, last_scheduled_run
from reminders.cycle import CycleConfig, deliver_due, run_recorded
from reminders.settings import ReminderSettings, load as load_settings

log = logging.getLogger("reminders.scheduler")

MISFIRE_GRACE_SECONDS = 6 * 3600
JOB_OPTIONS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS}
TICK_SECONDS = 60
TICK_CATCH_UP_AFTER = timedelta(minutes=2)      # leave the moment itself to the cron job
RETRY_FAILED_RUN_AFTER = timedelta(minutes=30)
HOUSEKEEPING_EVERY = timedelta(hours=1)
DAILY_JOB, TICK_JOB, HOUSEKEEPING_JOB = "daily-cycle", "tick", "housekeeping"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class AlreadyRunning(RuntimeError):
    pass


@contextmanager
def single_instance(path: Path):
    """Hold an exclusive lock on `path` for the duration; AlreadyRunning if another holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o644), "r+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = handle.read().strip()
        handle.close()
        raise AlreadyRunning(f"另一个提醒调度进程正在运行（{holder or path}），本进程退出") from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        yield
    finally:
        handle.close()       # closing releases the lock


def last_due_moment(now: datetime, run_at: time, tz: ZoneInfo) -> datetime:
    """The latest daily run moment at or before `now`."""
    local = now.astimezone(tz)
    moment = datetime.combine(local.date(), run_at, tzinfo=tz)
    if moment > local:
        moment = datetime.combine(local.date() - timedelta(days=1), run_at, tzinfo=tz)
    return moment


def cycle_due(last: SchedulerRun | None, now: datetime, run_at: time, tz: ZoneInfo,
              min_lateness: timedelta = timedelta(0)) -> bool:
    due = last_due_moment(now, run_at, tz)
    if now - due < min_lateness:
        return False
    if last is None or last.started_at < due:
        return True
    return not last.succeeded and now - last.started_at >= RETRY_FAILED_RUN_AFTER


class ReminderScheduler:
    def __init__(self, engine: Engine, config: CycleConfig, housekeeping: Housekeeping,
                 clock: Callable[[], datetime] = utcnow, scheduler: BaseScheduler | None = None):
        self.engine, self.config, self.housekeeping_settings, self.clock = engine, config, housekeeping, clock
        self.tz = ZoneInfo(config.timezone)
        self.scheduler = scheduler or BlockingScheduler(timezone=config.timezone, job_defaults=JOB_OPTIONS)
        self.run_at: time | None = None
        self._cycle = threading.Lock()

    def settings(self) -> ReminderSettings:
        with Session(self.engine) as session:
            return load_settings(session)

    def _daily_trigger(self, run_at: time) -> CronTrigger:
        return CronTrigger(hour=run_at.hour, minute=run_at.minute, timezone=self.tz)

    def setup(self) -> SchedulerRun | None:
        """Add the jobs, and run the cycle now if one fell due while no scheduler ran."""
        self.run_at = self.settings().run_at
        self.scheduler.add_job(self.daily, self._daily_trigger(self.run_at), id=DAILY_JOB,
                               name="每日提醒周期", replace_existing=True, **JOB_OPTIONS)
        self.scheduler.add_job(self.tick, IntervalTrigger(seconds=TICK_SECONDS, timezone=self.tz), id=TICK_JOB,
                               name="发送到期邮件", replace_existing=True, **JOB_OPTIONS)
        self.scheduler.add_job(self.housekeeping, IntervalTrigger(seconds=HOUSEKEEPING_EVERY.total_seconds(),
                                                                  timezone=self.tz),
                               id=HOUSEKEEPING_JOB, name="定时清理", replace_existing=True, **JOB_OPTIONS)
        log.info("提醒调度已启动：每天 %s（%s）运行提醒周期", self.run_at.strftime("%H:%M"), self.config.timezone)
        log.info("定时清理已启动：每小时删除%s", self.housekeeping_settings.describe())
        if self.config.smtp is None:
            log.warning("未配置 SMTP_HOST：提醒邮件保留在发件箱，不会发送")
        if self.config.base_url_warning:
            log.warning(self.config.base_url_warning)
        return self.run_if_due("catch-up")

    def run(self) -> None:
        """Block until SIGTERM or Ctrl-C; a cycle in progress finishes first."""
        def stop(signum, _frame):
            raise SystemExit(0)
        signal.signal(signal.SIGTERM, stop)
        self.setup()
        try:
            self.scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=True)
            log.info("提醒调度已停止")

    def run_if_due(self, trigger: str, min_lateness: timedelta = timedelta(0)) -> SchedulerRun | None:
        with self._cycle:
            now = self.clock()
            with Session(self.engine) as session:
                last = last_scheduled_run(session)
            if not cycle_due(last, now, self.run_at, self.tz, min_lateness):
                return None
            run, report = run_recorded(self.engine, self.config, trigger, now, self.clock)
            if run.error:
                log.error("提醒周期失败：%s", run.error)
            else:
                log.info("提醒周期完成（%s）：新邮件 %d 封，已发送 %d，稍后重试 %d，失败 %d%s", run.trigger_label,
                         run.messages_created, run.messages_sent, run.messages_retry, run.messages_failed,
                         f"；{run.note}" if run.note else "")
            return run

    def daily(self) -> None:
        self.run_if_due("daily")
        self.reschedule_if_changed()

    def tick(self) -> None:
        settings = self.reschedule_if_changed()
        if self.run_if_due("catch-up", TICK_CATCH_UP_AFTER) is None and settings.enabled:
            with self._cycle:
                deliver_due(self.engine, self.clock(), self.config)

    def housekeeping(self) -> None:
        with Session(self.engine, expire_on_commit=False) as session:
            cleaned = clean_up(session, self.housekeeping_settings, self.clock())
        log.info("定时清理完成：%s", cleaned.summary())

    def reschedule_if_changed(self) -> ReminderSettings:
        settings = self.settings()
        if settings.run_at != self.run_at:
            log.info("每日运行时间改为 %s", settings.daily_time)
            self.run_at = settings.run_at
            self.scheduler.reschedule_job(DAILY_JOB, trigger=self._daily_trigger(self.run_at))
        return settings
