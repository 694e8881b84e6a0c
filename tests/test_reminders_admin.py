"""The admins' reminder pages (提醒设置, 发件箱) and what /healthz says about the scheduler."""
from __future__ import annotations

import html
from datetime import datetime, timedelta, timezone

from sqlmodel import Session, select

import pytest

from conftest import csrf_token, signed_in, text_of
from models.db import transaction
from models.outbox import ReminderSetting, SchedulerRun, claim
from reminders.cycle import CycleConfig, run_cycle
from reminders.settings import ReminderSettings
from test_reminders_cycle import BASE_URL, at, messages, reminder_data

ONLY_OVERDUE = ReminderSettings(due_soon_enabled=False, digest_enabled=False, escalation_enabled=False)
SETTINGS_FORM = {"enabled": "1", "daily_time": "09:00", "due_soon_enabled": "1", "due_soon_days": "3",
                 "overdue_enabled": "1", "digest_enabled": "1", "digest_weekday": "0", "escalation_enabled": "1",
                 "escalation_days": "5"}


@pytest.fixture
def reminders(personas, seeded):
    """The data of test_reminders_cycle.py: (app, personas)."""
    return reminder_data(seeded, personas)


def read(client, url: str) -> str:
    """The text a user reads on the page (entities decoded)."""
    return html.unescape(text_of(client.get(url).get_data(as_text=True)))


def freeze(app, moment: datetime) -> None:
    app.config["CLOCK"] = lambda: moment


def post_settings(client, **changes):
    data = {**SETTINGS_FORM, **changes, "csrf_token": csrf_token(client, "/admin/reminders")}
    return client.post("/admin/reminders", data={k: v for k, v in data.items() if v is not None})


def stored_settings(app) -> dict:
    with Session(app.extensions["engine"]) as session:
        return {row.key: row.value for row in session.exec(select(ReminderSetting))}


# --------------------------------------------------------------------------- 提醒设置

def test_the_settings_page_shows_the_defaults_that_mail_is_not_configured_and_no_runs_yet(client):
    page = text_of(client.get("/admin/reminders").get_data(as_text=True))
    assert "未配置邮件服务器（SMTP_HOST）：提醒邮件保留在 发件箱 中，不会发送" in page
    assert "调度进程尚未运行过" in page and "还没有运行记录" in page
    html = client.get("/admin/reminders").get_data(as_text=True)
    assert 'name="daily_time" value="09:00"' in html
    assert 'name="due_soon_days" value="3"' in html and 'name="escalation_days" value="5"' in html
    assert '<option value="0" selected>星期一</option>' in html


def test_settings_are_saved_and_only_what_changed_is_written(app, client):
    response = post_settings(client, daily_time="7:30", digest_weekday="4", escalation_enabled=None)
    assert response.status_code == 303
    page = text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "已保存提醒设置：每日运行时间、汇总发送日、逾期督办。调度进程将在一分钟内按新的运行时间安排。" in page
    assert stored_settings(app) == {"enabled": True, "daily_time": "07:30", "digest_weekday": 4,
                                    "escalation_enabled": False}
    html = client.get("/admin/reminders").get_data(as_text=True)
    assert 'name="daily_time" value="07:30"' in html and '<option value="4" selected>星期五</option>' in html
    assert 'name="escalation_enabled" value="1" checked' not in html

    unchanged = post_settings(client, daily_time="07:30", digest_weekday="4", escalation_enabled=None)
    assert "提醒设置没有变化。" in text_of(client.get(unchanged.headers["Location"]).get_data(as_text=True))


def test_bad_settings_are_refused_in_chinese_beside_their_fields_and_nothing_is_saved(app, client):
    response = post_settings(client, daily_time="25:00", due_soon_days="三", escalation_days="0")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<p id="error-daily_time" class="field-error" role="alert">应为 时:分 格式的时间，例如 09:00</p>' in html
    assert '<p id="error-due_soon_days" class="field-error" role="alert">应为 1 到 20 之间的整数</p>' in html
    assert '<p id="error-escalation_days" class="field-error" role="alert">应为 1 到 60 之间的整数</p>' in html
    assert 'name="daily_time" value="25:00"' in html          # what was typed stays
    assert stored_settings(app) == {"enabled": True}


def test_the_reminder_pages_are_in_the_admins_menu_only(app, client, personas):
    assert "提醒与发件箱" in client.get("/projects").get_data(as_text=True)
    manager = signed_in(app, personas.manager_a)
    assert "提醒与发件箱" not in manager.get("/projects").get_data(as_text=True)
    assert manager.get("/admin/reminders").status_code == 403


def test_the_settings_page_lists_the_last_runs(reminders):
    from reminders.cycle import run_recorded
    app, p = reminders
    client = signed_in(app, p.admin)
    run_recorded(app.extensions["engine"], CycleConfig(base_url=BASE_URL), "catch-up", at(6), clock=lambda: at(6))
    page = read(client, "/admin/reminders")
    assert "2023-08-06 09:00 补跑 4 0 0 0 完成 未配置 SMTP_HOST：邮件保留在发件箱" in page
    assert "最近一次成功运行于 2023-08-06 09:00" in page


def test_mails_linking_to_this_machine_are_warned_of_on_the_settings_page(app, client):
    warning = "未设置 BASE_URL：邮件中的链接指向 http://127.0.0.1:5000，收件人无法打开。"
    assert warning in text_of(client.get("/admin/reminders").get_data(as_text=True))      # the default
    app.config["BASE_URL"] = "https://jixiao.example.gov.cn/"
    page = text_of(client.get("/admin/reminders").get_data(as_text=True))
    assert "未设置 BASE_URL" not in page and "邮件中的链接 https://jixiao.example.gov.cn" in page


@pytest.mark.parametrize("kind, period, words", [
    ("manager-due-soon", "2023-07", "截止前提醒 · 2023年7月"),
    ("supervisor-digest", "2023-W32", "每周汇总 · 2023年第32周"),
    ("rectify-overdue", "17@20230820", "整改逾期提醒 · 整改事项 #17（2023年8月20日到期）"),
])
def test_a_queued_notice_reads_in_words(kind, period, words):
    from reminders.notices import notice_words
    assert notice_words(kind, period) == words


# --------------------------------------------------------------------------- 发件箱

def test_the_outbox_lists_messages_by_state_and_shows_a_message_text(reminders):
    app, p = reminders
    client = signed_in(app, p.admin)
    run_cycle(app.extensions["engine"], at(6), CycleConfig(base_url=BASE_URL), ONLY_OVERDUE)
    freeze(app, at(6, hour=10))
    page = read(client, "/admin/reminders/outbox")
    assert "未配置邮件服务器（SMTP_HOST）：邮件保留在发件箱中，不会发送" in page
    assert "共 2 封" in page
    assert "tianbao 填报人甲 <tianbao@unit-a.example> 【绩效目标跟踪】7月实际值已逾期（8月5日截止），尚有11项未填报 待发送" in page
    assert "共 0 封" in text_of(client.get("/admin/reminders/outbox?state=sent").get_data(as_text=True))

    mine = next(m for m in messages(app) if m.user_id == p.manager_a.id)
    detail = client.get(f"/admin/reminders/outbox/{mine.id}")
    text = text_of(detail.get_data(as_text=True))
    assert "逾期提醒 · 2023年7月" in text and "manager-overdue" not in text     # a label, not the key
    assert "参展面积｜2023年7月｜灰灯（逾期未填报）" in detail.get_data(as_text=True)
    assert "/resend" not in detail.get_data(as_text=True)     # pending: nothing to resend
    refused = client.post(f"/admin/reminders/outbox/{mine.id}/resend",
                          data={"csrf_token": csrf_token(client, f"/admin/reminders/outbox/{mine.id}")})
    assert refused.status_code == 409
    assert "只有发送失败或状态未知的邮件可以重新发送" in refused.get_data(as_text=True)
    assert client.get("/admin/reminders/outbox/999999").status_code == 404


def test_a_message_left_sending_shows_as_unknown_after_the_timeout_and_an_admin_can_resend_it(reminders):
    app, p = reminders
    client = signed_in(app, p.admin)
    engine = app.extensions["engine"]
    run_cycle(engine, at(6), CycleConfig(base_url=BASE_URL), ONLY_OVERDUE)
    mine = next(m for m in messages(app) if m.user_id == p.manager_a.id)
    with Session(engine) as session, transaction(session):
        assert claim(session, mine.id, at(6), "crashed:1:0")

    freeze(app, at(6) + timedelta(minutes=5))          # still within a send's time: 发送中
    assert "共 1 封" in text_of(client.get("/admin/reminders/outbox?state=sending").get_data(as_text=True))
    assert "共 0 封" in text_of(client.get("/admin/reminders/outbox?state=unknown").get_data(as_text=True))

    freeze(app, at(6) + timedelta(minutes=11))
    listing = text_of(client.get("/admin/reminders/outbox?state=unknown").get_data(as_text=True))
    assert "共 1 封" in listing and "未知" in listing and "重新发送" in listing
    detail = text_of(client.get(f"/admin/reminders/outbox/{mine.id}").get_data(as_text=True))
    assert "邮件可能已发出，也可能没有。系统不会自动重发" in detail

    response = client.post(f"/admin/reminders/outbox/{mine.id}/resend",
                           data={"csrf_token": csrf_token(client, f"/admin/reminders/outbox/{mine.id}")})
    assert response.status_code == 303
    page = text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert f"已将邮件 #{mine.id} 重新加入发送队列" in page and "重新发送 admin 于" in page
    [again] = [m for m in messages(app) if m.id == mine.id]
    assert (again.state, again.attempts, again.claimed_by) == ("pending", 0, None)


# --------------------------------------------------------------------------- /healthz

def test_healthz_is_ok_right_after_installation_although_the_scheduler_never_ran(app, anonymous):
    answer = anonymous.get("/healthz")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["status"] == "ok" and body["scheduler"]["status"] == "ok"
    assert body["scheduler"]["last_run"] is None


def _installed(app, moment: datetime) -> None:
    with Session(app.extensions["engine"]) as session, transaction(session):
        session.get(ReminderSetting, "enabled").updated_at = moment


def _ran(app, moment: datetime, trigger: str = "daily", error: str | None = None) -> None:
    with Session(app.extensions["engine"]) as session, transaction(session):
        session.add(SchedulerRun(trigger=trigger, as_of=moment, started_at=moment, finished_at=moment, error=error))


def test_healthz_reports_a_scheduler_that_has_not_run_for_more_than_26_hours(app, anonymous):
    now = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
    freeze(app, now)
    _installed(app, now - timedelta(days=3))
    answer = anonymous.get("/healthz")
    assert answer.status_code == 503
    assert answer.get_json()["status"] == "error" and answer.get_json()["scheduler"]["status"] == "late"

    _ran(app, now - timedelta(hours=25), trigger="manual")       # `flask reminders send` is not the scheduler
    assert anonymous.get("/healthz").status_code == 503
    _ran(app, now - timedelta(hours=1), error="OperationalError: database is locked")   # failed runs do not count
    assert anonymous.get("/healthz").status_code == 503

    _ran(app, now - timedelta(hours=25))
    body = anonymous.get("/healthz").get_json()
    assert body["status"] == "ok" and body["scheduler"] == {
        "status": "ok", "last_run": (now - timedelta(hours=25)).isoformat(),
        "late_after": (now + timedelta(hours=1)).isoformat()}
    freeze(app, now + timedelta(hours=1, seconds=1))
    assert anonymous.get("/healthz").status_code == 503


def test_healthz_does_not_expect_runs_while_reminders_are_disabled_and_gives_a_day_after_enabling(app, anonymous,
                                                                                                     client):
    now = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
    freeze(app, now)
    _installed(app, now - timedelta(days=30))
    assert post_settings(client, enabled=None).status_code == 303
    answer = anonymous.get("/healthz")
    assert answer.status_code == 200 and answer.get_json()["scheduler"]["status"] == "disabled"

    assert post_settings(client).status_code == 303        # switched on again, now
    assert anonymous.get("/healthz").status_code == 200
    freeze(app, now + timedelta(hours=27))
    assert anonymous.get("/healthz").status_code == 503
