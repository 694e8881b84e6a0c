"""The scheduler process (reminders/scheduler.py): when a cycle is due, the catch-up after
downtime, the daily job, a changed daily time, retries delivered by the tick, the lock that
keeps to one scheduler, and `flask reminders run` as a real process."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from time import time as wall
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from conftest import SECRET_KEY
from models.db import transaction
from models.outbox import ReminderSetting, SchedulerRun
from reminders.cycle import CycleConfig
from models.housekeeping import Housekeeping
from reminders.scheduler import (DAILY_JOB, HOUSEKEEPING_JOB, MISFIRE_GRACE_SECONDS, TICK_JOB, AlreadyRunning,
                                 ReminderScheduler, cycle_due, last_due_moment, single_instance)
from test_mailer import BusyOnce, Mailbox, smtp_server
from test_reminders_cycle import BASE_URL, EMAILS, at, messages, notices, reminder_data, set_emails

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
NINE = datetime(2023, 1, 1, 9, 0).time()


@pytest.fixture
def reminders(personas, seeded):
    """The data of test_reminders_cycle.py: (app, personas)."""
    return reminder_data(seeded, personas)


class Clock:
    def __init__(self, moment: datetime):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def scheduler_for(app, clock: Clock, port: int | None = None) -> ReminderScheduler:
    from reminders.mailer import SmtpSettings
    smtp = SmtpSettings(host="127.0.0.1", port=port, security="none", timeout_seconds=10,
                        mail_from="绩效目标跟踪 <noreply@jixiao.test>") if port else None
    return ReminderScheduler(app.extensions["engine"], CycleConfig(base_url=BASE_URL, smtp=smtp),
                             Housekeeping.from_mapping(app.config), clock)


def runs(app) -> list[SchedulerRun]:
    with Session(app.extensions["engine"]) as session:
        return list(session.exec(select(SchedulerRun).order_by(SchedulerRun.id)))


def ran_at(app, moment: datetime, trigger: str = "daily") -> None:
    with Session(app.extensions["engine"]) as session, transaction(session):
        session.add(SchedulerRun(trigger=trigger, as_of=moment, started_at=moment, finished_at=moment))


# --------------------------------------------------------------------------- when a cycle is due

def test_the_due_moment_is_todays_run_time_once_it_has_passed_else_yesterdays():
    assert last_due_moment(at(6, hour=8), NINE, SHANGHAI) == at(5)
    assert last_due_moment(at(6, hour=9), NINE, SHANGHAI) == at(6)
    assert last_due_moment(at(6, hour=23), NINE, SHANGHAI) == at(6)
    assert last_due_moment(datetime(2023, 8, 6, 0, 30, tzinfo=timezone.utc), NINE, SHANGHAI) == at(5)   # 08:30 there
    assert last_due_moment(datetime(2023, 8, 6, 1, 30, tzinfo=timezone.utc), NINE, SHANGHAI) == at(6)


def test_a_cycle_is_due_when_no_run_started_since_the_due_moment():
    def run(started, error=None, finished=True):
        return SchedulerRun(trigger="daily", as_of=started, started_at=started,
                            finished_at=started if finished else None, error=error)
    assert cycle_due(None, at(6, hour=10), NINE, SHANGHAI)                     # never ran
    assert cycle_due(run(at(5)), at(6, hour=10), NINE, SHANGHAI)               # yesterday's run only
    assert not cycle_due(run(at(6)), at(6, hour=10), NINE, SHANGHAI)           # today's done
    assert not cycle_due(run(at(5, hour=10)), at(6, hour=8), NINE, SHANGHAI)   # today's not yet come
    failed = run(at(6), error="OperationalError")
    assert not cycle_due(failed, at(6) + timedelta(minutes=10), NINE, SHANGHAI)
    assert cycle_due(failed, at(6) + timedelta(minutes=30), NINE, SHANGHAI)     # a failed run is retried
    assert not cycle_due(run(at(5)), at(6) + timedelta(minutes=1), NINE, SHANGHAI, timedelta(minutes=2))


# --------------------------------------------------------------------------- the jobs

def test_the_scheduler_has_a_daily_cron_job_and_a_tick_both_coalescing_and_single(app):
    scheduler = scheduler_for(app, Clock(at(6, hour=8)))
    scheduler.setup()
    daily, tick = scheduler.scheduler.get_job(DAILY_JOB), scheduler.scheduler.get_job(TICK_JOB)
    assert str(daily.trigger) == "cron[hour='9', minute='0']"
    assert str(daily.trigger.timezone) == "Asia/Shanghai"
    assert str(scheduler.scheduler.timezone) == "Asia/Shanghai"
    for job in (daily, tick):
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == MISFIRE_GRACE_SECONDS
    assert MISFIRE_GRACE_SECONDS >= 3 * 3600


def test_the_scheduler_warns_in_its_log_when_mails_would_link_to_this_machine(app, caplog):
    warning = "未设置 BASE_URL：邮件中的链接指向 http://127.0.0.1:5000"
    local = ReminderScheduler(app.extensions["engine"], CycleConfig(), Housekeeping.from_mapping(app.config),
                              Clock(at(6, hour=8)))
    with caplog.at_level("WARNING", logger="reminders"):
        local.setup()
    assert any(warning in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level("WARNING", logger="reminders"):
        scheduler_for(app, Clock(at(6, hour=8))).setup()            # BASE_URL set
    assert not any("BASE_URL" in r.getMessage() for r in caplog.records)


def test_the_scheduler_cleans_up_every_hour(app):
    """The housekeeping job of models/housekeeping.py, with the scheduler's clock as `now`."""
    from models.user import LoginAttempt
    scheduler = scheduler_for(app, Clock(at(6)))
    scheduler.setup()
    job = scheduler.scheduler.get_job(HOUSEKEEPING_JOB)
    assert job.trigger.interval == timedelta(hours=1) and str(job.trigger.timezone) == "Asia/Shanghai"
    assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == MISFIRE_GRACE_SECONDS
    with Session(app.extensions["engine"]) as session, transaction(session):
        for old in (timedelta(days=2), timedelta(hours=1)):
            session.add(LoginAttempt(username="tianbao", address="10.0.0.1", at=at(6) - old))
    job.func()
    with Session(app.extensions["engine"]) as session:
        assert list(session.exec(select(LoginAttempt.at))) == [at(6) - timedelta(hours=1)]


def test_a_changed_daily_time_reschedules_the_job_at_the_next_tick(app):
    scheduler = scheduler_for(app, Clock(at(6, hour=10)))
    scheduler.setup()
    with Session(app.extensions["engine"]) as session, transaction(session):
        session.add(ReminderSetting(key="daily_time", value="18:30", updated_at=at(6), updated_by="admin"))
    scheduler.tick()
    assert str(scheduler.scheduler.get_job(DAILY_JOB).trigger) == "cron[hour='18', minute='30']"
    assert scheduler.run_at.strftime("%H:%M") == "18:30"


def test_the_daily_job_runs_the_cycle_once_per_day(reminders):
    app, p = reminders
    clock = Clock(at(5, hour=8))
    scheduler = scheduler_for(app, clock)
    ran_at(app, at(4))
    scheduler.setup()                              # started before 09:00: yesterday's run is enough
    assert len(runs(app)) == 1
    clock.moment = at(5)
    scheduler.daily()
    clock.moment = at(5) + timedelta(minutes=5)
    scheduler.daily()                              # a second firing the same day does nothing
    scheduler.tick()
    assert [(r.trigger, r.as_of, r.messages_created) for r in runs(app)[1:]] == [("daily", at(5), 4)]
    assert notices(app)["tianbao"] == ["manager-due-soon:2023-07"]


def test_a_run_that_failed_is_recorded_and_retried_later_by_the_tick(reminders, monkeypatch):
    import reminders.cycle as cycle
    app, p = reminders
    clock = Clock(at(6, hour=8))
    scheduler = scheduler_for(app, clock)
    ran_at(app, at(5))
    scheduler.setup()
    clock.moment = at(6)
    original = cycle.run_cycle
    monkeypatch.setattr(cycle, "run_cycle", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("数据库不可用")))
    scheduler.daily()
    assert runs(app)[-1].error == "RuntimeError: 数据库不可用"
    monkeypatch.setattr(cycle, "run_cycle", original)
    clock.moment = at(6) + timedelta(minutes=31)
    scheduler.tick()
    last = runs(app)[-1]
    assert last.trigger == "catch-up" and last.succeeded and last.messages_created == 4


# --------------------------------------------------------------------------- restart after downtime

def test_a_restart_after_downtime_sends_each_message_that_fell_due_once(reminders):
    """Down from 1 August (its last run) to Saturday 12 August 10:00: on start, one catch-up
    cycle sends July's overdue notices (its due-soon window has closed), the escalation (more
    than five days late) and this week's Monday digest — each once; starting again sends
    nothing."""
    app, p = reminders
    ran_at(app, at(1))
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        clock = Clock(at(12, hour=10))
        run = scheduler_for(app, clock, server.port).setup()
        assert run.trigger == "catch-up" and run.messages_created == 4 and run.messages_sent == 4

        clock.moment = at(12, hour=10) + timedelta(minutes=3)
        restarted = scheduler_for(app, clock, server.port)
        assert restarted.setup() is None
        restarted.tick()

    assert notices(app) == {
        "shenhe": ["supervisor-digest:2023-W32", "supervisor-escalation:2023-07"],
        "shenhe_all": ["supervisor-digest:2023-W32", "supervisor-escalation:2023-07"],
        "tianbao": ["manager-overdue:2023-07"],
        "tianbao_b": ["manager-overdue:2023-07"],
    }
    assert len(mailbox.envelopes) == 4
    assert sorted(e.rcpt_tos[0] for e in mailbox.envelopes) == sorted(
        EMAILS[name] for name in ("manager_a", "manager_b", "supervisor_a", "supervisor_all"))
    assert all(m.state == "sent" for m in messages(app))


def test_the_tick_delivers_a_retry_when_its_time_comes(reminders):
    app, p = reminders
    set_emails(app, p, {name: (address if name == "manager_a" else None) for name, address in EMAILS.items()})
    mailbox = BusyOnce()
    with smtp_server(mailbox) as server:
        clock = Clock(at(6))
        scheduler = scheduler_for(app, clock, server.port)
        ran_at(app, at(5))
        scheduler.setup()
        scheduler.daily()
        assert [m.state for m in messages(app)] == ["pending"]
        clock.moment = at(6) + timedelta(minutes=1)
        scheduler.tick()
    assert [m.state for m in messages(app)] == ["sent"]
    assert len(mailbox.envelopes) == 1


# --------------------------------------------------------------------------- one scheduler only

def test_the_lock_refuses_a_second_scheduler_and_is_free_again_afterwards(tmp_path):
    lock = tmp_path / "scheduler.lock"
    with single_instance(lock):
        assert f"pid {os.getpid()}" in lock.read_text()
        with pytest.raises(AlreadyRunning, match="另一个提醒调度进程正在运行"):
            with single_instance(lock):
                pass
    with single_instance(lock):
        pass


def _scheduler_process(app, lock: Path) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SMTP_", "MAIL_"))}
    env.update(DATABASE_URL=app.config["DATABASE_URL"], SECRET_KEY=app.config["SECRET_KEY"],
               SCHEDULER_LOCK=str(lock), PYTHONUNBUFFERED="1", ENV="production", UPLOAD_DIR=app.config["UPLOAD_DIR"])
    flask = Path(sys.executable).parent / "flask"
    return subprocess.Popen([str(flask), "--app", "app", "reminders", "run"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_flask_reminders_run_catches_up_at_once_refuses_a_second_instance_and_stops_on_sigterm(app, tmp_path):
    lock = tmp_path / "scheduler.lock"
    first = _scheduler_process(app, lock)
    try:
        deadline = wall() + 60
        while not [r for r in runs(app) if r.finished_at] and wall() < deadline and first.poll() is None:
            time.sleep(0.2)
        [run] = runs(app)
        assert run.trigger == "catch-up" and run.succeeded       # never ran before: it ran on start

        second = _scheduler_process(app, lock)
        out, err = second.communicate(timeout=60)
        assert second.returncode == 1
        assert "另一个提醒调度进程正在运行" in err

        first.send_signal(signal.SIGTERM)
        out, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
    assert first.returncode == 0, err
    assert "提醒调度已启动：每天 09:00（Asia/Shanghai）运行提醒周期" in out
    assert "未配置 SMTP_HOST：提醒邮件保留在发件箱，不会发送" in out
    assert "定时清理已启动：每小时删除超过 24 小时未确认的导入、超过 7 天的导出文件和过期的登录记录" in out
    assert "提醒调度已停止" in out
    assert len(runs(app)) == 1


def test_the_web_app_neither_starts_nor_imports_the_scheduler(tmp_path):
    """Web workers serve pages; the scheduler is its own process (`flask reminders run`)."""
    code = ("import sys, threading; from app import create_app; create_app({'DATABASE_URL': 'sqlite:///%s'}); "
            "print(sorted(m for m in sys.modules if m.startswith('apscheduler')), threading.active_count())"
            % (tmp_path / "web.db"))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "SECRET_KEY": SECRET_KEY})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]", "1"]
