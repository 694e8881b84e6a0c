"""Delivering the outbox over real SMTP servers on loopback (aiosmtpd, the servers of
test_mailer.py): what arrives, retries and failures, a stalled server, a crash between claim
and send, and two cycles at once in two processes sending each message once."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from models.db import transaction
from models.outbox import OutboxMessage, SentNotice, claim
from reminders.cycle import CycleConfig, deliver_due, run_cycle
from reminders.mailer import MAX_ATTEMPTS, SmtpSettings, message_id_for
from reminders.settings import ReminderSettings
from test_mailer import BusyOnce, Mailbox, NoSuchUser, StallsAfterBody, free_port, smtp_server
from test_reminders_cycle import BASE_URL, EMAILS, at, message_to, messages, reminder_data, set_emails

ROOT = Path(__file__).resolve().parent.parent
MAIL_FROM = "绩效目标跟踪 <noreply@jixiao.test>"
ONLY_OVERDUE = ReminderSettings(due_soon_enabled=False, digest_enabled=False, escalation_enabled=False)


@pytest.fixture
def reminders(personas, seeded):
    """The data of test_reminders_cycle.py: (app, personas)."""
    return reminder_data(seeded, personas)


def config_for(port: int, timeout: float = 10.0) -> CycleConfig:
    """10 s: a loaded machine must not turn a server's answer into a timeout (the stall test
    asks for 1 s)."""
    return CycleConfig(deadline_day=5, base_url=BASE_URL, smtp=SmtpSettings(
        host="127.0.0.1", port=port, security="none", timeout_seconds=timeout, mail_from=MAIL_FROM))


def only_manager_a(app, personas):
    """One recipient, for tests about one message."""
    set_emails(app, personas, {name: (address if name == "manager_a" else None) for name, address in EMAILS.items()})


def engine_of(app):
    return app.extensions["engine"]


# --------------------------------------------------------------------------- what arrives

def test_an_overdue_notice_arrives_with_chinese_subject_both_bodies_the_link_and_its_message_id(reminders):
    app, p = reminders
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        report = run_cycle(engine_of(app), at(6), config_for(server.port), ONLY_OVERDUE)
        again = run_cycle(engine_of(app), at(6), config_for(server.port), ONLY_OVERDUE)

    assert report.delivery.count("sent") == 2 and again.queued == [] and again.delivery.results == []
    assert len(mailbox.envelopes) == 2
    received = {m["To"].addresses[0].addr_spec: m for m in mailbox.messages()}
    mail = received["tianbao@unit-a.example"]
    stored = message_to(app, p.manager_a)
    assert mail["Subject"] == "【绩效目标跟踪】7月实际值已逾期（8月5日截止），尚有11项未填报"
    assert mail["To"].addresses[0].display_name == "填报人甲"
    assert mail["From"].addresses[0].addr_spec == "noreply@jixiao.test"
    assert mail["Message-ID"] == message_id_for(stored.key, "jixiao.test")
    assert mail["Date"].datetime == at(6)
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert text == stored.text_body and html == stored.html_body
    assert "参展面积｜2023年7月｜灰灯（逾期未填报）" in text
    link = f"{BASE_URL}/projects/{p.project_a}?year=2023"
    assert link in text and f'href="{link}"' in html
    assert "灰灯（逾期未填报）" in html and "#6e7781" in html
    assert stored.state == "sent" and stored.attempts == 1 and stored.sent_at == at(6)
    assert stored.last_error is None


def test_without_smtp_settings_mail_stays_in_the_outbox(reminders):
    app, p = reminders
    report = run_cycle(engine_of(app), at(6), CycleConfig(base_url=BASE_URL), ONLY_OVERDUE)
    assert report.note == "未配置 SMTP_HOST：邮件保留在发件箱"
    assert [m.state for m in messages(app)] == ["pending", "pending"]


# --------------------------------------------------------------------------- retries and failures

def test_a_451_is_retried_after_the_backoff_and_then_sent_once(reminders):
    app, p = reminders
    only_manager_a(app, p)
    mailbox = BusyOnce()
    with smtp_server(mailbox) as server:
        config = config_for(server.port)
        first = run_cycle(engine_of(app), at(6), config, ONLY_OVERDUE)
        [message] = messages(app)
        assert first.delivery.count("retry") == 1
        assert (message.state, message.attempts, message.last_error) == ("pending", 1, "服务器拒绝：451 4.3.0 try later")
        assert message.next_attempt_at == at(6) + timedelta(minutes=1)

        assert deliver_due(engine_of(app), at(6) + timedelta(seconds=30), config).results == []   # not due yet
        later = deliver_due(engine_of(app), at(6) + timedelta(minutes=1), config)

    assert [r.status for r in later.results] == ["sent"]
    [message] = messages(app)
    assert (message.state, message.attempts, message.last_error) == ("sent", 2, None)
    assert mailbox.data_commands == 2 and len(mailbox.envelopes) == 1


def test_a_550_fails_for_good_and_is_not_tried_again(reminders):
    app, p = reminders
    only_manager_a(app, p)
    mailbox = NoSuchUser()
    with smtp_server(mailbox) as server:
        config = config_for(server.port)
        report = run_cycle(engine_of(app), at(6), config, ONLY_OVERDUE)
        retried = deliver_due(engine_of(app), at(7), config)

    assert report.delivery.count("failed") == 1 and retried.results == []
    [message] = messages(app)
    assert message.state == "failed" and "550 5.1.1 no such user" in message.last_error
    assert mailbox.envelopes == []


def test_a_server_that_stalls_past_the_timeout_is_retried_and_the_cycle_returns_quickly(reminders):
    app, p = reminders
    only_manager_a(app, p)
    with smtp_server(StallsAfterBody()) as server:
        started = time.monotonic()
        report = run_cycle(engine_of(app), at(6), config_for(server.port, timeout=1), ONLY_OVERDUE)
        elapsed = time.monotonic() - started

    assert elapsed < 5
    assert report.delivery.count("retry") == 1
    [message] = messages(app)
    assert message.state == "pending" and "1 秒内没有响应" in message.last_error


def test_after_the_last_attempt_a_retry_becomes_a_failure(reminders):
    app, p = reminders
    only_manager_a(app, p)
    config = config_for(free_port())          # nobody listens: a temporary failure each time
    run_cycle(engine_of(app), at(6), config, ONLY_OVERDUE)
    with Session(engine_of(app)) as session, transaction(session):
        session.exec(update(OutboxMessage).values(attempts=MAX_ATTEMPTS - 1))
    deliver_due(engine_of(app), at(7), config)
    [message] = messages(app)
    assert message.state == "failed" and message.attempts == MAX_ATTEMPTS
    assert f"已尝试 {MAX_ATTEMPTS} 次，不再重试" in message.last_error


def test_an_address_no_server_would_take_fails_without_stopping_the_others(reminders):
    app, p = reminders
    set_emails(app, p, {"manager_a": "填报人@单位.example", "manager_b": EMAILS["manager_b"]})
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        report = run_cycle(engine_of(app), at(6), config_for(server.port), ONLY_OVERDUE)
    assert sorted(r.status for r in report.delivery.results) == ["failed", "sent"]
    assert "邮件无法生成" in message_to(app, p.manager_a).last_error
    assert len(mailbox.envelopes) == 1


# --------------------------------------------------------------------------- a crash between claim and send

def test_a_message_claimed_by_a_process_that_died_is_never_sent_again_by_itself(reminders):
    """The claim was committed, then the process died before sending or recording: the row
    stays 'sending' (未知 on the admin page, test_reminders_admin.py) and no later delivery
    touches it, until an admin resends it."""
    from models.outbox import resend
    app, p = reminders
    only_manager_a(app, p)
    run_cycle(engine_of(app), at(6), CycleConfig(base_url=BASE_URL), ONLY_OVERDUE)   # queued, not sent
    [message] = messages(app)
    with Session(engine_of(app)) as session, transaction(session):
        assert claim(session, message.id, at(6), "dead-host:4242:0")
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        config = config_for(server.port)
        assert deliver_due(engine_of(app), at(7), config).results == []
        assert run_cycle(engine_of(app), at(8), config, ONLY_OVERDUE).delivery.results == []
        assert mailbox.envelopes == []
        [stuck] = messages(app)
        assert stuck.display_state(at(6) + timedelta(minutes=11)) == "unknown"

        with Session(engine_of(app)) as session, transaction(session):
            assert resend(session, message.id, at(8), "admin")
        delivered = deliver_due(engine_of(app), at(8), config)

    assert [r.status for r in delivered.results] == ["sent"]
    assert len(mailbox.envelopes) == 1
    [sent] = messages(app)
    assert sent.state == "sent" and sent.resent_by == "admin"


def test_a_claim_succeeds_once(reminders):
    app, p = reminders
    run_cycle(engine_of(app), at(6), CycleConfig(base_url=BASE_URL), ONLY_OVERDUE)
    first = messages(app)[0]
    with Session(engine_of(app)) as session, transaction(session):
        assert claim(session, first.id, at(6), "a")
        assert not claim(session, first.id, at(6), "b")


# --------------------------------------------------------------------------- two cycles at once

def _send_command(app, port: int, moment: str) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SMTP_", "MAIL_", "CLOCK"))}
    env.update(DATABASE_URL=app.config["DATABASE_URL"], SECRET_KEY=app.config["SECRET_KEY"], SMTP_HOST="127.0.0.1",
               SMTP_PORT=str(port), SMTP_SECURITY="none", SMTP_TIMEOUT="5", MAIL_FROM=MAIL_FROM, BASE_URL=BASE_URL,
               ENV="production", PYTHONUNBUFFERED="1")
    flask = Path(sys.executable).parent / "flask"
    return subprocess.Popen([str(flask), "--app", "app", "reminders", "send", "--now", moment], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_cycles_at_once_in_two_processes_send_each_message_once(reminders):
    app, p = reminders
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        processes = [_send_command(app, server.port, "2023-08-07T09:00") for _ in range(2)]
        outputs = [process.communicate(timeout=120) for process in processes]

    for process, (out, err) in zip(processes, outputs):
        assert process.returncode == 0, err
        assert "提醒周期：2023-08-07 09:00（Asia/Shanghai）" in out
    stored = messages(app)
    # Monday 7 August: both managers' overdue notices and both supervisors' digests
    assert len(stored) == 4 and all(m.state == "sent" for m in stored)
    ids = Counter(m["Message-ID"] for m in mailbox.messages())
    assert ids == Counter({message_id_for(m.key, "jixiao.test"): 1 for m in stored})
    queued = [int(match.group(1)) for out, _ in outputs for match in re.finditer(r"新加入发件箱 (\d+) 封", out)]
    assert sum(queued) == 4          # between them, each message queued once
    with Session(engine_of(app)) as session:
        assert len(session.exec(select(SentNotice)).all()) == 4

    # and again for the same moment: nothing new
    with smtp_server(mailbox) as server:
        process = _send_command(app, server.port, "2023-08-07T09:00")
        out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "没有新的提醒。" in out and "发送：已发送 0，稍后重试 0，失败 0" in out
    assert len(mailbox.envelopes) == 4


# --------------------------------------------------------------------------- the command

def test_the_send_command_prints_what_it_queued_and_says_when_mail_is_not_configured(reminders):
    app, p = reminders
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reminders", "send", "--now", "2023-08-06T09:00"])
    assert result.exit_code == 0, result.output
    assert "提醒周期：2023-08-06 09:00（Asia/Shanghai）" in result.output
    assert "新加入发件箱 4 封：" in result.output
    assert "填报人甲 <tianbao@unit-a.example>：【绩效目标跟踪】7月实际值已逾期（8月5日截止），尚有11项未填报" in result.output
    assert "未配置 SMTP_HOST：邮件保留在发件箱" in result.output

    again = runner.invoke(args=["reminders", "send", "--now", "2023-08-06T09:00+08:00"])
    assert again.exit_code == 0 and "没有新的提醒。" in again.output

    bad = runner.invoke(args=["reminders", "send", "--now", "八月六日"])
    assert bad.exit_code == 2 and "不是有效的时刻" in bad.output
