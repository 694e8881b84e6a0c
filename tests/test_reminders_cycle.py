"""What a reminder cycle queues, given the stored data and `now` (reminders/cycle.py): who
gets which notice, listing which items, under which subject; each notice once.

The data (the `reminders` fixture): every project year has complete entries for January to
June (all green). For July, unit A (three projects) has entered 招商引资专项经费 except two
indicators — 参展企业数量 red — with its spending, and 网络运行维护费's indicators but not its
spending; 招商引资业务经费 nothing. Unit B (one project, another 主管部门) has entered nothing
for July. July's entry deadline is 8 月 5 日.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from conftest import PROJECT_A, PROJECT_B
from models.outbox import OutboxMessage, SentNotice
from reminders.cycle import BUDGET, CycleConfig, run_cycle
from reminders.settings import ReminderSettings

SHANGHAI = timezone(timedelta(hours=8))
BASE_URL = "https://jixiao.test"
CONFIG = CycleConfig(deadline_day=5, base_url=BASE_URL, smtp=None)

EMAILS = {"admin": "admin@province.example", "manager_a": "tianbao@unit-a.example",
          "supervisor_a": "shenhe@dept-a.example", "supervisor_all": "shenhe-all@province.example",
          "manager_b": "tianbao-b@unit-b.example"}

BUSINESS, NETWORK = "招商引资业务经费", "网络运行维护费"
NOT_ENTERED_IN_JULY = ("参展面积", "投资者满意度")       # of 招商引资专项经费
RED_IN_JULY = "参展企业数量"


def at(day: int, hour: int = 9, month: int = 8) -> datetime:
    return datetime(2023, month, day, hour, 0, tzinfo=SHANGHAI)


# --------------------------------------------------------------------------- the data

def _green_input(indicator):
    """An entry that meets the target (a green light), whatever the indicator's kind."""
    from domain import rules
    from domain.indicators import effective_measure
    from models.actual import ActualInput
    if effective_measure(indicator) == rules.QUALITATIVE:
        return ActualInput(assessment="达成")
    target = indicator.annual_value
    value = {">=": target, "=": target, ">": target + 1}.get(indicator.annual_op, 0)
    return ActualInput(value=value)


def enter(app, project: str, months, *, skip=(), spending=True, overrides=None):
    """Record actuals (and spending) of `project` for `months`, as its 填报人 would."""
    from decimal import Decimal

    from services.entry import Context, record_actual, record_spending
    from models.db import transaction
    from models.indicator import Indicator
    from models.project import Project, ProjectYear
    overrides = overrides or {}
    with Session(app.extensions["engine"], expire_on_commit=False) as session, transaction(session):
        py = session.exec(select(ProjectYear).join(Project, Project.id == ProjectYear.project_id)
                          .where(Project.name == project)).one()
        indicators = session.exec(select(Indicator).where(Indicator.project_year_id == py.id,
                                                          Indicator.retired_at.is_(None),
                                                          Indicator.annual_raw.is_not(None))).all()
        for month in months:
            ctx = Context("填报人", datetime(2023, month, 28, tzinfo=timezone.utc))
            for ind in indicators:
                if ind.annual_level3 in skip:
                    continue
                data = overrides.get(ind.annual_level3) or _green_input(ind)
                record_actual(session, ind, py, 2023, month, data, ctx)
            if spending:
                amount = (py.annual_total_yuan or Decimal(1200)) * month / 12
                record_spending(session, py, 2023, month, amount, ctx)


def set_emails(app, personas, emails=EMAILS):
    from models.db import transaction
    from models.user import User
    with Session(app.extensions["engine"]) as session, transaction(session):
        for name, address in emails.items():
            user = session.get(User, getattr(personas, name).id)
            user.email = address
            session.add(user)


def reminder_data(app, personas):
    """The data of this module's docstring; returns (app, personas)."""
    from models.actual import ActualInput
    set_emails(app, personas)
    for project in (PROJECT_A, BUSINESS, NETWORK, PROJECT_B):
        enter(app, project, range(1, 7))
    enter(app, PROJECT_A, [7], skip=NOT_ENTERED_IN_JULY,
          overrides={RED_IN_JULY: ActualInput(value=10, deviation_reasons=["其他"])})
    enter(app, NETWORK, [7], spending=False)
    return app, personas


@pytest.fixture
def reminders(personas, seeded):
    return reminder_data(seeded, personas)


# --------------------------------------------------------------------------- reading the outbox

def messages(app) -> list[OutboxMessage]:
    with Session(app.extensions["engine"]) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def notices(app) -> dict[str, list[str]]:
    """username → the notices queued for them, as kind:period."""
    from models.user import User
    with Session(app.extensions["engine"]) as session:
        rows = session.exec(select(User.username, SentNotice.kind, SentNotice.period)
                            .join(User, User.id == SentNotice.user_id).order_by(User.username, SentNotice.kind))
        result: dict[str, list[str]] = {}
        for username, kind, period in rows:
            result.setdefault(username, []).append(f"{kind}:{period}")
        return result


def message_to(app, person) -> OutboxMessage:
    [message] = [m for m in messages(app) if m.user_id == person.id]
    return message


def item_lines(message: OutboxMessage) -> list[str]:
    """The item lines of the plain-text body, without the bullet."""
    return [line.strip()[2:] for line in message.text_body.splitlines() if line.startswith("  · ")]


def cycle(app, now, settings=None):
    return run_cycle(app.extensions["engine"], now, CONFIG, settings)


# --------------------------------------------------------------------------- due soon

def test_three_days_before_the_deadline_each_manager_is_told_what_is_still_missing(reminders):
    app, p = reminders
    report = cycle(app, at(2))

    assert notices(app) == {
        "tianbao": ["manager-due-soon:2023-07"],
        "tianbao_b": ["manager-due-soon:2023-07"],
        # Wednesday: this week's digest (Monday) had not gone out yet, so it is caught up
        "shenhe": ["supervisor-digest:2023-W31"],
        "shenhe_all": ["supervisor-digest:2023-W31"],
    }
    assert len(report.queued) == 4
    mine = message_to(app, p.manager_a)
    assert mine.subject == "【绩效目标跟踪】7月实际值将于8月5日截止，尚有11项未填报"
    assert mine.to_address == "填报人甲 <tianbao@unit-a.example>"
    assert mine.state == "pending"           # no SMTP settings: the mail stays in the outbox
    assert sorted(item_lines(mine)) == sorted(
        [f"{name}｜2023年7月｜未填报" for name in NOT_ENTERED_IN_JULY]
        + [f"{name}｜2023年7月｜未填报" for name in indicators_of(app, BUSINESS)]
        + [f"{BUDGET}｜2023年7月｜未填报"] * 2)   # 招商引资业务经费 and 网络运行维护费
    assert "填报截止日为2023年8月5日（还有3天）" in mine.text_body
    assert f"{BASE_URL}/projects/{p.project_a}?year=2023" in mine.text_body
    theirs = message_to(app, p.manager_b)
    assert theirs.subject == "【绩效目标跟踪】7月实际值将于8月5日截止，尚有8项未填报"
    assert PROJECT_A not in theirs.text_body and PROJECT_B in theirs.text_body


def test_no_reminder_before_the_window_nor_for_what_was_entered(reminders):
    app, p = reminders
    cycle(app, at(1), ReminderSettings(digest_enabled=False))     # four days before: not yet
    assert messages(app) == []
    enter(app, PROJECT_B, [7])
    cycle(app, at(5), ReminderSettings(digest_enabled=False))     # the deadline day itself
    assert notices(app) == {"tianbao": ["manager-due-soon:2023-07"]}
    assert message_to(app, p.manager_a).subject == "【绩效目标跟踪】7月实际值今天（8月5日）截止，尚有11项未填报"


# --------------------------------------------------------------------------- overdue

def test_the_day_after_the_deadline_managers_get_an_overdue_notice_with_grey_items(reminders):
    app, p = reminders
    cycle(app, at(6), ReminderSettings(digest_enabled=False))

    assert notices(app) == {"tianbao": ["manager-overdue:2023-07"], "tianbao_b": ["manager-overdue:2023-07"]}
    mine = message_to(app, p.manager_a)
    assert mine.subject == "【绩效目标跟踪】7月实际值已逾期（8月5日截止），尚有11项未填报"
    assert "已逾期1天" in mine.text_body
    assert all(line.endswith("｜2023年7月｜灰灯（逾期未填报）") for line in item_lines(mine))
    assert len(item_lines(mine)) == 11
    assert message_to(app, p.manager_b).subject == "【绩效目标跟踪】7月实际值已逾期（8月5日截止），尚有8项未填报"


def test_the_same_moment_twice_queues_nothing_new_and_a_later_day_only_what_became_due(reminders):
    app, p = reminders
    first = cycle(app, at(2))
    again = cycle(app, at(2))
    next_day = cycle(app, at(3))
    assert len(first.queued) == 4 and again.queued == [] and next_day.queued == []

    cycle(app, at(6))
    assert notices(app)["tianbao"] == ["manager-due-soon:2023-07", "manager-overdue:2023-07"]
    assert len(messages(app)) == 6


def test_what_was_entered_in_the_meantime_is_not_listed(reminders):
    app, p = reminders
    enter(app, BUSINESS, [7])
    cycle(app, at(6), ReminderSettings(digest_enabled=False))
    lines = item_lines(message_to(app, p.manager_a))
    assert sorted(lines) == sorted([f"{name}｜2023年7月｜灰灯（逾期未填报）" for name in NOT_ENTERED_IN_JULY]
                                   + [f"{BUDGET}｜2023年7月｜灰灯（逾期未填报）"])


def test_after_downtime_every_period_still_missing_is_reported_once_and_a_closed_window_is_skipped(reminders):
    """The cycle was not run from 1 August to 6 September: July's due-soon window closed (its
    overdue notice replaces it); July and August are both overdue, in one message."""
    app, p = reminders
    cycle(app, at(6, month=9), ReminderSettings(digest_enabled=False, escalation_enabled=False))

    assert notices(app)["tianbao"] == ["manager-overdue:2023-07", "manager-overdue:2023-08"]
    mine = message_to(app, p.manager_a)
    assert mine.subject == "【绩效目标跟踪】7月、8月实际值已逾期，尚有41项未填报"   # 11 + all 30 of August
    assert "manager-due-soon" not in mine.key
    cycle(app, at(6, month=9), ReminderSettings(digest_enabled=False, escalation_enabled=False))
    assert len(messages(app)) == 2


def test_a_unit_that_entered_nothing_all_year_gets_one_readable_message(personas, seeded):
    """Installed in August over a year with no entries: every month so far is overdue, in one
    message that lists the first 150 items and says what it left out."""
    app = seeded
    set_emails(app, personas, {"manager_a": EMAILS["manager_a"]})
    cycle(app, at(6))
    [message] = messages(app)
    assert message.subject == "【绩效目标跟踪】1月至7月共7期实际值已逾期，尚有210项未填报"
    assert len(item_lines(message)) == 150
    assert message.text_body.count("……另有30项未列出，请登录系统查看。") == 2      # June's and July's
    assert "【1月实际值已逾期】" in message.text_body and "【7月实际值已逾期】" in message.text_body


def test_a_quarterly_project_is_reminded_of_its_quarters_only(reminders):
    from models.db import transaction
    from models.project import ProjectYear
    app, p = reminders
    with Session(app.extensions["engine"]) as session, transaction(session):
        py = session.exec(select(ProjectYear).where(ProjectYear.project_id == p.project_b)).one()
        py.periods = "quarterly"
    only_managers = ReminderSettings(digest_enabled=False, escalation_enabled=False)
    cycle(app, at(6), only_managers)                 # July is not one of its periods
    assert "tianbao_b" not in notices(app)
    cycle(app, at(6, month=10), only_managers)
    assert notices(app)["tianbao_b"] == ["manager-overdue:2023-09"]
    theirs = message_to(app, p.manager_b)
    assert theirs.subject == "【绩效目标跟踪】第三季度实际值已逾期（10月5日截止），尚有8项未填报"
    assert all("｜2023年第三季度｜" in line for line in item_lines(theirs))


def test_which_periods_and_which_digest_week_a_day_considers():
    from datetime import date

    from reminders.cycle import digest_week, open_periods
    # early January: last December is due; November belonged to last year's reminders
    assert [p.key for p in open_periods(date(2024, 1, 3), 5, 3)] == ["2023-12"]
    # in August: every period whose deadline fell in this calendar year, up to July's (in three days)
    assert [p.key for p in open_periods(date(2023, 8, 2), 5, 3)] == ["2022-12"] + [f"2023-{m:02d}" for m in range(1, 8)]
    assert digest_week(date(2023, 8, 7), 0) == (date(2023, 8, 7), "2023-W32")
    assert digest_week(date(2023, 8, 12), 0) == (date(2023, 8, 7), "2023-W32")    # caught up within the week
    assert digest_week(date(2023, 8, 7), 2) == (date(2023, 8, 2), "2023-W31")


# --------------------------------------------------------------------------- the digest

def test_monday_digest_lists_red_and_overdue_items_within_the_supervisors_scope_only(reminders):
    app, p = reminders
    cycle(app, at(7), ReminderSettings(due_soon_enabled=False, overdue_enabled=False))

    assert notices(app) == {"shenhe": ["supervisor-digest:2023-W32"], "shenhe_all": ["supervisor-digest:2023-W32"]}
    mine = message_to(app, p.supervisor_a)
    # June's entries at the full-year target (p = 2) are 超额: listed after, for information
    assert mine.subject == "【绩效目标跟踪】每周汇总：逾期未填报11项，红灯1项，超额11项"
    lines = item_lines(mine)
    assert "【超额完成（仅供参考）】" in mine.text_body and "超额完成（仅供参考）</h2>" in mine.html_body
    assert mine.text_body.index("【每周汇总") < mine.text_body.index("【超额完成（仅供参考）】")
    assert len([line for line in lines if line.endswith("｜超额（灯为绿）")]) == 11
    assert f"{RED_IN_JULY}｜2023年7月｜红灯" in lines
    assert sorted(line for line in lines if "灰灯" in line) == sorted(
        [f"{name}｜2023年7月｜灰灯（逾期未填报）" for name in NOT_ENTERED_IN_JULY]
        + [f"{name}｜2023年7月｜灰灯（逾期未填报）" for name in indicators_of(app, BUSINESS)]
        + [f"{BUDGET}｜2023年7月｜灰灯（逾期未填报）"] * 2)
    # scope: 山西省商务厅's 审核人 never sees 发改委's unit B
    assert PROJECT_B not in mine.text_body and PROJECT_B not in mine.html_body
    assert "山西省国际经济合作中心" not in mine.text_body
    everything = message_to(app, p.supervisor_all)
    assert everything.subject == "【绩效目标跟踪】每周汇总：逾期未填报19项，红灯1项，超额12项"
    assert f"山西省国际经济合作中心 · {PROJECT_B}（2023年度）" in everything.text_body


def test_the_digest_goes_out_once_a_week_and_not_when_there_is_nothing_to_report(reminders):
    app, p = reminders
    only_digest = ReminderSettings(due_soon_enabled=False, overdue_enabled=False, escalation_enabled=False)
    cycle(app, at(7), only_digest)
    cycle(app, at(8), only_digest)
    cycle(app, at(9), only_digest.model_copy(update={"digest_weekday": 2}))   # moved to Wednesday: same week
    assert notices(app)["shenhe"] == ["supervisor-digest:2023-W32"]
    cycle(app, at(14), only_digest)
    assert notices(app)["shenhe"] == ["supervisor-digest:2023-W32", "supervisor-digest:2023-W33"]

    # a 主管部门 whose units entered everything and are all green gets no digest
    for project in (PROJECT_B,):
        enter(app, project, [7, 8])
    cycle(app, at(11, month=9), only_digest)
    assert not any("W37" in n for n in notices(app).get("tianbao_b", []))


def test_on_new_years_day_the_digest_still_lists_last_years_red_and_grey(reminders):
    """In January the digest covers last year too (its December is due then) — from the first
    day, before any of last year's periods is being reminded of."""
    app, p = reminders
    cycle(app, datetime(2024, 1, 1, 9, 0, tzinfo=SHANGHAI),                 # a Monday
          ReminderSettings(due_soon_enabled=False, overdue_enabled=False, escalation_enabled=False))
    assert notices(app)["shenhe"] == ["supervisor-digest:2024-W01"]
    lines = item_lines(message_to(app, p.supervisor_a))
    assert f"{RED_IN_JULY}｜2023年11月｜灰灯（逾期未填报）" in lines          # 11月: December's window is open


# --------------------------------------------------------------------------- escalation

def test_escalation_only_after_more_than_the_configured_days(reminders):
    app, p = reminders
    only_escalation = ReminderSettings(due_soon_enabled=False, overdue_enabled=False, digest_enabled=False)
    cycle(app, at(10), only_escalation)          # 5 days late: not more than 5
    assert messages(app) == []
    cycle(app, at(11), only_escalation)          # 6 days late

    assert notices(app) == {"shenhe": ["supervisor-escalation:2023-07"],
                            "shenhe_all": ["supervisor-escalation:2023-07"]}
    mine = message_to(app, p.supervisor_a)
    assert mine.subject == "【绩效目标跟踪】督办：1个单位7月实际值逾期超过5天"
    assert sorted(item_lines(mine)) == ["1项未填报｜2023年7月｜灰灯（逾期未填报）",
                                        "2项未填报｜2023年7月｜灰灯（逾期未填报）",
                                        "8项未填报｜2023年7月｜灰灯（逾期未填报）"]
    assert f"山西省投资促进局 · {BUSINESS}（2023年度）" in mine.text_body
    assert "已逾期6天" in mine.text_body
    everything = message_to(app, p.supervisor_all)
    assert everything.subject == "【绩效目标跟踪】督办：2个单位7月实际值逾期超过5天"
    assert f"山西省国际经济合作中心 · {PROJECT_B}（2023年度）" in everything.text_body


def test_one_message_per_user_per_cycle_combines_all_their_notices(reminders):
    app, p = reminders
    cycle(app, at(14))       # Monday, 9 days after July's deadline
    mine = message_to(app, p.supervisor_a)
    me = p.supervisor_a.id
    assert mine.key == f"supervisor-digest:{me}:2023-W33+supervisor-escalation:{me}:2023-07"
    assert mine.subject == ("【绩效目标跟踪】督办：1个单位7月实际值逾期超过5天；"
                            "每周汇总：逾期未填报11项，红灯1项，超额11项")
    assert mine.text_body.index("【督办：7月实际值逾期超过5天】") < mine.text_body.index("【每周汇总（8月14日）】")


# --------------------------------------------------------------------------- who gets nothing

def test_admins_disabled_users_and_users_without_email_get_nothing(reminders):
    from models.db import transaction
    from models.user import User
    app, p = reminders
    with Session(app.extensions["engine"]) as session, transaction(session):
        session.get(User, p.manager_b.id).is_active = False
        session.get(User, p.supervisor_all.id).email = None
    cycle(app, at(6))
    assert sorted(notices(app)) == ["shenhe", "tianbao"]


def test_nothing_is_queued_while_reminders_are_disabled(reminders):
    app, p = reminders
    report = cycle(app, at(6), ReminderSettings(enabled=False))
    assert messages(app) == [] and report.note == "提醒已停用：未生成也未发送邮件"


# --------------------------------------------------------------------------- the email

def test_the_html_body_escapes_data_and_shows_each_light_as_word_and_colour(reminders):
    from models.db import transaction
    from models.project import Project
    app, p = reminders
    with Session(app.extensions["engine"]) as session, transaction(session):
        session.get(Project, p.project_a).name = "<script>alert(1)</script>专项"
    cycle(app, at(7), ReminderSettings(due_soon_enabled=False, overdue_enabled=False))
    html = message_to(app, p.supervisor_a).html_body
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;专项" in html
    assert 'color:#b42318"><span aria-hidden="true">●</span> 红灯' in html
    assert f'href="{BASE_URL}/projects/{p.project_a}?year=2023"' in html
    assert f'href="{BASE_URL}/projects"' in html


def indicators_of(app, project: str) -> list[str]:
    from models.indicator import Indicator
    from models.project import Project, ProjectYear
    with Session(app.extensions["engine"]) as session:
        return list(session.exec(select(Indicator.annual_level3)
                                 .join(ProjectYear, ProjectYear.id == Indicator.project_year_id)
                                 .join(Project, Project.id == ProjectYear.project_id)
                                 .where(Project.name == project, Indicator.annual_raw.is_not(None),
                                        Indicator.retired_at.is_(None))))
