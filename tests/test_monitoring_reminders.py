"""Reminders of monitoring rounds and 整改 items (reminders/monitoring.py), through the same cycle,
outbox and mail as the entry reminders: a 整改 item due soon and overdue, a round's monitoring not
yet submitted; each notice once, so running the cycle twice for the same moment sends nothing new."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from conftest import DEPARTMENT_B, PROJECT_A, add_user
from models.outbox import OutboxMessage
from reminders.cycle import CycleConfig, run_cycle
from reminders.settings import ReminderSettings
from test_reminders_cycle import EMAILS, BASE_URL, messages, notices, set_emails
from test_api import year_of

SHANGHAI = timezone(timedelta(hours=8))
CONFIG = CycleConfig.from_mapping({"BASE_URL": BASE_URL, "MONITORING_ROUNDS": [{"as_of": "07-31", "due": "08-15"}]})
ONLY_MONITORING = ReminderSettings(digest_enabled=False, escalation_enabled=False)


def at(month: int, day: int) -> datetime:
    return datetime(2023, month, day, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def unit(seeded, personas):
    personas.supervisor_b = add_user(seeded, "shenhe_b", "supervisor", department=DEPARTMENT_B)
    set_emails(seeded, personas, EMAILS | {"supervisor_b": "shenhe-b@dept-b.example"})
    return seeded, personas


def raise_item(app, due: date, requirement: str = "参展面积进度滞后，请制定追赶计划") -> int:
    from models.db import get_session, transaction
    from models.project import Project, ProjectYear
    from services.rectifications import RectificationInput, raise_rectification
    py_id, ids = year_of(app, PROJECT_A)
    with app.app_context():
        session = get_session()
        with transaction(session):
            py = session.get(ProjectYear, py_id)
            item = raise_rectification(session, py, session.get(Project, py.project_id),
                                       RectificationInput(indicator_id=ids["参展面积"], requirement=requirement, due=due),
                                       "shenhe", "supervisor", at(8, 6), date(2023, 8, 6))
            return item.id


def cycle(app, now):
    return run_cycle(app.extensions["engine"], now, CONFIG, ONLY_MONITORING)


def only(app, person, kinds: tuple[str, ...]) -> list[OutboxMessage]:
    return [m for m in messages(app) if m.user_id == person.id and any(k in m.kind for k in kinds)]


def test_an_item_due_soon_and_then_overdue_is_mailed_once_each(unit):
    app, p = unit
    item = raise_item(app, date(2023, 8, 20))

    cycle(app, at(8, 16))                                    # four days ahead: nothing yet
    assert only(app, p.manager_a, ("rectify",)) == []
    cycle(app, at(8, 17))                                    # three days ahead: due soon
    [soon] = only(app, p.manager_a, ("rectify",))
    assert soon.subject == f"【绩效目标跟踪】整改事项第{item}号将于8月20日到期"
    assert f"第{item}号 参展面积：参展面积进度滞后，请制定追赶计划｜8月20日到期｜待整改" in soon.text_body
    assert "整改期限为2023年8月20日（还有3天）" in soon.text_body
    assert f"{BASE_URL}/rectifications/{item}" in soon.text_body and f"{BASE_URL}/rectifications/{item}" in soon.html_body
    assert only(app, p.supervisor_a, ("rectify",)) == []     # the unit is reminded, not the 审核人

    before = len(messages(app))
    report = cycle(app, at(8, 17))                           # the same moment again: nothing new
    assert report.queued == [] and len(messages(app)) == before

    cycle(app, at(8, 21))                                    # a day late: the unit and its 审核人
    [late] = [m for m in only(app, p.manager_a, ("rectify",)) if "overdue" in m.kind]
    assert late.subject == f"【绩效目标跟踪】整改事项第{item}号已逾期（8月20日到期）"
    assert "已逾期1天" in late.text_body and "整改逾期" in late.text_body
    [followed] = only(app, p.supervisor_a, ("rectify",))
    assert followed.subject == late.subject and "山西省投资促进局 · 招商引资专项经费（2023年度）" in followed.text_body
    assert [m.subject for m in only(app, p.supervisor_all, ("rectify",))] == [late.subject]
    for stranger in (p.supervisor_b, p.manager_b):           # another 主管部门, another unit
        assert only(app, stranger, ("rectify",)) == []
    assert [n for n in notices(app)["tianbao"] if n.startswith("rectify")] == [
        f"rectify-due-soon:{item}@20230820", f"rectify-overdue:{item}@20230820"]
    before = len(messages(app))
    cycle(app, at(8, 22))
    assert len(messages(app)) == before                      # once, ever


def test_an_answered_item_is_not_overdue_and_a_new_deadline_is_reminded_again(unit):
    app, p = unit
    answered, moved = raise_item(app, date(2023, 8, 10)), raise_item(app, date(2023, 8, 10), "请补充佐证材料")
    from models.db import get_session, transaction
    from models.monitoring import Rectification
    from services.rectifications import AnswerInput, SendBackInput, answer_rectification, send_back_rectification
    with app.app_context():
        session = get_session()
        with transaction(session):
            for item_id in (answered, moved):
                answer_rectification(session, session.get(Rectification, item_id), AnswerInput(measures="m", result="r"),
                                     [], [], "tianbao", "manager", at(8, 8))
            send_back_rectification(session, session.get(Rectification, moved),
                                    SendBackInput(comment="请附合同", due=date(2023, 8, 30)), "shenhe", "supervisor",
                                    at(8, 9), date(2023, 8, 9))
    cycle(app, at(8, 12))
    assert [n for n in notices(app).get("tianbao", []) if n.startswith("rectify")] == []
    cycle(app, at(8, 27))
    assert [n for n in notices(app)["tianbao"] if n.startswith("rectify")] == [f"rectify-due-soon:{moved}@20230830"]


def test_a_round_not_submitted_is_reminded_before_and_after_its_deadline(unit):
    app, p = unit
    from models.db import get_session, transaction
    from models.project import ProjectYear
    from domain.monitoring import Round
    from services.rounds import RoundInput, save_round
    cycle(app, at(8, 11))
    assert only(app, p.manager_a, ("round",)) == []
    cycle(app, at(8, 12))
    [soon] = only(app, p.manager_a, ("round",))
    assert soon.subject == "【绩效目标跟踪】2023年1-7月绩效运行监控将于8月15日截止，尚有3个项目未提交"
    assert "/monitoring/2023-07" in soon.text_body and "绩效运行监控（1-7月）｜8月15日截止｜未提交" in soon.text_body
    [other_unit] = only(app, p.manager_b, ("round",))
    assert "尚有1个项目未提交" in other_unit.subject
    assert only(app, p.supervisor_a, ("round",)) == []

    py_id, _ids = year_of(app, PROJECT_A)
    with app.app_context():
        session = get_session()
        with transaction(session):
            save_round(session, session.get(ProjectYear, py_id), Round(2023, 7, date(2023, 8, 15)),
                       RoundInput(goal_progress="进展顺利", deviation="—", correction="—"), "tianbao", "manager",
                       at(8, 14), date(2023, 8, 14), submit=True, off_track=True)
    cycle(app, at(8, 16))
    late = [m for m in only(app, p.manager_a, ("round",)) if "overdue" in m.kind]
    assert [m.subject for m in late] == ["【绩效目标跟踪】2023年1-7月绩效运行监控已逾期（8月15日截止），尚有2个项目未提交"]
    assert PROJECT_A not in late[0].text_body
